import { expect } from "chai";
import { network } from "hardhat";
import { describe, it } from "mocha";
import { getAddress, maxUint256, parseEventLogs, parseUnits, zeroAddress, type Address } from "viem";
import { tweiAbi, tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind, BPS, FIRST_BURN_KIND, KINDS } from "../../src/core/kinds.js";
import {
  encodePackedActions,
  groupByAccount,
  type AccountAction,
  type AccountGroup,
} from "../../src/core/packedActions.js";
import { DEFAULT_RULE_AMOUNTS, amountFor } from "../../src/core/ruleSet.js";
import { packBatch, rootOf } from "../helpers/batches.js";
import { deployForTest } from "../helpers/deployForTest.js";
import { prng } from "../../src/devnet/prng.js";

const { viem, networkHelpers } = await network.create();

const SITE = 3;
const BATCHES = 40;

async function fixture() {
  const deployment = await deployForTest(viem, {
    emissionCap: parseUnits("1000000000", 18),
    burnCap: parseUnits("1000000000", 18),
    unitBounds: [10_000, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4],
  });
  const { ledger, wallets } = deployment;
  await ledger.write.registerSite([
    SITE,
    wallets[0]!.account.address,
    parseUnits("1000000000", 18),
    parseUnits("1000000000", 18),
  ]);
  const users = wallets.slice(2, 14);
  // Half the users let the ledger burn without limit, a quarter a little, the rest nothing.
  const allowances = new Map<Address, bigint>();
  for (const [i, wallet] of users.entries()) {
    const allowance = i % 2 === 0 ? maxUint256 : i % 4 === 1 ? parseUnits("3", 18) : 0n;
    allowances.set(getAddress(wallet.account.address), allowance);
    if (allowance === 0n) continue;
    const token = await viem.getContractAt("Twei", deployment.token.address, { client: { wallet } });
    await token.write.approve([ledger.address, allowance]);
  }
  const authors = users.slice(0, 5).map((w) => getAddress(w.account.address));
  const posts = authors.map((author, i) => ({ postId: BigInt(100 + i), author }));
  await deployment.ledgerAsRelayer.write.settle([1n, SITE, 1, rootOf("posts"), packBatch(posts, [])]);
  const smallAllowanceWallets = users.filter((_, i) => i % 4 === 1);
  return {
    ...deployment,
    users: users.map((w) => getAddress(w.account.address)),
    smallAllowanceWallets,
    allowances,
    posts,
  };
}

