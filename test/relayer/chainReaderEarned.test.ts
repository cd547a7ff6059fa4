import { expect } from "chai";
import { network } from "hardhat";
import { describe, it } from "mocha";
import { getAddress, parseUnits, type PublicClient } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { amountFor, DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { createChainReader } from "../../src/relayer/chain/chainReader.js";
import { action, packBatch, rootOf } from "../helpers/batches.js";
import { deployForTest } from "../helpers/deployForTest.js";

const { viem, networkHelpers } = await network.create();

const SITE = 4;
const POST = 91n;
/** Blocks `earned` reads again at each look in these tests: small, so mints pass below it within a test. */
const DEPTH = 3n;
const READ = amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.ReadToEarn, 10_000);

async function fixture() {
  const deployment = await deployForTest(viem);
  const { wallets, ledger, token, publicClient } = deployment;
  const [, , signer, author, reader, other] = wallets as [...typeof wallets];
  if (!signer || !author || !reader || !other) throw new Error("the test network needs six accounts");
  await ledger.write.registerSite([SITE, signer.account.address, parseUnits("1000000", 18), parseUnits("1000000", 18)]);
  // Batch ids only grow (loadFixture rewinds the chain, not this counter: an id is never reused).
  let nextBatch = 1n;
  const users = { author: getAddress(author.account.address), reader: getAddress(reader.account.address) };
  const settle = async (packed: ReturnType<typeof packBatch>) => {
    const hash = await deployment.ledgerAsRelayer.write.settle([nextBatch++, SITE, 1, rootOf("earned"), packed]);
    await publicClient.waitForTransactionReceipt({ hash });
  };
  // The post, registered with another reader's read (the reader has earned nothing yet).
  await settle(
    packBatch(
      [{ postId: POST, author: users.author }],
      [action(getAddress(other.account.address), ActionKind.ReadToEarn, POST, 10_000)],
    ),
  );
  /** Settles a batch paying the reader one full read. */
  const payARead = () => settle(packBatch([], [action(users.reader, ActionKind.ReadToEarn, POST, 10_000)]));
  /** A relayer's chain reader; `fundsTtlMs` is how long it keeps a total. */
  const readerWith = (fundsTtlMs: number) =>
    createChainReader({
      publicClient: publicClient as unknown as PublicClient,
      ledger: ledger.address,
      token: token.address,
      fundsTtlMs,
      ruleSetTtlMs: 10_000,
      deploymentBlock: 0n,
      earnedReorgDepth: DEPTH,
    });
  return { ...deployment, users, payARead, readerWith };
}

// Issue 21, item 4: a reader's level (src/core/levels.ts) is the curve's for what the chain minted
// to them. The relayer kept that total a minute, so after a settlement the level lagged the balance.
describe("the relayer's chain reader: earned (what the chain minted to an account)", function () {
  it("sees a settlement's mints at once once the settling relayer forgets the account", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const reader = f.readerWith(60_000);
    expect(await reader.earned(f.users.reader)).to.equal(0n);
    await f.payARead();
    // Kept for fundsTtlMs: a lookup right after the batch may still say the old total…
    expect(await reader.earned(f.users.reader)).to.equal(0n);
    // …until the settlement forgets the accounts it paid (settlement/track.ts include()).
    reader.forgetAccounts([f.users.reader]);
    expect(await reader.earned(f.users.reader)).to.equal(READ);
  });

  it("on a relayer that did not settle (an API-only instance), the new total after fundsTtlMs", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const reader = f.readerWith(0);
    expect(await reader.earned(f.users.reader)).to.equal(0n);
    await f.payARead();
    expect(await reader.earned(f.users.reader)).to.equal(READ);
  });

  it("adds the mints that sink below the re-read depth once, and keeps counting new ones", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const reader = f.readerWith(0);
    for (let paid = 1n; paid <= 4n; paid++) {
      await f.payARead();
      expect(await reader.earned(f.users.reader), `after ${paid} reads`).to.equal(paid * READ);
      // The earlier mints sink below the depth: summed once, not again, not lost.
      await networkHelpers.mine(Number(DEPTH));
      expect(await reader.earned(f.users.reader), `after ${paid} reads, mined past`).to.equal(paid * READ);
    }
    // A fresh reader (a restarted relayer) sums from the deployment and agrees.
    expect(await f.readerWith(0).earned(f.users.reader)).to.equal(4n * READ);
  });

  it("forgets a mint that a reorg removed within the re-read depth", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const reader = f.readerWith(0);
    await f.payARead();
    await networkHelpers.mine(Number(DEPTH) + 1);
    expect(await reader.earned(f.users.reader)).to.equal(READ);
    const fork = await networkHelpers.takeSnapshot();
    await f.payARead();
    expect(await reader.earned(f.users.reader)).to.equal(2n * READ);
    // The chain goes back before the second batch and grows another way, without it.
    await fork.restore();
    await networkHelpers.mine(2);
    expect(await reader.earned(f.users.reader)).to.equal(READ);
  });
});
