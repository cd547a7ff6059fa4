import type { Address, Hex, PublicClient } from "viem";
import { createLogRange, type LogRange } from "../chain/createLogRange.js";
import { readAhead } from "../chain/readAhead.js";
import { readLogsAdaptively } from "../chain/readLogsAdaptively.js";
import { createMemoryRulesState, type MemoryRulesState } from "../rules/memoryRulesState.js";
import { DEFAULT_POLICY, type RulePolicy } from "../rules/policy.js";
import { createAttestationReader } from "./checkAttestations.js";
import { checkEvidence } from "./checkEvidence.js";
import { createSettledEvents } from "./checkReplays.js";
import { createPolicyResolver } from "./createPolicyResolver.js";
import { checkSupplyAndBalances, countTransfers } from "./checkSupplyAndBalances.js";
import type { Add, Discrepancy, DiscrepancyCode } from "./discrepancy.js";
import type { EvidenceLookup, EvidenceSource } from "./evidenceSource.js";
import { priceBatch } from "./priceBatch.js";
import { createLedgerRegistry, readLedgerHistory, type SettledBatchLog } from "./readLedgerHistory.js";

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
  /** Each site's policies committed on-chain that its audited batches settled under (by hash, in order). */
  readonly sitePolicies: readonly { readonly siteId: number; readonly policyHash: Hex }[];
}

/** A batch whose evidence (or its site's policy document) could not be had when it was audited (the watchtower retries it). */
export interface UncheckedBatch {
  readonly batchId: bigint;
  readonly siteId: number;
  readonly blockNumber: bigint;
  readonly kind: Extract<EvidenceLookup, { found: false }>["kind"];
  /** For a file still absent within the grace: the unix time (seconds) from which it is unbacked. */
  readonly unbackedAt?: number;
  /** Set when the evidence was had but the policy document of this hash was not (`policy_unavailable`). */
  readonly policyHash?: Hex;
}

/** A batch an audit step checked: which, and where it settled (not its contents: a step keeps none). */
export type AuditedBatch = Pick<SettledBatchLog, "batchId" | "siteId" | "blockNumber">;

/** What one step of the audit found: the blocks it covered, the batches it checked and every discrepancy. */
export interface AuditStep {
  readonly fromBlock: bigint;
  readonly toBlock: bigint;
  readonly batches: readonly AuditedBatch[];
  readonly discrepancies: readonly Discrepancy[];
  /** The step's batches whose evidence could not be had. */
  readonly unchecked: readonly UncheckedBatch[];
}

export interface CreateAuditorParameters {
  readonly publicClient: PublicClient;
  readonly deployment: { chainId: number; ledger: Address; token: Address; deploymentBlock: bigint };
  readonly evidence: EvidenceSource;
  /**
   * The policy a site with no policy committed on-chain is replayed with (DEFAULT_POLICY unless
   * told otherwise; the relayer applies DEFAULT_POLICY unless configured). A site's committed
   * policy always wins: its document comes from `evidence.policy` and must hash to the ledger's.
   */
  readonly policy?: RulePolicy;
  readonly onProgress?: (line: string) => void;
  /**
   * The eth_getLogs span, adapted to what the RPC accepts (src/chain/createLogRange.ts); give the
   * same one to the auditors that replace each other (the watchtower's) so they keep what was learnt.
   */
  readonly logRange?: LogRange;
  /** Each discrepancy as soon as it is found. */
  readonly onDiscrepancy?: (discrepancy: Discrepancy) => void;
  /**
   * How long an archive may lack a batch's file (seconds after the batch settled, by the block's
   * timestamp) before the batch is `unbacked_batch`; until then it is `evidence_unavailable`.
   * 0 (the default): an absent file is unbacked at once.
   */
  readonly unbackedAfterSeconds?: number;
  /** The clock (ms since the epoch) the grace is measured with; Date.now by default. */
  readonly now?: () => number;
}

export interface Auditor {
  /**
   * Audits the blocks after the last one audited up to `toBlock`: each batch settled in them,
   * then the token's supply and the balances the new batches and transfers touched. Carries
   * the replay (balances, earnings, the sites' rules states, the registry) to the next step.
   * Throws only when the chain cannot be read. A step that throws may have replayed part of its
   * batches, so the auditor is spent: every later call throws an AuditorSpentError, and the
   * caller starts a new auditor (the watchtower does, and hides what it already reported).
   */
  advance(toBlock: bigint): Promise<AuditStep>;
  /** The last block audited (the block before the deployment before the first step). */
  readonly auditedBlock: bigint;
  /** The totals over every step so far. */
  summary(): AuditSummary;
}

