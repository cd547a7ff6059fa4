import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { keccak256, stringToBytes, type Hex } from "viem";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { waitForSuccess } from "../../src/chain/waitForSuccess.js";
import { DEFAULT_POLICY, type RulePolicy } from "../../src/rules/policy.js";
import { policyHash } from "../../src/rules/policyHash.js";
import { STORES } from "../helpers/postgres.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { testStores } from "./helpers/testStores.js";
import { addSite, startTestRelayer } from "./helpers/testRelayer.js";

const SECOND: RulePolicy = { ...DEFAULT_POLICY, wordsPerMinute: 100 };

/**
 * The relayer keeps every policy document it has applied (its store, from each start whose
 * checks pass), so an auditor replaying batches settled under an earlier policy still finds it
 * at GET /v1/policies/:hash after the policy changed and the relayer restarted.
 */
describe("relayer: GET /v1/policies/:hash serves every policy it has applied, after a change and a restart", function () {
  this.timeout(180_000);
  let chain: TestChain;
  const stores = STORES.map(testStores);

  before(async function () {
    chain = await startTestChain(); // no change delay: a new policy is in force at once
    for (const store of stores) await store.start();
  });
  after(async function () {
    await chain?.stop();
    for (const store of stores) await store.stop();
  });

  const document = async (url: string, hash: Hex) => {
    const answer = await fetch(`${url}/v1/policies/${hash}`);
    return { status: answer.status, text: await answer.text() };
  };

  for (const [index, stores_] of stores.entries())
    it(`on ${stores_.kind}`, async function () {
      const store = await stores_.fresh("past-policies");
      const siteId = 4_300 + index;
      await addSite(chain, store.dataDir, siteId, { databaseUrl: store.databaseUrl }); // commits DEFAULT_POLICY
      const first = policyHash(DEFAULT_POLICY);
      const second = policyHash(SECOND);

      const before = await startTestRelayer(chain, store.dataDir, store.config);
      try {
        expect((await document(before.url, first)).status).to.equal(200);
        expect((await document(before.url, second)).status).to.equal(404);
      } finally {
        await before.stop();
      }

      // The policy admin commits the second policy; the relayer restarts with it.
      await waitForSuccess(
        chain.publicClient,
        await chain.admin.writeContract({
          address: chain.deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "schedulePolicy",
          args: [siteId, second],
          chain: chain.chain,
        } as never),
      );
      for (let restart = 0; restart < 2; restart++) {
        const relayer = await startTestRelayer(chain, store.dataDir, { ...store.config, policy: SECOND });
        try {
          const past = await document(relayer.url, first);
          expect(past.status).to.equal(200);
          expect(keccak256(stringToBytes(past.text))).to.equal(first);
          expect(JSON.parse(past.text)).to.deep.equal(DEFAULT_POLICY);
          const now = await document(relayer.url, second);
          expect(keccak256(stringToBytes(now.text))).to.equal(second);
          const never = await document(relayer.url, policyHash({ ...SECOND, wordsPerMinute: 50 }));
          expect(never.status).to.equal(404);
          expect(JSON.parse(never.text)).to.deep.include({ code: "policy_not_found" });
        } finally {
          await relayer.stop();
        }
      }
    });
});
