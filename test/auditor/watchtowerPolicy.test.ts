import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import type { Address } from "viem";
import { PAUSE_SAFE_CODES } from "../../src/auditor/discrepancy.js";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { DEFAULT_POLICY } from "../../src/rules/policy.js";
import { policyHash } from "../../src/rules/policyHash.js";
import { writeTestDeployment } from "../relayer/helpers/relayerProcess.js";
import { privateKeyOf } from "../relayer/helpers/testChain.js";
import { tempDirs, waitFor } from "../relayer/helpers/testRelayer.js";
import { SITE_ID, startCraftedChain, type CraftedChain } from "./helpers/craftedChain.js";
import { startWatchtower } from "./helpers/watchtowerProcess.js";
import { schedulePolicy } from "../helpers/schedulePolicy.js";

/**
 * A site policy document that reaches the archive late is what late evidence is: its batch is
 * `policy_unavailable` (never a pause code), as is the site's next batch under that policy; the watchtower
 * looks for the document again and clears the rows once it is there, and never pauses.
 */
describe("watchtower: a site policy document missing from the archive, then found", function () {
  this.timeout(180_000);
  const dirs = tempDirs();
  let chain: CraftedChain;
  let root: string;

  before(async function () {
    chain = await startCraftedChain();
    root = await dirs.make("watch-policy");
    await writeTestDeployment(chain, root);
    await schedulePolicy(chain, SITE_ID, policyHash(DEFAULT_POLICY));
  });
  after(async function () {
    await chain?.stop();
    await dirs.removeAll();
  });

  it("policy_unavailable for each batch under the missing document, cleared when it arrives; no pause", async function () {
    const watch = startWatchtower(
      [
        ...["--deployments-root", root, "--network", "test", "--rpc", chain.node.url],
        // One confirmation: a batch is audited once the block after it is mined, after its file is written.
        ...["--evidence-dir", chain.evidenceDir, "--follow", "--poll-ms", "100", "--confirmations", "1"],
        ...["--pause-on", PAUSE_SAFE_CODES.join(",")],
      ],
      { TWEI_PAUSER_KEY: privateKeyOf(0) },
    );
    try {
      await waitFor("the watchtower to start", async () => (watch.of("audited").length > 0 ? true : undefined));
      const e = chain.event;
      const user = (i: number) => chain.user(i).address as Address;
      const a = (
        await chain.settle([
          e("post_published", "publish", user(0), "p", { wordCount: 200 }),
          e("post_read", "read-1", user(1), "p", { secondsRead: 30 }),
        ])
      ).batchId.toString();
      await chain.rpc("evm_mine");
      const unavailable = await waitFor("A's policy_unavailable", async () =>
        watch.of("discrepancy").find((d) => d.batchId === a),
      );
      expect(unavailable.code).to.equal("policy_unavailable");
      expect(unavailable.expected).to.include(policyHash(DEFAULT_POLICY));
      const b = (await chain.settle([e("post_read", "read-2", user(2), "p", { secondsRead: 30 })])).batchId.toString();
      await chain.rpc("evm_mine");
      await waitFor("B's row", async () => watch.of("discrepancy").find((d) => d.batchId === b));
      expect(watch.of("discrepancy").map((d) => [d.code, d.batchId])).to.deep.equal([
        ["policy_unavailable", a],
        ["policy_unavailable", b], // settled under the same policy: its own row, not a dependent one
      ]);

      await chain.publishPolicy(DEFAULT_POLICY);
      const cleared = await waitFor(
        "both rows cleared",
        async () => (watch.of("cleared").length >= 2 ? watch.of("cleared") : undefined),
        90_000,
      );
      expect(cleared.map((c) => [c.code, c.batchId]).sort()).to.deep.equal(
        [
          ["policy_unavailable", a],
          ["policy_unavailable", b],
        ].sort(),
      );
      // One re-audit, started by whichever of the two batches' retries looked first.
      const reaudits = watch.of("reaudit").map((r) => r.reason);
      expect(reaudits).to.have.length(1);
      expect(
        [a, b].map((id) => `the policy document ${policyHash(DEFAULT_POLICY)} of batch ${id} was found`),
      ).to.include(reaudits[0]);
      expect(watch.of("paused")).to.deep.equal([]);
      expect(
        await chain.publicClient.readContract({
          address: chain.deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "paused",
        }),
      ).to.equal(false);
    } finally {
      expect(await watch.stop()).to.equal(0);
    }
  });
});
