import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { waitForSuccess } from "../../src/chain/waitForSuccess.js";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { DEFAULT_POLICY, type RulePolicy } from "../../src/rules/policy.js";
import { policyHash } from "../../src/rules/policyHash.js";
import { TweiApiError } from "../../src/sdk/createTweiClient.js";
import { publishEvent, readEvent } from "./helpers/siteEvents.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs } from "./helpers/testRelayer.js";

const SECOND: RulePolicy = { ...DEFAULT_POLICY, wordsPerMinute: 100 };

/**
 * A running relayer checks the site's policy in force at the block each envelope would be
 * accepted under: once the policy admin commits another, it refuses new envelopes (503
 * `policy_changed`, retryable) until restarted with it, so nothing is accepted under a policy
 * the auditor would not replay it with.
 */
describe("relayer: refuses envelopes once another policy is in force for the site", function () {
  this.timeout(120_000);
  let chain: TestChain;
  const dirs = tempDirs();

  before(async function () {
    // No change delay: a new policy is in force at once. Publishing is free (nobody holds Twei).
    chain = await startTestChain({
      ruleAmounts: DEFAULT_RULE_AMOUNTS.map((amount, kind) => (kind === ActionKind.PostPublishTribute ? 0n : amount)),
    });
  });
  after(async function () {
    await chain?.stop();
    await dirs.removeAll();
  });

  it("503 policy_changed with Retry-After, naming the site and both hashes; nothing of the envelope is stored", async function () {
    const dataDir = await dirs.make("policy-changed");
    const site = await addSite(chain, dataDir, 1); // commits DEFAULT_POLICY
    const relayer = await startTestRelayer(chain, dataDir);
    try {
      const client = clientFor(chain, relayer.url, site);
      const [author, user, later] = [chain.user(0).address, chain.user(1).address, chain.user(2).address];
      const before = await client.sendEvents([
        { ...publishEvent("pub", author, "p"), wordCount: 200 } as SiteEventInput,
        readEvent("read-before", user, "p"),
      ]);
      expect(before.counts.accepted).to.equal(2);

      await waitForSuccess(
        chain.publicClient,
        await chain.admin.writeContract({
          address: chain.deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "schedulePolicy",
          args: [site.siteId, policyHash(SECOND)],
          chain: chain.chain,
        } as never),
      );

      const { body } = await client.signEvents([readEvent("read-after", later, "p")], 42n);
      const answer = await fetch(`${relayer.url}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${site.apiKey}`, "content-type": "application/json" },
        body,
      });
      expect(answer.status).to.equal(503);
      expect(answer.headers.get("content-type")).to.match(/^application\/problem\+json/);
      expect(Number(answer.headers.get("retry-after"))).to.be.greaterThan(0);
      const problem = (await answer.json()) as { code: string; detail: string };
      expect(problem.code).to.equal("policy_changed");
      expect(problem.detail).to.include(`site ${site.siteId}`);
      expect(problem.detail).to.include(policyHash(SECOND));
      expect(problem.detail).to.include(policyHash(DEFAULT_POLICY));

      const stored = await client.event("read-after").catch((error: unknown) => error);
      expect(stored).to.be.instanceOf(TweiApiError);
      expect((stored as TweiApiError).status).to.equal(404);
    } finally {
      await relayer.stop();
    }
  });
});
