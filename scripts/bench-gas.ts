// npm run bench:gas — the ledger's gas per settled action, side by side with the naive
// baseline (one ERC-20 mint transaction per reward) measured in the same run on Hardhat's
// in-process network (its default hardfork). Prints a table and a final name=value line.
import Table from "cli-table3";
import { network } from "hardhat";
import {
  createWalletClient,
  custom,
  keccak256,
  maxUint256,
  numberToHex,
  parseEther,
  parseUnits,
  toHex,
  type Address,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deployTwei, type DeployerClient } from "../src/chain/deployTwei.js";
import { balanceSlotOf, settlementAccessList } from "../src/chain/settlementAccessList.js";
import { tweiAbi, tweiLedgerAbi } from "../src/chain/abi.js";
import { ActionKind } from "../src/core/kinds.js";
import { encodePackedActions, groupByAccount, type AccountAction } from "../src/core/packedActions.js";
import { DEFAULT_UNIT_BOUNDS } from "../src/core/ruleSet.js";
import { labelledAddress } from "../src/devnet/labelledAddress.js";
import { prng } from "../src/devnet/prng.js";
import { nextBatchId } from "../src/relayer/storage/nextBatchId.js";
import { traceBreakdown, traceModeOf } from "./bench/traceBreakdown.js";

const TX_GAS_CAP = 16_777_216n; // EIP-7825
const SITE = 1;
const SIZES = [100, 500, 1_000] as const;
const REALISTIC_USERS = 200;
// The first rule set, written at deployment.
const RULE_SET_VERSION = 1;
const POSTS = 20;

const { viem, provider } = await network.create();
const publicClient = await viem.getPublicClient();
const [deployerWallet, relayerWallet] = await viem.getWalletClients();
if (!deployerWallet || !relayerWallet) throw new Error("needs two accounts");
const relayer = relayerWallet;

const progress = (message: string) => process.stderr.write(`· ${message}\n`);

progress("deploying token, ledger and the naive baseline token");
const deployed = await deployTwei({
  publicClient: publicClient as never,
  walletClient: deployerWallet as unknown as DeployerClient,
  relayer: relayerWallet.account.address,
  emissionCap: parseUnits("1000000000", 18),
  burnCap: parseUnits("1000000000", 18),
  // The default bounds, but Comment Rewards up to 50 units for the seeding batches below (a
  // bound is one field of a rule word: it costs the same gas whatever its value).
  unitBounds: DEFAULT_UNIT_BOUNDS.map((bound, kind) => (kind === ActionKind.CommentRewards ? 50 : bound)),
});
const ledger = deployed.ledger;
await deployerWallet.writeContract({
  address: ledger,
  abi: tweiLedgerAbi,
  functionName: "registerSite",
  args: [SITE, deployerWallet.account.address, parseUnits("1000000000", 18), parseUnits("1000000000", 18)],
});
const naive = await viem.deployContract("NaiveRewardToken", [deployerWallet.account.address]);

