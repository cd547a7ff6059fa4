import {
  encodeEventTopics,
  formatLog,
  parseEventLogs,
  zeroAddress,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { tweiAbi, tweiLedgerAbi } from "../../chain/abi.js";
import { createLogRange } from "../../chain/createLogRange.js";
import { readLogsAdaptively } from "../../chain/readLogsAdaptively.js";
import type { RuleAmounts } from "../../core/ruleSet.js";

export interface SiteOnChain {
  readonly signer: Address;
  readonly active: boolean;
  readonly mintCap: bigint;
  readonly burnCap: bigint;
}

/** A rule set as the ledger announced it (immutable once announced). */
export interface RuleSetOnChain {
  readonly version: number;
  /** When it takes (or took) effect, unix seconds. */
  readonly effectiveAt: bigint;
  readonly amounts: RuleAmounts;
  readonly maxUnits: readonly number[];
}

/** The rule set in force: its version, amount per kind and unit bound per kind (0: the kind is disabled). */
export type RuleSetInForce = Pick<RuleSetOnChain, "version" | "amounts" | "maxUnits">;

/** The rule-set versions the ledger's `settle` takes now, as of the latest block. */
export interface VersionsInForce {
  readonly current: number;
  /** The version `current` replaced, while its grace runs (0: none). */
  readonly previous: number;
  /** When the grace of `previous` ends, unix seconds (0: none). */
  readonly graceEndsAt: bigint;
  /** The latest block's timestamp, which the ledger compares those times with. */
  readonly chainTime: bigint;
}

/** What users and sites can see coming: the rule set in force, the one announced, and the one in grace. */
export interface RuleSchedule {
  readonly current: RuleSetOnChain;
  /** Announced, not yet in force (null: none). */
  readonly scheduled: RuleSetOnChain | null;
  /** Replaced, still accepted for batches priced under it until `graceEndsAt` (null: none). */
  readonly previous: { readonly version: number; readonly graceEndsAt: bigint } | null;
  /** Seconds a replaced rule set stays accepted. */
  readonly ruleSetGrace: number;
}

export interface ChainReader {
  /** The site's registry entry at `blockNumber` (the latest block by default). */
  site(siteId: number, blockNumber?: bigint): Promise<SiteOnChain>;
  /** The site's policy hash in force at `blockNumber` (the latest block by default; zero: none committed). */
  sitePolicy(siteId: number, blockNumber?: bigint): Promise<Hex>;
  /** The author a post id is registered to on-chain (the zero address: not registered). */
  postAuthor(postId: bigint): Promise<Address>;
  /** min(balance, allowance to the ledger) at `blockNumber` (the latest block by default), cached for `fundsTtlMs`. */
  funds(account: Address, blockNumber?: bigint): Promise<bigint>;
  /** Forgets the cached funds and earned totals of accounts a settlement just paid or charged. */
  forgetAccounts(accounts: readonly Address[]): void;
  /** Whether the ledger is paused. */
  paused(): Promise<boolean>;
  /** Whether `account` holds the ledger's RELAYER_ROLE. */
  isRelayer(account: Address): Promise<boolean>;
  balanceAndAllowance(account: Address): Promise<{ balance: bigint; allowance: bigint }>;
  /**
   * What the ledger minted to the account up to the latest block (its Transfer logs from the
   * zero address), cached for `fundsTtlMs` or until `forgetAccounts`. Blocks deeper than
   * `EARNED_REORG_DEPTH` are summed once; the newer ones are read again each time.
   */
  earned(account: Address): Promise<bigint>;
  /**
   * The rule set in force (what acceptance prices under, and whose unit bounds it checks),
   * cached for `ruleSetTtlMs`.
   */
  ruleSet(): Promise<RuleSetInForce>;
  /** A rule set by version, cached (announced rule sets never change). */
  ruleSetOf(version: number): Promise<RuleSetOnChain>;
  /** The versions `settle` takes now (uncached: the settlement loop decides with it). */
  versionsInForce(): Promise<VersionsInForce>;
  /** The rule set in force, the one announced and the one in grace, cached for `ruleSetTtlMs`. */
  ruleSchedule(): Promise<RuleSchedule>;
  isBatchSettled(batchId: bigint): Promise<boolean>;
  blockNumber(): Promise<bigint>;
}

export interface CreateChainReaderParameters {
  readonly publicClient: PublicClient;
  readonly ledger: Address;
  readonly token: Address;
  readonly fundsTtlMs: number;
  readonly ruleSetTtlMs: number;
  readonly deploymentBlock: bigint;
  /** Blocks below the head whose mints `earned` reads again each time (a reorg may change them); `EARNED_REORG_DEPTH` by default. */
  readonly earnedReorgDepth?: bigint;
}

/**
 * How deep below the head a reorg may still change which mints an account received: `earned`
 * sums the blocks below once and reads this many again at each look (one small eth_getLogs).
 * Deeper than Ethereum's finality (64 blocks) and than any L2's unsafe head.
 */
export const EARNED_REORG_DEPTH = 128n;

/**
 * Reads what the relayer needs from the chain, with short-lived caches for what the hot
 * path asks often (funds, rule set).
 *
 * @example
 * const reader = createChainReader({ publicClient, ledger, token, fundsTtlMs: 2_000, ruleSetTtlMs: 5_000 })
 */
export function createChainReader(parameters: CreateChainReaderParameters): ChainReader {
  const { publicClient, ledger, token } = parameters;
  const funds = new Map<string, { value: bigint; at: number; block: bigint | undefined }>();
  let ruleSet: { value: RuleSetInForce; at: number } | undefined;
  // Per account: the mints up to `through` (deep enough to be kept), and the last total with its time.
  const earned = new Map<string, { base: bigint; through: bigint; value: bigint; at: number }>();
  const reorgDepth = parameters.earnedReorgDepth ?? EARNED_REORG_DEPTH;
  const logRange = createLogRange({ initial: 10_000n });
  /** The Twei minted to `account` in blocks `fromBlock`…`toBlock`, in ranges the RPC accepts. */
  const mintedTo = async (account: Address, fromBlock: bigint, toBlock: bigint): Promise<bigint> => {
    let value = 0n;
    if (toBlock < fromBlock) return value;
    for await (const chunk of readLogsAdaptively(publicClient, {
      address: token,
      topics: encodeEventTopics({ abi: tweiAbi, eventName: "Transfer", args: { from: zeroAddress, to: account } }),
      fromBlock,
      toBlock,
      range: logRange,
    }))
      for (const log of parseEventLogs({
        abi: tweiAbi,
        eventName: "Transfer",
        logs: chunk.logs.map((l) => formatLog(l)),
      }))
        value += log.args.value;
    return value;
  };
  const burnable = (account: Address, blockNumber?: bigint) =>
    publicClient.readContract({
      address: token,
      abi: tweiAbi,
      functionName: "burnableOf",
      args: [account],
      ...(blockNumber === undefined ? {} : { blockNumber }),
    });
  let relayerRole: Hex | undefined;
  const ruleSets = new Map<number, RuleSetOnChain>();
  let schedule: { value: RuleSchedule; at: number } | undefined;
  const onChainRuleSet = (view: {
    version: number;
    effectiveAt: bigint;
    amounts: readonly bigint[];
    maxUnits: readonly number[];
  }): RuleSetOnChain => ({
    version: view.version,
    effectiveAt: view.effectiveAt,
    amounts: [...view.amounts],
    maxUnits: [...view.maxUnits],
  });
  const ruleSetOf = async (version: number): Promise<RuleSetOnChain> => {
    const known = ruleSets.get(version);
    if (known) return known;
    const view = await publicClient.readContract({
      address: ledger,
      abi: tweiLedgerAbi,
      functionName: "ruleSetOf",
      args: [version],
    });
    // Version 0 is what the ledger answers for a version never announced.
    if (view.version !== version) throw new Error(`the ledger has no rule set ${version}`);
    const ruleSet = onChainRuleSet(view);
    ruleSets.set(version, ruleSet);
    return ruleSet;
  };
  const readVersions = async (): Promise<VersionsInForce> => {
    const block = await publicClient.getBlock({ blockTag: "latest" });
    const [current, previous, graceEndsAt] = await publicClient.readContract({
      address: ledger,
      abi: tweiLedgerAbi,
      functionName: "versionsInForce",
      blockNumber: block.number,
    });
    return { current, previous, graceEndsAt, chainTime: block.timestamp };
  };
  return {
    async site(siteId, blockNumber) {
      const site = await publicClient.readContract({
        address: ledger,
        abi: tweiLedgerAbi,
        functionName: "site",
        args: [siteId],
        ...(blockNumber === undefined ? {} : { blockNumber }),
      });
      return { signer: site.signer, active: site.active, mintCap: site.mintCap, burnCap: site.burnCap };
    },
    async sitePolicy(siteId, blockNumber) {
      const schedule = await publicClient.readContract({
        address: ledger,
        abi: tweiLedgerAbi,
        functionName: "sitePolicy",
        args: [siteId],
        ...(blockNumber === undefined ? {} : { blockNumber }),
      });
      return schedule.policyHash;
    },
    async postAuthor(postId) {
      const post = await publicClient.readContract({
        address: ledger,
        abi: tweiLedgerAbi,
        functionName: "post",
        args: [postId],
      });
      return post.author;
    },
    forgetAccounts(accounts) {
      for (const account of accounts) {
        const key = account.toLowerCase();
        funds.delete(key);
        // The deep sum stays (the new mints are above it); the total is read again.
        const hit = earned.get(key);
        if (hit) hit.at = -Infinity;
      }
    },
    paused: () => publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "paused" }),
    async isRelayer(account) {
      relayerRole ??= await publicClient.readContract({
        address: ledger,
        abi: tweiLedgerAbi,
        functionName: "RELAYER_ROLE",
      });
      return publicClient.readContract({
        address: ledger,
        abi: tweiLedgerAbi,
        functionName: "hasRole",
        args: [relayerRole, account],
      });
    },
    async funds(account, blockNumber) {
      const key = account.toLowerCase();
      const hit = funds.get(key);
      if (hit && hit.block === blockNumber && Date.now() - hit.at < parameters.fundsTtlMs) return hit.value;
      const [balance, allowance] = await burnable(account, blockNumber);
      const value = balance < allowance ? balance : allowance;
      if (funds.size > 50_000) funds.clear();
      funds.set(key, { value, at: Date.now(), block: blockNumber });
      return value;
    },
    async balanceAndAllowance(account) {
      const [balance, allowance] = await burnable(account);
      return { balance, allowance };
    },
    async earned(account) {
      const key = account.toLowerCase();
      const hit = earned.get(key);
      if (hit && Date.now() - hit.at < parameters.fundsTtlMs) return hit.value;
      const head = await publicClient.getBlockNumber({ cacheTime: 0 });
      const deep = head - reorgDepth;
      let base = hit?.base ?? 0n;
      let through = hit?.through ?? parameters.deploymentBlock - 1n;
      if (deep > through) {
        base += await mintedTo(account, through + 1n, deep);
        through = deep;
      }
      const value = base + (await mintedTo(account, through + 1n, head));
      if (earned.size > 50_000) earned.clear();
      earned.set(key, { base, through, value, at: Date.now() });
      return value;
    },
    async ruleSet() {
      if (ruleSet && Date.now() - ruleSet.at < parameters.ruleSetTtlMs) return ruleSet.value;
      let value: RuleSetInForce;
      try {
        const [version] = await publicClient.readContract({
          address: ledger,
          abi: tweiLedgerAbi,
          functionName: "ruleSet",
        });
        // Its amounts and unit bounds, as announced (immutable: read once per version).
        const { amounts, maxUnits } = await ruleSetOf(version);
        value = { version, amounts, maxUnits };
      } catch (error) {
        // A stale rule set beats none while the chain is down; settlement re-checks on-chain.
        if (ruleSet) return ruleSet.value;
        throw error;
      }
      ruleSet = { value, at: Date.now() };
      return ruleSet.value;
    },
    ruleSetOf,
    versionsInForce: readVersions,
    async ruleSchedule() {
      if (schedule && Date.now() - schedule.at < parameters.ruleSetTtlMs) return schedule.value;
      const [[current, scheduled], versions, grace] = await Promise.all([
        publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "ruleSchedule" }),
        readVersions(),
        publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "ruleSetGrace" }),
      ]);
      const value: RuleSchedule = {
        current: onChainRuleSet(current),
        scheduled: scheduled.version === 0 ? null : onChainRuleSet(scheduled),
        previous: versions.previous === 0 ? null : { version: versions.previous, graceEndsAt: versions.graceEndsAt },
        ruleSetGrace: Number(grace),
      };
      schedule = { value, at: Date.now() };
      return value;
    },
    isBatchSettled: (batchId) =>
      publicClient.readContract({
        address: ledger,
        abi: tweiLedgerAbi,
        functionName: "isBatchSettled",
        args: [batchId],
      }),
    blockNumber: () => publicClient.getBlockNumber({ cacheTime: 0 }),
  };
}
