import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { relayerEvidenceSource } from "../../src/auditor/evidenceSource.js";
import { runAudit } from "../../src/auditor/runAudit.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import { DEFAULT_POLICY, type RulePolicy } from "../../src/rules/policy.js";
import { policyHash } from "../../src/rules/policyHash.js";
import { TweiApiError } from "../../src/sdk/createTweiClient.js";
import { publishEvent, readEvent } from "./helpers/siteEvents.js";
import { CHAIN_ID, startTestChain, type TestChain, FREE_PUBLISHING_AMOUNTS } from "./helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs, waitFor } from "./helpers/testRelayer.js";
import { schedulePolicy } from "../helpers/schedulePolicy.js";

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
      ruleAmounts: FREE_PUBLISHING_AMOUNTS,
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

      await schedulePolicy(chain, site.siteId, policyHash(SECOND));

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

/**
 * No drain around a change of policy: events the relayer accepted under the first policy and
 * settled only after the second took effect (by the relayer restarted with it) are replayed by
 * the auditor under the policy in force when they were accepted, and audit clean. The same 30 s
 * read of a 200-word post is 5,000 basis points under the first policy and 2,500 under the second.
 */
describe("auditor and relayer: events accepted under a site's old policy, settled under its new one", function () {
  this.timeout(180_000);
  let chain: TestChain;
  const dirs = tempDirs();

  before(async function () {
    chain = await startTestChain({
      ruleAmounts: FREE_PUBLISHING_AMOUNTS,
    });
  });
  after(async function () {
    await chain?.stop();
    await dirs.removeAll();
  });

  it("audits clean, each event under the policy in force at its acceptance", async function () {
    const dataDir = await dirs.make("accepted-before-change");
    const site = await addSite(chain, dataDir, 1); // commits DEFAULT_POLICY
    const [author, reader] = [chain.user(0).address, chain.user(1).address];
    // The first relayer holds what it accepts (no batch before 100 events or 10 minutes).
    let relayer = await startTestRelayer(chain, dataDir, {
      batcher: { intervalMs: 200, minEvents: 100, maxWaitMs: 600_000, stuckAfterMs: 5_000 },
    });
    try {
      const answer = await clientFor(chain, relayer.url, site).sendEvents([
        { ...publishEvent("pub", author, "p"), wordCount: 200 } as SiteEventInput,
        { ...readEvent("read", reader, "p"), secondsRead: 30 } as SiteEventInput,
      ]);
      expect(answer.counts.accepted).to.equal(2);
    } finally {
      await relayer.stop();
    }
    await schedulePolicy(chain, site.siteId, policyHash(SECOND));
    relayer = await startTestRelayer(chain, dataDir, { policy: SECOND });
    try {
      const client = clientFor(chain, relayer.url, site);
      await waitFor("the read settled", async () =>
        (await client.event("read")).status === "settled" ? true : undefined,
      );
      const result = await runAudit({
        publicClient: chain.publicClient,
        deployment: { ...chain.deployed, chainId: CHAIN_ID },
        evidence: relayerEvidenceSource(relayer.url),
      });
      expect(result.discrepancies).to.deep.equal([]);
      expect(result.summary.sitePolicies.map((p) => p.policyHash)).to.deep.equal([policyHash(SECOND)]);
    } finally {
      await relayer.stop();
    }
  });
});
