import type { Address, PublicClient } from "viem";
import { createMemoryRulesState, type MemoryRulesState } from "../rules/memoryRulesState.js";
import { DEFAULT_POLICY, type RulePolicy } from "../rules/policy.js";
import { checkEvidence } from "./checkEvidence.js";
import { checkSupplyAndBalances } from "./checkSupplyAndBalances.js";
import type { Add, Discrepancy } from "./discrepancy.js";
import type { EvidenceLookup, EvidenceSource } from "./evidenceSource.js";
import { priceBatch } from "./priceBatch.js";
import { readLedgerHistory, type SettledBatchLog } from "./readLedgerHistory.js";

export type { Discrepancy, DiscrepancyCode } from "./discrepancy.js";

export interface AuditSummary {
  readonly chainId: number;
  readonly ledger: Address;
  readonly fromBlock: bigint;
  readonly toBlock: bigint;
  readonly batches: number;
  readonly batchesWithEvidence: number;
  readonly events: number;
  readonly actions: number;
  /** Twei minted and burned by settled batches (amounts recomputed from the rule sets). */
  readonly minted: bigint;
  readonly burned: bigint;
  readonly shortfalls: number;
  readonly totalSupply: bigint;
  readonly accountsChecked: number;
  readonly ruleSetVersions: readonly number[];
}

export interface AuditResult {
  readonly summary: AuditSummary;
  readonly discrepancies: readonly Discrepancy[];
  readonly ok: boolean;
}

export interface RunAuditParameters {
  readonly publicClient: PublicClient;
  readonly deployment: { chainId: number; ledger: Address; token: Address; deploymentBlock: bigint };
  readonly evidence: EvidenceSource;
  /** The rules' thresholds the relayer applied (the default policy unless told otherwise). */
  readonly policy?: RulePolicy;
  /** The last block audited; the head when absent. */
  readonly toBlock?: bigint;
  readonly onProgress?: (line: string) => void;
}

/** Funds the replay grants everyone: the rules' affordability checks depend on the moment of acceptance, which the evidence cannot show; a rejected spend never reaches the evidence anyway. */
const UNLIMITED = 2n ** 200n;
/** How many batches' evidence is fetched ahead of the one being checked. */
const PREFETCH = 8;

/**
 * Audits a Twei deployment from the chain and the published evidence alone: for every settled
 * batch it recomputes the merkle root, checks every envelope's signature against the site's
 * signer as the registry held it at that batch, re-runs the rules on the events to recompute
 * the actions, prices them with the rule set in force at that block, and compares all of it
 * with what the chain recorded (packed actions, minted, burned, shortfalls). Then it checks that
 * the token's supply equals all mints minus all burns, and that every balance equals what the
 * actions and ordinary transfers explain. Returns every discrepancy; none means the audit holds.
 *
 * @example
 * const { ok, discrepancies } = await runAudit({ publicClient, deployment, evidence: relayerEvidenceSource(url) })
 */
export async function runAudit(parameters: RunAuditParameters): Promise<AuditResult> {
  const { publicClient, deployment } = parameters;
  const policy = parameters.policy ?? DEFAULT_POLICY;
  const progress = parameters.onProgress ?? (() => {});
  const toBlock = parameters.toBlock ?? (await publicClient.getBlockNumber({ cacheTime: 0 }));
  const fromBlock = deployment.deploymentBlock;
  progress(`reading the ledger's and token's logs from block ${fromBlock} to ${toBlock}`);
  const history = await readLedgerHistory(publicClient, {
    ledger: deployment.ledger,
    token: deployment.token,
    fromBlock,
    toBlock,
  });
  progress(
    `${history.batches.length} settled batches, ${history.ruleSets.size} rule set(s), ${history.transfers.length} transfers`,
  );

  const discrepancies: Discrepancy[] = [];
  const addFor =
    (batchId: string | null): Add =>
    (code, where, what, expected = "", found = "") =>
      discrepancies.push({ code, batchId, where, what, expected, found });
  const balances = new Map<string, bigint>();
  const credit = (account: Address, delta: bigint) => {
    const key = account.toLowerCase();
    balances.set(key, (balances.get(key) ?? 0n) + delta);
  };
  // What each account earned in batches settled so far: the relayer derives levels from it.
  const earned = new Map<Address, bigint>();
  const states = new Map<number, MemoryRulesState>();
  const stateOf = (siteId: number) => {
    let state = states.get(siteId);
    if (!state) states.set(siteId, (state = createMemoryRulesState({ earned, defaultFunds: UNLIMITED })));
    return state;
  };
  let minted = 0n;
  let burned = 0n;
  let events = 0;
  let actionCount = 0;
  let shortfallCount = 0;
  let withEvidence = 0;

  // Evidence downloads run a few batches ahead of the checks, which stay in order.
  const lookups = new Map<bigint, Promise<EvidenceLookup>>();
  const lookupOf = (index: number) => {
    for (let i = index; i < Math.min(index + PREFETCH, history.batches.length); i++) {
      const ahead = history.batches[i] as SettledBatchLog;
      if (!lookups.has(ahead.batchId)) lookups.set(ahead.batchId, parameters.evidence(ahead.batchId));
    }
    const batchId = (history.batches[index] as SettledBatchLog).batchId;
    const lookup = lookups.get(batchId) as Promise<EvidenceLookup>;
    lookups.delete(batchId);
    return lookup;
  };

  for (const [batchIndex, batch] of history.batches.entries()) {
    const add = addFor(batch.batchId.toString());
    const priced = priceBatch({
      batch,
      ruleSets: history.ruleSets,
      shortfalls: history.shortfalls.get(batch.batchId) ?? [],
      credit,
      add,
    });
    if (!priced) continue;
    actionCount += priced.onChain.actions.length;
    shortfallCount += priced.shortfalls;
    minted += priced.minted;
    burned += priced.burned;

    const eventCount = await checkEvidence({
      batch,
      lookup: await lookupOf(batchIndex),
      onChain: priced.onChain,
      amounts: priced.amounts,
      deployment,
      signerHistory: history.signers.get(batch.siteId) ?? [],
      stateOf,
      policy,
      progress,
      add,
    });
    if (eventCount !== undefined) {
      withEvidence++;
      events += eventCount;
    }
    // Only now: the rules saw the earnings of the batches before this one.
    for (const [account, amount] of priced.earned) earned.set(account, (earned.get(account) ?? 0n) + amount);
  }

  const { totalSupply, accountsChecked } = await checkSupplyAndBalances({
    publicClient,
    token: deployment.token,
    toBlock,
    transfers: history.transfers,
    minted,
    burned,
    balances,
    credit,
    add: addFor(null),
  });

  return {
    summary: {
      chainId: deployment.chainId,
      ledger: deployment.ledger,
      fromBlock,
      toBlock,
      batches: history.batches.length,
      batchesWithEvidence: withEvidence,
      events,
      actions: actionCount,
      minted,
      burned,
      shortfalls: shortfallCount,
      totalSupply,
      accountsChecked,
      ruleSetVersions: [...history.ruleSets.keys()].sort((a, b) => a - b),
    },
    discrepancies,
    ok: discrepancies.length === 0,
  };
}