/** A step of this auditor failed half-way: its replay can no longer be trusted. */
export class AuditorSpentError extends Error {
  override name = "AuditorSpentError";
  constructor(cause: unknown) {
    super("a previous step of this auditor failed: start a new auditor", { cause });
  }
}

/** Funds the replay grants everyone: the rules' affordability checks depend on the moment of acceptance, which the evidence cannot show; a rejected spend never reaches the evidence anyway. */
const UNLIMITED = 2n ** 200n;
/**
 * How many batches' evidence is held at once: the one being checked and the next, fetched while
 * it is checked (a file or a download takes far less time than the checks of its batch, and a
 * large batch's evidence, parsed, is tens of MB: the window bounds the audit's memory).
 */
const PREFETCH = 2;
/** The rows of the rules replay: what an earlier batch's missing events can cause. */
const REPLAY_CODES: ReadonlySet<DiscrepancyCode> = new Set<DiscrepancyCode>([
  "rule_rejected_event",
  "unexplained_action",
  "event_dropped",
  "missing_action",
  "post_registration_mismatch",
  "action_order_mismatch",
]);
/** How many of a dependent batch's replay differences its row lists. */
const MAX_LISTED = 10;

/**
 * A stateful auditor of a Twei deployment, from the chain and the published evidence alone:
 * for every settled batch it recomputes the merkle root, checks every envelope's signature
 * against the site's signer as the registry held it, checks the leaves' order, that no event
 * settled before (its id, and its envelope's nonce, are the site's once in the history), re-runs the
 * rules on the events to recompute the actions, prices them with the rule set in force at that
 * block, and compares all of it with what the chain recorded (packed actions, minted, burned,
 * shortfalls); then that the token's supply equals all mints minus all burns and that every
 * balance is what the actions and ordinary transfers explain. Each step goes on over new
 * blocks (the watchtower follows the chain with it; runAudit is one step to the head). Bad
 * evidence never stops it: it is a discrepancy of its batch.
 *
 * A site's rules state is the replay of all its earlier batches' events, so a batch whose events
 * could not be replayed (no evidence, or evidence that does not verify) leaves a gap: what a
 * later batch of that site's replay then finds differs (a post its missing events published is
 * unknown, an action is unexplained) is not that batch's fault but unverifiable, and is one
 * `depends_on_unchecked_batch` row naming the earlier batches, never the replay's own codes.
 * Everything else of the later batch (header, signatures, hashes, root, amounts) is checked in full.
 *
 * @example
 * const auditor = createAuditor({ publicClient, deployment, evidence }); const step = await auditor.advance(head)
 */