// Batch ids as the relayer takes them (src/relayer/storage/nextBatchId.ts): random steps, so each
// batch marks a fresh word of the ledger's settled-ids bitmap, as on a live chain.
let lastBatch: number | null = null;
const takeBatchId = () => BigInt((lastBatch = nextBatchId(lastBatch, 1)));
let lastSettleHash: `0x${string}` = "0x";
async function settle(posts: { postId: bigint; author: Address }[], actions: AccountAction[]) {
  const packed = encodePackedActions({ posts, groups: groupByAccount(actions) });
  const hash = await relayer.writeContract({
    address: ledger,
    abi: tweiLedgerAbi,
    functionName: "settle",
    args: [takeBatchId(), SITE, RULE_SET_VERSION, keccak256(packed), packed],
    gas: TX_GAS_CAP,
    accessList: settlementAccessList({ token: deployed.token, ledger, actions: packed }),
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error("settle reverted");
  lastSettleHash = hash;
  return receipt.gasUsed;
}

async function estimateSettle(actions: AccountAction[]): Promise<bigint> {
  const packed = encodePackedActions({ posts: [], groups: groupByAccount(actions) });
  return publicClient.estimateContractGas({
    account: relayer.account,
    address: ledger,
    abi: tweiLedgerAbi,
    functionName: "settle",
    args: [BigInt(nextBatchId(lastBatch, 1)), SITE, RULE_SET_VERSION, keccak256(packed), packed],
    gas: 100_000_000n,
    accessList: settlementAccessList({ token: deployed.token, ledger, actions: packed }),
  });
}

// --- accounts ---------------------------------------------------------------------------
progress(`funding ${REALISTIC_USERS} realistic users, who approve the ledger for their tributes`);
const users = Array.from({ length: REALISTIC_USERS }, (_, i) =>
  privateKeyToAccount(keccak256(toHex(`twei-bench-user-${i}`))),
);
for (const user of users)
  await provider.request({ method: "hardhat_setBalance", params: [user.address, numberToHex(parseEther("10"))] });
for (const user of users) {
  const wallet = createWalletClient({ account: user, chain: deployerWallet.chain, transport: custom(provider) });
  await wallet.writeContract({
    address: deployed.token,
    abi: tweiAbi,
    functionName: "approve",
    args: [ledger, maxUint256],
  });
}
const holders = Array.from({ length: 1_000 }, (_, i) => labelledAddress("holder", i));
const fresh = (run: number) => Array.from({ length: 1_000 }, (_, i) => labelledAddress(`fresh-${run}`, i));

// Posts, registered with their authors (the first 20 users) by a publish batch.
const postIds = Array.from({ length: POSTS }, (_, i) => BigInt(i + 1));
const authorOf = (post: number): Address => users[post]!.address;
progress("publishing posts and seeding every holder with a balance");
await settle(
  postIds.map((postId, i) => ({ postId, author: authorOf(i) })),
  postIds.map((postId, i) => ({ account: authorOf(i), kind: ActionKind.CommentRewards, units: 1, postId })),
);
const seed = (accounts: readonly Address[]) =>
  accounts.map((account, i) => ({
    account,
    kind: ActionKind.CommentRewards,
    units: 50,
    postId: postIds[i % POSTS]!,
  }));
await settle([], seed(users.slice(0, 100).map((u) => u.address)));
await settle([], seed(users.slice(100).map((u) => u.address)));
for (let i = 0; i < holders.length; i += 250) await settle([], seed(holders.slice(i, i + 250)));

// --- mixes ------------------------------------------------------------------------------
/**
 * A lively comment thread, by event: 30% reads, 12% pluses, 10% comments (a tribute, and a
 * reward for 4 in 5), 41% likes and 4% dislikes (three actions each: own, commenter, author),
 * 2% minuses, 1% report purchases. About one action in nine is a burn.
 * `userCount` actors (the default ratio: 1,000 actions from 200 users) on 20 posts.
 */
function realisticMix(size: number, seedValue: number, userCount = Math.max(2, Math.round(size / 5))): AccountAction[] {
  const random = prng(seedValue);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const actors = users.slice(0, Math.min(userCount, users.length)).map((u) => u.address);
  const out: AccountAction[] = [];
  const push = (account: Address, kind: ActionKind, postId: bigint, units = 1) =>
    out.push({ account, kind, postId, units });
  while (out.length < size) {
    const postIndex = Math.floor(random() * POSTS);
    const postId = postIds[postIndex]!;
    const author = authorOf(postIndex);
    let actor = pick(actors);
    if (actor === author) actor = actors[(actors.indexOf(actor) + 1) % actors.length]!;
    let other = pick(actors);
    if (other === actor) other = actors[(actors.indexOf(other) + 1) % actors.length]!;
    const r = random();
    if (r < 0.3) push(actor, ActionKind.ReadToEarn, postId, 3_000 + Math.floor(random() * 7_001));
    else if (r < 0.42) push(author, ActionKind.EarnedForPluses, postId);
    else if (r < 0.52) {
      push(actor, ActionKind.CommentTributes, postId);
      if (random() < 0.8) push(actor, ActionKind.CommentRewards, postId);
    } else if (r < 0.93) {
      push(actor, ActionKind.LikesOwn, postId);
      push(other, ActionKind.LikesCommenter, postId);
      push(author, ActionKind.LikesAuthor, postId);
    } else if (r < 0.97) {
      push(actor, ActionKind.DislikesOwn, postId);
      push(other, ActionKind.DislikesCommenter, postId);
      push(author, ActionKind.DislikesAuthor, postId);
    } else if (r < 0.99) push(actor, ActionKind.SpentForMinuses, postId);
    else push(actor, ActionKind.PnLReports, postId);
  }
  return out.slice(0, size);
}

/** Every action pays a different holder (mint kinds paid to the actor). */
function distinctMix(accounts: readonly Address[], size: number): AccountAction[] {
  const kinds = [ActionKind.ReadToEarn, ActionKind.CommentRewards, ActionKind.LikesOwn, ActionKind.LikesCommenter];
  return accounts.slice(0, size).map((account, i) => ({
    account,
    kind: kinds[i % kinds.length]!,
    postId: postIds[i % POSTS]!,
    units: kinds[i % kinds.length] === ActionKind.ReadToEarn ? 10_000 : 1,
  }));
}

/** Every action is a minus from a different holder who gave the ledger no allowance. */
function unpayableMix(accounts: readonly Address[], size: number): AccountAction[] {
  return accounts.slice(0, size).map((account, i) => ({
    account,
    kind: ActionKind.SpentForMinuses,
    postId: postIds[i % POSTS]!,
    units: 1,
  }));
}

const perAction = (gas: bigint, actions: number) => Number(gas / BigInt(actions));

const traceMode = traceModeOf(process.env.TWEI_BENCH_TRACE);
async function trace(hash: `0x${string}`, actions: number) {
  if (!traceMode) return;
  const receipt = await publicClient.getTransactionReceipt({ hash });
  const transfers = receipt.logs.filter((l) => l.address.toLowerCase() === deployed.token.toLowerCase()).length;
  progress(`trace: ${transfers} Transfer events`);
  const request = (args: { method: string; params: unknown[] }) => provider.request(args);
  for (const line of await traceBreakdown({ request, hash, actions, mode: traceMode })) progress(line);
}

// --- naive baseline -----------------------------------------------------------------------
progress("naive baseline: one mint transaction per reward");
const naiveSeed = holders.slice(0, 50);
await naive.write.mintBatch([naiveSeed, naiveSeed.map(() => 1n)]);
let naiveTotal = 0n;
for (const holder of naiveSeed) {
  const hash = await naive.write.mint([holder, parseUnits("0.5", 18)]);
  naiveTotal += (await publicClient.waitForTransactionReceipt({ hash })).gasUsed;
}
const naivePerMint = perAction(naiveTotal, naiveSeed.length);
// The 1,000 holders become NAIVE holders in chunks (fresh holders cost more), then one
// standard batch mints to all of them again.
for (let i = 0; i < holders.length; i += 250) {
  const chunk = holders.slice(i, i + 250);
  await publicClient.waitForTransactionReceipt({ hash: await naive.write.mintBatch([chunk, chunk.map(() => 1n)]) });
}
const naiveBatchAgain = await naive.write.mintBatch([holders, holders.map(() => parseUnits("0.5", 18))], {
  gas: TX_GAS_CAP,
});
const naiveBatchPerRecipient = perAction(
  (await publicClient.waitForTransactionReceipt({ hash: naiveBatchAgain })).gasUsed,
  holders.length,
);
// The same batch with the access list the relayer sends with a settlement (balance slots listed).
const naiveBatchListed = await naive.write.mintBatch([holders, holders.map(() => parseUnits("0.5", 18))], {
  gas: TX_GAS_CAP,
  accessList: [{ address: naive.address, storageKeys: holders.map(balanceSlotOf) }],
});
const naiveBatchListedPerRecipient = perAction(
  (await publicClient.waitForTransactionReceipt({ hash: naiveBatchListed })).gasUsed,
  holders.length,
);

// --- the ledger ---------------------------------------------------------------------------
// `burns`: a row of burns, which no mint baseline compares with.
const rows: { mix: string; size: number; gas: bigint; perAction: number; burns?: true }[] = [];
for (const size of SIZES) {
  progress(`settling the realistic mix at ${size} actions`);
  const gas = await settle([], realisticMix(size, 7 + size));
  rows.push({ mix: "realistic (200 users : 1,000 actions)", size, gas, perAction: perAction(gas, size) });
  if (size === 1_000) await trace(lastSettleHash, size);
}
for (const size of SIZES) {
  progress(`settling the distinct-holder mix at ${size} actions`);
  const gas = await settle([], distinctMix(holders, size));
  rows.push({ mix: "worst: each pays a different holder", size, gas, perAction: perAction(gas, size) });
  if (size === 1_000) await trace(lastSettleHash, size);
}
// The rare path: every account owes a burn it cannot pay (the holders gave the ledger no
// allowance), so the ledger decides each one's burns and records a BurnShortfall apiece.
for (const size of SIZES) {
  progress(`settling ${size} unpayable burns (a BurnShortfall each)`);
  const gas = await settle([], unpayableMix(holders, size));
  rows.push({
    mix: "unpayable: each holder's minus is short",
    size,
    gas,
    perAction: perAction(gas, size),
    burns: true,
  });
}
// A first balance costs a zero-to-nonzero store (~20,000 gas more), so 1,000 fresh holders
// would not fit one transaction: measure 400.
progress("settling 400 actions to fresh holders");
const freshGas = await settle([], distinctMix(fresh(0), 400));
rows.push({ mix: "fresh holders (their first Twei)", size: 400, gas: freshGas, perAction: perAction(freshGas, 400) });

// --- the largest batch under the per-transaction gas cap ------------------------------------
async function largestFitting(build: (size: number) => AccountAction[], low: number, high: number) {
  // Binary search on eth_estimateGas, which executes the whole settlement.
  while (high - low > 25) {
    const mid = Math.floor((low + high) / 2);
    const gas = await estimateSettle(build(mid)).catch(() => TX_GAS_CAP + 1n);
    if (gas <= TX_GAS_CAP) low = mid;
    else high = mid;
  }
  return low;
}
progress("searching the largest realistic batch under the 16,777,216 gas cap");
const realisticMax = await largestFitting((size) => realisticMix(size, 99, REALISTIC_USERS), 1_000, 60_000);
progress("searching the largest distinct-holder batch under the cap");
const extraHolders = Array.from({ length: 3_000 }, (_, i) => labelledAddress("holder", i));
for (let i = 1_000; i < extraHolders.length; i += 250) await settle([], seed(extraHolders.slice(i, i + 250)));
const distinctMax = await largestFitting((size) => distinctMix(extraHolders, size), 1_000, 3_000);

// --- output -------------------------------------------------------------------------------
const table = new Table({
  head: ["mix", "actions", "gas", "gas / action", "naive mint / reward", "saving"],
  colAligns: ["left", "right", "right", "right", "right", "right"],
});
for (const row of rows)
  table.push([
    row.mix,
    row.size.toLocaleString("en-US"),
    row.gas.toLocaleString("en-US"),
    row.perAction.toLocaleString("en-US"),
    row.burns ? "n/a" : naivePerMint.toLocaleString("en-US"),
    row.burns ? "n/a" : `${((naivePerMint / row.perAction) * 10).toFixed(0).replace(/(\d)$/, ".$1")}x`,
  ]);
console.log(table.toString());

const baselines = new Table({ head: ["baseline, same run", "gas per reward"], colAligns: ["left", "right"] });
baselines.push(["naive: one ERC-20 mint tx to an existing holder", naivePerMint.toLocaleString("en-US")]);
baselines.push(["standard ERC-20 batch mint, a Transfer each (1,000)", naiveBatchPerRecipient.toLocaleString("en-US")]);
baselines.push([
  "the same, with the balance slots in an access list",
  naiveBatchListedPerRecipient.toLocaleString("en-US"),
]);
console.log(baselines.toString());

// Nodes also refuse transactions over 128 KiB (geth's txpool): a relayer keeps batches below both.
const caps = new Table({
  head: ["largest batch under the 16,777,216 gas cap (EIP-7825)", "actions (calldata)"],
  colAligns: ["left", "right"],
});
const calldataKiB = (actions: AccountAction[]) =>
  `${Math.round((encodePackedActions({ posts: [], groups: groupByAccount(actions) }).length - 2) / 2 / 1024)} KiB`;
caps.push([
  `realistic (${REALISTIC_USERS} users, 20 posts)`,
  `~${realisticMax.toLocaleString("en-US")} (${calldataKiB(realisticMix(realisticMax, 99, REALISTIC_USERS))})`,
]);
caps.push([
  "worst: each pays a different holder",
  `~${distinctMax.toLocaleString("en-US")} (${calldataKiB(distinctMix(extraHolders, distinctMax))})`,
]);
console.log(caps.toString());

const realistic1000 = rows.find((r) => r.mix.startsWith("realistic") && r.size === 1_000)!.perAction;
const distinct1000 = rows.find((r) => r.mix.startsWith("worst") && r.size === 1_000)!.perAction;
console.log(
  `targets: realistic <= 2,500 (${realistic1000 <= 2_500 ? "met" : "MISSED"}), distinct <= 8,000 (${distinct1000 <= 8_000 ? "met" : "MISSED"})`,
);
console.log(
  `gas_per_action_realistic_1000=${realistic1000} gas_per_action_distinct_1000=${distinct1000} naive=${naivePerMint}`,
);
