import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { keccak256, stringToBytes, type Address, type Hex } from "viem";
import { relayerEvidenceSource } from "../../src/auditor/evidenceSource.js";
import { runAudit } from "../../src/auditor/runAudit.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import { DEFAULT_POLICY, type RulePolicy } from "../../src/rules/policy.js";
import { policyHash } from "../../src/rules/policyHash.js";
import { STORES } from "../helpers/postgres.js";
import { publishEvent, readEvent } from "./helpers/siteEvents.js";
import { CHAIN_ID, startTestChain, type TestChain, FREE_PUBLISHING_AMOUNTS } from "./helpers/testChain.js";
import { testStores } from "./helpers/testStores.js";
import { addSite, clientFor, startTestRelayer, tempDirs, waitFor } from "./helpers/testRelayer.js";
import { schedulePolicy } from "../helpers/schedulePolicy.js";

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
      await schedulePolicy(chain, siteId, second);
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

/**
 * The "done when": the relayer settles a site's batches under its first policy, the
 * policy admin commits a second (in force at once on this chain), the relayer restarts with it and
 * settles more; the auditor, given only the relayer's URL, replays each batch with the policy in
 * force at its block and finds nothing. The same 30 s read of a 200-word post is 5,000 basis
 * points under the first policy and 2,500 under the second.
 */
describe("auditor and relayer: two policies of one site, audited from the relayer told neither", function () {
  this.timeout(180_000);
  let chain: TestChain;
  const dirs = tempDirs();

  before(async function () {
    // Publishing is free here (nobody holds Twei on a fresh chain).
    chain = await startTestChain({
      ruleAmounts: FREE_PUBLISHING_AMOUNTS,
    });
  });
  after(async function () {
    await chain?.stop();
    await dirs.removeAll();
  });

  it("audits clean, each batch under the policy in force at its block", async function () {
    const dataDir = await dirs.make("two-policies");
    const site = await addSite(chain, dataDir, 1); // commits DEFAULT_POLICY
    const [author, first, second] = [chain.user(0).address, chain.user(1).address, chain.user(2).address];
    const read = (eventId: string, user: Address) =>
      ({ ...readEvent(eventId, user, "p"), secondsRead: 30 }) as SiteEventInput;
    const settled = (url: string, eventId: string) =>
      waitFor(`${eventId} settled`, async () =>
        (await clientFor(chain, url, site).event(eventId)).status === "settled" ? true : undefined,
      );

    let relayer = await startTestRelayer(chain, dataDir);
    try {
      await clientFor(chain, relayer.url, site).sendEvents([
        { ...publishEvent("pub", author, "p"), wordCount: 200 } as SiteEventInput,
        read("read-first", first),
      ]);
      await settled(relayer.url, "read-first");
    } finally {
      await relayer.stop();
    }
    await schedulePolicy(chain, 1, policyHash(SECOND));
    relayer = await startTestRelayer(chain, dataDir, { policy: SECOND });
    try {
      await clientFor(chain, relayer.url, site).sendEvents([read("read-second", second)]);
      await settled(relayer.url, "read-second");
      const deployment = { ...chain.deployed, chainId: CHAIN_ID };
      const result = await runAudit({
        publicClient: chain.publicClient,
        deployment,
        evidence: relayerEvidenceSource(relayer.url),
      });
      expect(result.discrepancies).to.deep.equal([]);
      expect(result.summary.sitePolicies.map((p) => p.policyHash)).to.deep.equal([
        policyHash(DEFAULT_POLICY),
        policyHash(SECOND),
      ]);
    } finally {
      await relayer.stop();
    }
  });
});