export function createAuditor(parameters: CreateAuditorParameters): Auditor {
  const { publicClient, deployment } = parameters;
  const resolvePolicy = createPolicyResolver({
    source: parameters.evidence.policy,
    fallback: parameters.policy ?? DEFAULT_POLICY,
  });
  const progress = parameters.onProgress ?? (() => {});
  const registry = createLedgerRegistry();
  const logRange = parameters.logRange ?? createLogRange();
  const attestations = createAttestationReader(publicClient);
  const balances = new Map<string, bigint>();
  // The accounts a step's actions touched, then those only its transfers touched: the balances
  // are checked (and any mismatch named) in that order, however the step's logs were chunked.
  let touched = new Set<string>();
  let touchedByTransfers = new Set<string>();
  const creditTo =
    (accounts: () => Set<string>) =>
    (account: Address, delta: bigint): void => {
      const key = account.toLowerCase();
      balances.set(key, (balances.get(key) ?? 0n) + delta);
      accounts().add(key);
    };
  const credit = creditTo(() => touched);
  const creditTransfer = creditTo(() => touchedByTransfers);
  // What each account earned in batches settled so far: the relayer derives levels from it.
  const earned = new Map<Address, bigint>();
  const states = new Map<number, MemoryRulesState>();
  const stateOf = (siteId: number) => {
    let state = states.get(siteId);
    if (!state) states.set(siteId, (state = createMemoryRulesState({ earned, defaultFunds: UNLIMITED })));
    return state;
  };
  const settled = createSettledEvents();
  const tokenTotals = { mints: 0n, burns: 0n };
  const totals = {
    batches: 0,
    withEvidence: 0,
    events: 0,
    actions: 0,
    shortfalls: 0,
    minted: 0n,
    burned: 0n,
    totalSupply: 0n,
    accountsChecked: 0,
  };
  let auditedBlock = deployment.deploymentBlock - 1n;
  // Per site, the batches whose events the replay lacks (in order): see `depends_on_unchecked_batch`.
  const gaps = new Map<number, string[]>();
  const sitePolicies = new Map<string, { siteId: number; policyHash: Hex }>();
  const grace = parameters.unbackedAfterSeconds ?? 0;
  const now = parameters.now ?? Date.now;

  let spent: unknown;
  async function advance(toBlock: bigint): Promise<AuditStep> {
    if (spent !== undefined) throw new AuditorSpentError(spent);
    try {
      return await step(toBlock);
    } catch (error) {
      spent = error;
      throw error;
    }
  }

  async function step(toBlock: bigint): Promise<AuditStep> {
    const fromBlock = auditedBlock + 1n;
    if (toBlock < fromBlock) return { fromBlock, toBlock, batches: [], discrepancies: [], unchecked: [] };
    progress(`reading the ledger's and token's logs from block ${fromBlock} to ${toBlock}`);
    const discrepancies: Discrepancy[] = [];
    const addFor =
      (batchId: string | null): Add =>
      (code, where, what, expected = "", found = "") => {
        const discrepancy = { code, batchId, where, what, expected, found };
        discrepancies.push(discrepancy);
        parameters.onDiscrepancy?.(discrepancy);
      };
    touched = new Set();
    touchedByTransfers = new Set();

    // A source never rejects by contract; one that does is the source failing for that batch.
    const fetchLookup = (batchId: bigint): Promise<EvidenceLookup> =>
      parameters.evidence(batchId).catch((error: unknown) => ({
        found: false as const,
        kind: "unavailable" as const,
        from: `evidence of batch ${batchId}`,
        reason: error instanceof Error ? error.message : String(error),
      }));
    const batches: AuditedBatch[] = [];
    let transfers = 0;
    /**
     * The step's settled batches in order, each with the history of its chunk of logs and its
     * evidence lookup. The history is replayed chunk by chunk, as eth_getLogs answers (the next
     * chunk is read while this one is checked): a chunk's transfers are counted at once, and
     * nothing of a chunk is kept once its batches are checked, so the step's memory does not grow
     * with the number of blocks, batches or actions it covers. Evidence is fetched PREFETCH - 1
     * batches ahead of the checks, which stay in order.
     */
    async function* settledBatches() {
      const chunks = readLogsAdaptively(publicClient, {
        address: [deployment.ledger, deployment.token],
        fromBlock,
        toBlock,
        range: logRange,
      });
      for await (const chunk of readAhead(chunks)) {
        const history = await readLedgerHistory(publicClient, {
          ledger: deployment.ledger,
          token: deployment.token,
          fromBlock: chunk.fromBlock,
          toBlock: chunk.toBlock,
          registry,
          logs: chunk.logs,
        });
        countTransfers(history.transfers, tokenTotals, creditTransfer);
        transfers += history.transfers.length;
        const lookups: (Promise<EvidenceLookup> | undefined)[] = [];
        for (const [index, batch] of history.batches.entries()) {
          for (let i = index; i < Math.min(index + PREFETCH, history.batches.length); i++)
            lookups[i] ??= fetchLookup((history.batches[i] as SettledBatchLog).batchId);
          const lookup = lookups[index] as Promise<EvidenceLookup>;
          lookups[index] = undefined;
          batches.push({ batchId: batch.batchId, siteId: batch.siteId, blockNumber: batch.blockNumber });
          yield { batch, history, lookup };
        }
      }
    }

    const unchecked: UncheckedBatch[] = [];
    for await (const { batch, history, lookup: found } of settledBatches()) {
      const id = batch.batchId.toString();
      const add = addFor(id);
      totals.batches++;
      if (batch.policyHash)
        sitePolicies.set(`${batch.siteId}:${batch.policyHash}`, { siteId: batch.siteId, policyHash: batch.policyHash });
      const priced = priceBatch({
        batch,
        ruleSets: history.ruleSets,
        shortfalls: history.shortfalls.get(batch.batchId) ?? [],
        credit,
        add,
      });
      if (priced) {
        totals.actions += priced.onChain.actions.length;
        totals.shortfalls += priced.shortfalls;
        totals.minted += priced.minted;
        totals.burned += priced.burned;
      }
      let lookup = await found;
      let unbackedAt: number | undefined;
      if (!lookup.found && lookup.kind === "absent") {
        // An archive may lag: the file is unbacked only once the grace after settlement is over
        // (with no grace, at once: a block's timestamp may run ahead of this clock).
        const graceEnds =
          grace === 0
            ? undefined
            : Number((await publicClient.getBlock({ blockNumber: batch.blockNumber })).timestamp) + grace;
        const overdue = graceEnds === undefined || now() / 1000 >= graceEnds;
        if (!overdue) unbackedAt = graceEnds;
        lookup = overdue
          ? {
              ...lookup,
              kind: "missing",
              reason: `${lookup.reason}${grace > 0 ? ` (${grace} s after it settled)` : ""}`,
            }
          : {
              ...lookup,
              kind: "unavailable",
              reason: `${lookup.reason} yet (unbacked if still absent ${grace} s after it settled)`,
            };
      }
      if (!lookup.found)
        unchecked.push({
          batchId: batch.batchId,
          siteId: batch.siteId,
          blockNumber: batch.blockNumber,
          kind: unbackedAt === undefined ? lookup.kind : "absent",
          ...(unbackedAt === undefined ? {} : { unbackedAt }),
        });
      // After a gap in the site's replay, its differences are this batch's only if none remain.
      const dependsOn = [...(gaps.get(batch.siteId) ?? [])];
      const replayRows: Array<Parameters<Add>> = [];
      const checked = await checkEvidence({
        batch,
        lookup,
        priced,
        deployment,
        signerHistory: history.signers.get(batch.siteId) ?? [],
        stateOf,
        settled,
        resolvePolicy,
        attestations,
        progress,
        add,
        replayAdd: (...row) => (dependsOn.length > 0 && REPLAY_CODES.has(row[0]) ? replayRows.push(row) : add(...row)),
      });
      if (checked.policyUnavailable)
        unchecked.push({
          batchId: batch.batchId,
          siteId: batch.siteId,
          blockNumber: batch.blockNumber,
          kind: "unavailable",
          policyHash: checked.policyUnavailable,
        });
      if (replayRows.length > 0) addDependent(discrepancies, parameters, id, dependsOn, replayRows);
      if (!checked.replayed) gaps.set(batch.siteId, [...dependsOn, id]);
      if (checked.events !== undefined) {
        totals.withEvidence++;
        totals.events += checked.events;
      }
      // Only now: the rules saw the earnings of the batches before this one.
      if (priced)
        for (const [account, amount] of priced.earned) earned.set(account, (earned.get(account) ?? 0n) + amount);
    }
    progress(`${batches.length} settled batches, ${registry.ruleSets.size} rule set(s), ${transfers} transfers`);

    const { totalSupply } = await checkSupplyAndBalances({
      publicClient,
      token: deployment.token,
      toBlock,
      transfers: [], // counted chunk by chunk
      tokenTotals,
      minted: totals.minted,
      burned: totals.burned,
      balances,
      accounts: new Set([...touched, ...touchedByTransfers]),
      credit,
      add: addFor(null),
    });
    totals.totalSupply = totalSupply;
    totals.accountsChecked = balances.size;
    auditedBlock = toBlock;
    return { fromBlock, toBlock, batches, discrepancies, unchecked };
  }

  return {
    advance,
    get auditedBlock() {
      return auditedBlock;
    },
    summary: () => ({
      chainId: deployment.chainId,
      ledger: deployment.ledger,
      fromBlock: deployment.deploymentBlock,
      toBlock: auditedBlock,
      batches: totals.batches,
      batchesWithEvidence: totals.withEvidence,
      events: totals.events,
      actions: totals.actions,
      minted: totals.minted,
      burned: totals.burned,
      shortfalls: totals.shortfalls,
      totalSupply: totals.totalSupply,
      accountsChecked: totals.accountsChecked,
      ruleSetVersions: [...registry.ruleSets.keys()].sort((a, b) => a - b),
      sitePolicies: [...sitePolicies.values()],
    }),
  };
}

/** The one row of a batch whose replay differs after a gap in its site's replay: what differs, listed. */
function addDependent(
  discrepancies: Discrepancy[],
  parameters: CreateAuditorParameters,
  batchId: string,
  dependsOn: readonly string[],
  rows: ReadonlyArray<Parameters<Add>>,
): void {
  const listed = rows.slice(0, MAX_LISTED).map(([code, where, what]) => `${code} at ${where}: ${what}`);
  const more = rows.length > MAX_LISTED ? `; and ${rows.length - MAX_LISTED} more` : "";
  const earlier = dependsOn.length === 1 ? `batch ${dependsOn[0]}` : `batches ${dependsOn.join(", ")}`;
  const discrepancy: Discrepancy = {
    code: "depends_on_unchecked_batch",
    batchId,
    where: "rules replay",
    what: `unverifiable until the evidence of the site's earlier ${earlier} is checked: the replay without its events finds ${rows.length} difference${rows.length === 1 ? "" : "s"} (${listed.join("; ")}${more})`,
    expected: `the evidence of ${earlier}`,
    found: "(unchecked)",
    dependsOn,
  };
  discrepancies.push(discrepancy);
  parameters.onDiscrepancy?.(discrepancy);
}
