import { zeroAddress, type Address, type Hex, type PublicClient } from "viem";
import { tweiAbi, tweiLedgerAbi } from "../../chain/abi.js";
import type { RuleAmounts } from "../../core/ruleSet.js";

export interface SiteOnChain {
  readonly signer: Address;
  readonly active: boolean;
  readonly mintCap: bigint;
  readonly burnCap: bigint;
}

export interface ChainReader {
  /** The site's registry entry at `blockNumber` (the latest block by default). */
  site(siteId: number, blockNumber?: bigint): Promise<SiteOnChain>;
  /** The author a post id is registered to on-chain (the zero address: not registered). */
  postAuthor(postId: bigint): Promise<Address>;
  /** min(balance, allowance to the ledger) at `blockNumber` (the latest block by default), cached for `fundsTtlMs`. */
  funds(account: Address, blockNumber?: bigint): Promise<bigint>;
  /** Forgets the cached funds of accounts whose balance a settlement just changed. */
  forgetFunds(accounts: readonly Address[]): void;
  /** Whether the ledger is paused. */
  paused(): Promise<boolean>;
  /** Whether `account` holds the ledger's RELAYER_ROLE. */
  isRelayer(account: Address): Promise<boolean>;
  balanceAndAllowance(account: Address): Promise<{ balance: bigint; allowance: bigint }>;
  /** What the ledger minted to the account (its Transfer logs from the zero address), cached for a minute. */
  earned(account: Address): Promise<bigint>;
  ruleSet(): Promise<{ version: number; amounts: RuleAmounts }>;
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
}

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
  let ruleSet: { value: { version: number; amounts: RuleAmounts }; at: number } | undefined;
  const earned = new Map<string, { value: bigint; at: number }>();
  const burnable = (account: Address, blockNumber?: bigint) =>
    publicClient.readContract({
      address: token,
      abi: tweiAbi,
      functionName: "burnableOf",
      args: [account],
      ...(blockNumber === undefined ? {} : { blockNumber }),
    });
  let relayerRole: Hex | undefined;
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
    async postAuthor(postId) {
      const post = await publicClient.readContract({
        address: ledger,
        abi: tweiLedgerAbi,
        functionName: "post",
        args: [postId],
      });
      return post.author;
    },
    forgetFunds(accounts) {
      for (const account of accounts) funds.delete(account.toLowerCase());
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
      if (hit && Date.now() - hit.at < 60_000) return hit.value;
      const logs = await publicClient.getContractEvents({
        address: token,
        abi: tweiAbi,
        eventName: "Transfer",
        args: { from: zeroAddress, to: account },
        fromBlock: parameters.deploymentBlock,
      });
      const value = logs.reduce((sum, log) => sum + (log.args.value ?? 0n), 0n);
      if (earned.size > 50_000) earned.clear();
      earned.set(key, { value, at: Date.now() });
      return value;
    },
    async ruleSet() {
      if (ruleSet && Date.now() - ruleSet.at < parameters.ruleSetTtlMs) return ruleSet.value;
      let version: number;
      let amounts: readonly bigint[];
      try {
        [version, amounts] = await publicClient.readContract({
          address: ledger,
          abi: tweiLedgerAbi,
          functionName: "ruleSet",
        });
      } catch (error) {
        // A stale rule set beats none while the chain is down; settlement re-checks on-chain.
        if (ruleSet) return ruleSet.value;
        throw error;
      }
      ruleSet = { value: { version, amounts: [...amounts] }, at: Date.now() };
      return ruleSet.value;
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