describe("TweiLedger invariants", function () {
  it("keeps supply equal to mints minus burns, and every balance to the rules, over random batches (some naming an account twice)", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const random = prng(5);
    const balances = new Map<Address, bigint>(f.users.map((u) => [u, 0n]));
    const allowances = new Map(f.allowances);
    let minted = 0n;
    let burned = 0n;
    let shortfallCount = 0;
    let drainedByEarlierGroup = 0;
    const pay = (account: Address, amount: bigint) => {
      balances.set(account, balances.get(account)! - amount);
      const allowance = allowances.get(account)!;
      if (allowance !== maxUint256) allowances.set(account, allowance - amount);
      burned += amount;
    };

    for (let batch = 0; batch < BATCHES; batch++) {
      // Every fourth batch the users with a small allowance grant a fresh one, as a permit
      // would: often enough for some of their burns and not all.
      if (batch % 4 === 3) {
        for (const wallet of f.smallAllowanceWallets) {
          const token = await viem.getContractAt("Twei", f.token.address, { client: { wallet } });
          await token.write.approve([f.ledger.address, parseUnits("2", 18)]);
          allowances.set(getAddress(wallet.account.address), parseUnits("2", 18));
        }
      }
      const actions: AccountAction[] = [];
      const count = 1 + Math.floor(random() * 60);
      while (actions.length < count) {
        const kind = Math.floor(random() * KINDS.length) as ActionKind;
        if (kind === ActionKind.PostPublishTribute) continue; // posts are published once, above
        const post = f.posts[Math.floor(random() * f.posts.length)]!;
        let account = f.users[Math.floor(random() * f.users.length)]!;
        if (KINDS[kind]!.toAuthor) account = post.author;
        else if ((kind === ActionKind.ReadToEarn || kind === ActionKind.SpentForMinuses) && account === post.author)
          continue;
        const units = kind === ActionKind.ReadToEarn ? 1 + Math.floor(random() * BPS) : 1 + Math.floor(random() * 4);
        actions.push({ account, kind, units, postId: post.postId });
      }

      // The relayer gives each account one group; every other batch also splits some groups
      // between two of their burns, the second half moved to the end, which the ledger must
      // settle as exactly (an account's two groups may both be short of funds).
      let groups: AccountGroup[] = groupByAccount(actions);
      if (batch % 2 === 1) {
        const tails: AccountGroup[] = [];
        groups = groups.map((group) => {
          const mints = group.actions.filter((a) => a.kind < FIRST_BURN_KIND).length;
          const burns = group.actions.length - mints;
          if (burns < 2 || random() < 0.3) return group;
          const cut = mints + 1 + Math.floor(random() * (burns - 1));
          tails.push({ account: group.account, actions: group.actions.slice(cut) });
          return { account: group.account, actions: group.actions.slice(0, cut) };
        });
        groups.push(...tails);
      }

      // The model, group by group in order: the mints are paid; the burns are paid all at once
      // when the allowance and the balance cover them. Then, for each group they did not cover,
      // in order: its burns one by one while they fit what the account has left.
      const expectedShortfalls: number[] = [];
      const uncovered: { account: Address; burns: { index: number; price: bigint }[] }[] = [];
      let index = 0;
      for (const group of groups) {
        const prices = group.actions.map((a) => ({
          index: index++,
          kind: a.kind,
          price: amountFor(DEFAULT_RULE_AMOUNTS, a.kind, a.units),
        }));
        const groupMinted = prices.filter((p) => p.kind < FIRST_BURN_KIND).reduce((sum, p) => sum + p.price, 0n);
        const burns = prices.filter((p) => p.kind >= FIRST_BURN_KIND);
        const groupBurns = burns.reduce((sum, p) => sum + p.price, 0n);
        const balance = balances.get(group.account)! + groupMinted;
        minted += groupMinted;
        balances.set(group.account, balance);
        if (groupBurns <= balance && groupBurns <= allowances.get(group.account)!) pay(group.account, groupBurns);
        else uncovered.push({ account: group.account, burns });
      }
      const fundsBefore = new Map<Address, bigint>();
      for (const { account, burns } of uncovered) {
        const funds = [balances.get(account)!, allowances.get(account)!].reduce((a, b) => (a < b ? a : b));
        const greedy = (available: bigint) =>
          burns.reduce((sum, { price }) => (sum + price <= available ? sum + price : sum), 0n);
        let paid = 0n;
        for (const { index, price } of burns) {
          if (paid + price <= funds) paid += price;
          else expectedShortfalls.push(index);
        }
        // The account's earlier group left this one less than it would pay from the funds both
        // started with: the ledger must read the funds again after the earlier group's burns.
        const before = fundsBefore.get(account);
        if (before === undefined) fundsBefore.set(account, funds);
        else if (greedy(before) > funds) drainedByEarlierGroup++;
        pay(account, paid);
      }

      const hash = await f.ledgerAsRelayer.write.settle([
        BigInt(batch + 2),
        SITE,
        1,
        rootOf(`b${batch}`),
        encodePackedActions({ posts: [], groups }),
      ]);
      const receipt = await f.publicClient.waitForTransactionReceipt({ hash });
      const shortfalls = parseEventLogs({ abi: tweiLedgerAbi, eventName: "BurnShortfall", logs: receipt.logs });
      expect(
        shortfalls.map((e) => Number(e.args.actionIndex)),
        `batch ${batch}`,
      ).to.deep.equal(expectedShortfalls);
      shortfallCount += shortfalls.length;
      const settled = parseEventLogs({ abi: tweiLedgerAbi, eventName: "BatchSettled", logs: receipt.logs })[0]!;
      expect(settled.args.minted - settled.args.burned, `batch ${batch}`).to.equal(
        parseEventLogs({ abi: tweiAbi, eventName: "Transfer", logs: receipt.logs }).reduce(
          (sum, { args }) => sum + (args.from === zeroAddress ? args.value : -args.value),
          0n,
        ),
      );
    }

    // The random batches exercised paid burns and unpaid ones alike.
    expect(burned > 0n).to.equal(true);
    expect(shortfallCount).to.be.greaterThan(0);
    expect(drainedByEarlierGroup, "burns short because the account's earlier group paid").to.be.greaterThan(0);

    // Supply = all mints − all burns, read back from the chain's Transfer events.
    const transfers = await f.publicClient.getContractEvents({
      address: f.token.address,
      abi: tweiAbi,
      eventName: "Transfer",
      fromBlock: 0n,
    });
    const mints = transfers.filter((t) => t.args.from === zeroAddress).reduce((s, t) => s + t.args.value!, 0n);
    const burns = transfers.filter((t) => t.args.to === zeroAddress).reduce((s, t) => s + t.args.value!, 0n);
    expect(mints).to.equal(minted);
    expect(burns).to.equal(burned);
    expect(await f.token.read.totalSupply()).to.equal(mints - burns);
    // Every mint and burn came from a settle transaction sent to the ledger.
    for (const t of transfers.filter((t) => t.args.from === zeroAddress || t.args.to === zeroAddress)) {
      const tx = await f.publicClient.getTransaction({ hash: t.transactionHash });
      expect(tx.to?.toLowerCase()).to.equal(f.ledger.address.toLowerCase());
    }
    for (const user of f.users) {
      const balance = await f.token.read.balanceOf([user]);
      expect(balance >= 0n).to.equal(true);
      expect(balance, user).to.equal(balances.get(user));
      expect(await f.token.read.allowance([user, f.ledger.address]), user).to.equal(allowances.get(user));
    }
  });
});
