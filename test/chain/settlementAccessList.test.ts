import { expect } from "chai";
import { network } from "hardhat";
import { describe, it } from "mocha";
import { getAddress, maxUint256, parseUnits, type Address, type Hex } from "viem";
import { allowanceSlotOf, balanceSlotOf, settlementAccessList } from "../../src/chain/settlementAccessList.js";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS, amountFor } from "../../src/core/ruleSet.js";
import { action, packBatch, rootOf } from "../helpers/batches.js";
import { deployForTest } from "../helpers/deployForTest.js";

const { viem, networkHelpers } = await network.create();

const SITE = 3;
const POST = 77n;
const twei = (value: string) => parseUnits(value, 18);

async function fixture() {
  const deployment = await deployForTest(viem, { unitBounds: [10_000, ...Array.from({ length: 12 }, () => 65_535)] });
  const { wallets, ledger, token } = deployment;
  const [, , signer, author, reader, buyer] = wallets as [...typeof wallets];
  if (!signer || !author || !reader || !buyer) throw new Error("the test network needs six accounts");
  await ledger.write.registerSite([SITE, signer.account.address, twei("1000000"), twei("1000000")]);
  const buyerToken = await viem.getContractAt("Twei", token.address, { client: { wallet: buyer } });
  await buyerToken.write.approve([ledger.address, maxUint256 - 1n]);
  let nextBatch = 1n;
  const settle = async (packed: Hex, withList: boolean) => {
    const hash = await deployment.ledgerAsRelayer.write.settle([nextBatch++, SITE, 1, rootOf("list"), packed], {
      ...(withList
        ? { accessList: settlementAccessList({ token: token.address, ledger: ledger.address, actions: packed }) }
        : {}),
    });
    return deployment.publicClient.waitForTransactionReceipt({ hash });
  };
  const users = {
    author: getAddress(author.account.address),
    reader: getAddress(reader.account.address),
    buyer: getAddress(buyer.account.address),
  };
  await settle(
    packBatch(
      [{ postId: POST, author: users.author }],
      [
        action(users.reader, ActionKind.CommentRewards, POST, 5),
        action(users.buyer, ActionKind.CommentRewards, POST, 5),
        // A first burn, so that the ledger's burn windows are written before the measured batches.
        action(users.buyer, ActionKind.PnLReports, POST),
      ],
    ),
    true,
  );
  return { ...deployment, users, settle };
}

const storageAt = (f: Awaited<ReturnType<typeof fixture>>, slot: Hex) =>
  f.publicClient.getStorageAt({ address: f.token.address, slot }).then((value) => BigInt(value ?? "0x0"));

describe("settlementAccessList", function () {
  it("lists the token's balance slot of every account and the allowance slot of every account with a burn", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const { reader, buyer } = f.users;
    const packed = packBatch(
      [],
      [
        action(reader, ActionKind.LikesOwn, POST),
        action(buyer, ActionKind.LikesOwn, POST),
        action(buyer, ActionKind.PnLReports, POST),
      ],
    );
    const list = settlementAccessList({ token: f.token.address, ledger: f.ledger.address, actions: packed });
    expect(list).to.deep.equal([
      {
        address: f.token.address,
        storageKeys: [balanceSlotOf(reader), balanceSlotOf(buyer), allowanceSlotOf(buyer, f.ledger.address)],
      },
    ]);
    // The slots are where the token keeps them: what the chain stores there is what it reports.
    for (const account of [reader, buyer] as Address[])
      expect(await storageAt(f, balanceSlotOf(account))).to.equal(await f.token.read.balanceOf([account]));
    expect(await storageAt(f, allowanceSlotOf(buyer, f.ledger.address))).to.equal(
      await f.token.read.allowance([buyer, f.ledger.address]),
    );
    expect(settlementAccessList({ token: f.token.address, ledger: f.ledger.address, actions: "0x00" })).to.deep.equal(
      [],
    );
  });

  it("makes the same settlement cheaper by 100 gas per listed slot, less the token's entry", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const { reader, buyer } = f.users;
    const batch = () =>
      packBatch(
        [],
        [
          action(reader, ActionKind.LikesOwn, POST),
          action(buyer, ActionKind.LikesOwn, POST),
          action(buyer, ActionKind.PnLReports, POST),
        ],
      );
    const without = await f.settle(batch(), false);
    const withList = await f.settle(batch(), true);
    expect(without.status).to.equal("success");
    expect(withList.status).to.equal("success");
    // Three slots listed (1,900 + a warm read's 100, against a cold read's 2,100) and the token
    // (2,400 + a warm call's 100, against a cold call's 2,600): 400 gas less, to the unit.
    expect(without.gasUsed - withList.gasUsed).to.equal(400n);
    const likes = amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.LikesOwn, 1);
    expect(await f.token.read.balanceOf([reader])).to.equal(
      amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.CommentRewards, 5) + 2n * likes,
    );
  });
});
