import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { parseUnits } from "viem";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { waitForSuccess } from "../../src/chain/waitForSuccess.js";
import type { DecodedRevert } from "../../src/chain/decodeRevert.js";
import { ActionKind } from "../../src/core/kinds.js";
import { classifyRevert } from "../../src/relayer/settlement/classifyRevert.js";
import { STORES } from "../helpers/postgres.js";
import { publishEvent, readEvent } from "./helpers/siteEvents.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, startTestRelayer } from "./helpers/testRelayer.js";
import { handReady, testStores } from "./helpers/testStores.js";

const twei = (value: string) => parseUnits(value, 18);

describe("classifyRevert: every cap is a wait", function () {
  it("classes the ledger's four cap errors (mints and burns, overall and the site's) as `cap`, never `poison`", function () {
    const revert = (name: string): DecodedRevert => ({ name, args: [], data: "0x00000000" });
    for (const name of [
      "TweiLedgerEmissionCapExceeded",
      "TweiLedgerSiteEmissionCapExceeded",
      "TweiLedgerBurnCapExceeded",
      "TweiLedgerSiteBurnCapExceeded",
    ])
      expect(classifyRevert(revert(name)).kind, name).to.equal("cap");
  });
});

for (const store of STORES)
  describe(`relayer on ${store}: a batch over the site's burn cap waits for room, its events are never failed`, function () {
    this.timeout(120_000);
    let chain: TestChain;
    const stores = testStores(store);

    before(async function () {
      chain = await startTestChain();
      await stores.start();
    });
    after(async function () {
      await chain?.stop();
      await stores.stop();
    });

    it("settles what fits under the burn cap, keeps the crossing publication (and the read that needs its post) pending, and settles them once there is room", async function () {
      const SITE = 31;
      const { dataDir, config, byHand } = await stores.fresh("burncap");
      const site = await addSite(chain, dataDir, SITE, config);
      const author = chain.user(2);
      const reader = chain.user(3).address;
      // 20 Twei to pay two publications (5 Twei each); then the site may burn 7 Twei an epoch.
      await chain.seed(SITE, [{ account: author.address, kind: ActionKind.CommentRewards, units: 10 }]);
      await chain.approveLedger(author);
      await waitForSuccess(
        chain.publicClient,
        await chain.admin.writeContract({
          address: chain.deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "scheduleSiteCaps",
          args: [SITE, twei("1000"), twei("7")],
          chain: chain.chain,
        }),
      );
      const relayer = await startTestRelayer(chain, dataDir, byHand({}));
      await handReady(relayer);
      try {
        const client = clientFor(chain, relayer.url, site);
        const answer = await client.sendEvents([
          publishEvent("pub-1", author.address, "p1"),
          publishEvent("pub-2", author.address, "p2"),
          readEvent("read-2", reader, "p2"),
        ]);
        expect(answer.counts.accepted).to.equal(3);

        await relayer.batcher.tick(); // the first publication fits; the second would cross the burn cap
        const statuses = async () =>
          (await Promise.all(["pub-1", "pub-2", "read-2"].map((id) => client.event(id)))).map((e) => [
            e.status,
            (e.failure as { code?: string } | null)?.code,
          ]);
        expect(await statuses()).to.deep.equal([
          ["settled", undefined],
          ["pending", undefined],
          ["pending", undefined],
        ]);
        await relayer.batcher.tick(); // still the same epoch: they wait
        expect((await statuses()).slice(1)).to.deep.equal([
          ["pending", undefined],
          ["pending", undefined],
        ]);

        // Two epochs on, the sliding window holds nothing of the first burn: room again.
        const epochLength = await chain.publicClient.readContract({
          address: chain.deployed.ledger,
          abi: tweiLedgerAbi,
          functionName: "epochLength",
        });
        await chain.rpc("evm_increaseTime", [Number(epochLength) * 2]);
        await chain.rpc("evm_mine");
        await relayer.batcher.tick();
        expect(await statuses()).to.deep.equal([
          ["settled", undefined],
          ["settled", undefined],
          ["settled", undefined],
        ]);
        expect(await chain.balanceOf(reader)).to.equal(twei("1"));
        expect(await chain.balanceOf(author.address)).to.equal(twei("10"));
      } finally {
        await relayer.stop();
      }
    });
  });
