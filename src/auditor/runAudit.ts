import { formatUnits, getAddress, isAddressEqual, zeroAddress, type Address, type PublicClient } from "viem";
import { z } from "zod";
import { tweiAbi } from "../chain/abi.js";
import { ActionKind, FIRST_BURN_KIND, KIND_COUNT, kindInfo, type ActionKind as Kind } from "../core/kinds.js";
import {
  decodePackedActions,
  encodePackedActions,
  groupByAccount,
  type AccountAction,
  type DecodedAction,
  type PostRegistration,
} from "../core/packedActions.js";
import { amountFor } from "../core/ruleSet.js";
import { batchEvidenceSchema, verifyBatchEvidence, type BatchEvidence } from "../evidence/batchEvidence.js";
import { evaluateEvent } from "../rules/evaluateEvent.js";
import { createMemoryRulesState, type MemoryRulesState } from "../rules/memoryRulesState.js";
import { DEFAULT_POLICY, type RulePolicy } from "../rules/policy.js";
import type { EvidenceLookup, EvidenceSource } from "./evidenceSource.js";
import { readLedgerHistory, type SettledBatchLog, type ShortfallLog } from "./readLedgerHistory.js";

/** What the auditor found to differ, and where. `code` is stable; the rest is for people. */
export interface Discrepancy {
  readonly code: DiscrepancyCode;
  /** The batch, or null for chain-wide checks (supply, balances). */
  readonly batchId: string | null;
  /** The event, envelope, action or account concerned. */
  readonly where: string;
  readonly what: string;
  readonly expected: string;
  readonly found: string;
}

export type DiscrepancyCode =
  | "evidence_missing"
  | "evidence_malformed"
  | "evidence_header_mismatch"
  | "unknown_site"
  | "signature_invalid"
  | "event_hash_mismatch"
  | "root_mismatch"
  | "evidence_invalid"
  | "rule_set_version_mismatch"
  | "rule_rejected_event"
  | "unexplained_action"
  | "event_dropped"
  | "missing_action"
  | "post_registration_mismatch"
  | "action_order_mismatch"
  | "shortfall_mismatch"
  | "minted_mismatch"
  | "burned_mismatch"
  | "token_mints_mismatch"
  | "token_burns_mismatch"
  | "supply_mismatch"
  | "balance_mismatch";

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

const twei = (wei: bigint) => `${formatUnits(wei, 18)} Twei`;
/** Funds the replay grants everyone: the rules' affordability checks depend on the moment of acceptance, which the evidence cannot show; a rejected spend never reaches the evidence anyway. */
const UNLIMITED = 2n ** 200n;
/** How many batches' evidence is fetched ahead of the one being checked. */
const PREFETCH = 8;

const describeAction = (a: AccountAction) =>
  `${kindInfo(a.kind).label} ×${a.units} ${kindInfo(a.kind).direction === "mint" ? "to" : "from"} ${getAddress(a.account)} on post ${a.postId}`;
const actionKey = (a: AccountAction) => `${a.account.toLowerCase()}:${a.kind}:${a.units}:${a.postId}`;

function classify(message: string): DiscrepancyCode {
  if (/signed by|signature/.test(message)) return "signature_invalid";
  if (/merkle root/.test(message)) return "root_mismatch";
  if (/eventHash|did not sign this event/.test(message)) return "event_hash_mismatch";
  return "evidence_invalid";
}

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
    const id = batch.batchId.toString();
    const add = (code: DiscrepancyCode, where: string, what: string, expected = "", found = "") =>
      discrepancies.push({ code, batchId: id, where, what, expected, found });

    // The chain's own record: every action priced with the rule set of the batch.
    if (batch.ruleSetVersion !== batch.versionInForce)
      add(
        "rule_set_version_mismatch",
        "BatchSettled",
        "the batch names another rule set version than the one in force at its block",
        String(batch.versionInForce),
        String(batch.ruleSetVersion),
      );
    const amounts = history.ruleSets.get(batch.ruleSetVersion);
    let onChain: { posts: PostRegistration[]; actions: DecodedAction[] };
    try {
      onChain = decodePackedActions(batch.actions);
    } catch (error) {
      add("evidence_invalid", "BatchSettled.actions", `the packed actions do not decode: ${String(error)}`);
      continue;
    }
    actionCount += onChain.actions.length;
    const shortfalls = new Map<number, ShortfallLog>();
    for (const shortfall of history.shortfalls.get(batch.batchId) ?? [])
      shortfalls.set(shortfall.actionIndex, shortfall);
    shortfallCount += shortfalls.size;
    const earnedHere = new Map<Address, bigint>();
    if (amounts && amounts.length === KIND_COUNT) {
      let batchMinted = 0n;
      let batchBurned = 0n;
      for (const action of onChain.actions) {
        const amount = amountFor(amounts, action.kind, action.units);
        if (action.kind < FIRST_BURN_KIND) {
          batchMinted += amount;
          credit(action.account, amount);
          const key = action.account.toLowerCase() as Address;
          earnedHere.set(key, (earnedHere.get(key) ?? 0n) + amount);
          continue;
        }
        const shortfall = shortfalls.get(action.actionIndex);
        if (shortfall) {
          const expected = `${kindInfo(action.kind).label} of ${twei(amount)} from ${action.account} on post ${action.postId}`;
          const found = `${kindInfo(shortfall.kind as Kind).label} of ${twei(shortfall.amount)} from ${shortfall.account} on post ${shortfall.postId}`;
          if (expected !== found)
            add(
              "shortfall_mismatch",
              `action #${action.actionIndex}`,
              "the BurnShortfall names another burn",
              expected,
              found,
            );
          continue;
        }
        batchBurned += amount;
        credit(action.account, -amount);
      }
      for (const index of shortfalls.keys())
        if (index >= onChain.actions.length)
          add("shortfall_mismatch", `action #${index}`, "a BurnShortfall names an action the batch does not have");
      minted += batchMinted;
      burned += batchBurned;
      if (batchMinted !== batch.minted)
        add(
          "minted_mismatch",
          "BatchSettled.minted",
          "minted differs from the actions priced by the rule set",
          twei(batchMinted),
          twei(batch.minted),
        );
      if (batchBurned !== batch.burned)
        add(
          "burned_mismatch",
          "BatchSettled.burned",
          "burned differs from the paid burns priced by the rule set",
          twei(batchBurned),
          twei(batch.burned),
        );
    } else
      add("rule_set_version_mismatch", "BatchSettled", `rule set version ${batch.ruleSetVersion} was never published`);

    await checkEvidence(batch, await lookupOf(batchIndex), onChain, amounts, add);
    // Only now: the rules saw the earnings of the batches before this one.
    for (const [account, amount] of earnedHere) earned.set(account, (earned.get(account) ?? 0n) + amount);
  }

  async function checkEvidence(
    batch: SettledBatchLog,
    lookup: EvidenceLookup,
    onChain: { posts: PostRegistration[]; actions: DecodedAction[] },
    amounts: readonly bigint[] | undefined,
    add: Add,
  ): Promise<void> {
    const id = batch.batchId.toString();
    if (!lookup.found) {
      add(
        "evidence_missing",
        "evidence",
        `no evidence for a batch that minted ${twei(batch.minted)}: ${lookup.reason}`,
      );
      progress(`batch ${id}: no evidence (${lookup.reason})`);
      return;
    }
    const parsed = batchEvidenceSchema.safeParse(lookup.evidence);
    if (!parsed.success) {
      add("evidence_malformed", lookup.from, z.prettifyError(parsed.error).split("\n").slice(0, 4).join("; "));
      return;
    }
    withEvidence++;
    const evidence = parsed.data;
    events += evidence.events.length;
    checkHeader(evidence, batch, deployment, add);
    if (!batch.siteSigner) {
      add("unknown_site", `site ${batch.siteId}`, "the site was not in the registry when the batch settled");
      return;
    }
    for (const problem of await verifyBatchEvidence({
      evidence,
      siteSigner: batch.siteSigner,
      onChainRoot: batch.evidenceRoot,
    })) {
      const code = classify(problem.message);
      const roots = /merkle root is (0x[0-9a-fA-F]+), the chain says (0x[0-9a-fA-F]+)/.exec(problem.message);
      if (roots)
        add(code, "evidence root", "the events' merkle root is not the root settled on-chain", roots[2], roots[1]);
      else if (code !== "root_mismatch") add(code, problem.where, problem.message);
      // (a root mismatch with the evidence's own root field is reported by checkHeader)
    }

    // Re-run the rules on the events, in leaf order, and compare with the chain's actions.
    if (amounts && amounts.length === KIND_COUNT)
      replayRules(batch, evidence, onChain, stateOf(batch.siteId), policy, amounts, add);
    progress(
      `batch ${id}: ${evidence.events.length} events, ${onChain.actions.length} actions, minted ${twei(batch.minted)}, burned ${twei(batch.burned)}`,
    );
  }

  // The token: supply = mints − burns, and every balance explained by actions and transfers.
  let tokenMints = 0n;
  let tokenBurns = 0n;
  for (const { from, to, value } of history.transfers) {
    if (isAddressEqual(from, zeroAddress)) tokenMints += value;
    else if (isAddressEqual(to, zeroAddress)) tokenBurns += value;
    else {
      credit(from, -value);
      credit(to, value);
    }
  }
  const chainWide = (code: DiscrepancyCode, where: string, what: string, expected: string, found: string) =>
    discrepancies.push({ code, batchId: null, where, what, expected, found });
  if (tokenMints !== minted)
    chainWide(
      "token_mints_mismatch",
      "Transfer logs",
      "the token minted other than the settled batches",
      twei(minted),
      twei(tokenMints),
    );
  if (tokenBurns !== burned)
    chainWide(
      "token_burns_mismatch",
      "Transfer logs",
      "the token burned other than the settled batches",
      twei(burned),
      twei(tokenBurns),
    );
  const totalSupply = await publicClient.readContract({
    address: deployment.token,
    abi: tweiAbi,
    functionName: "totalSupply",
    blockNumber: toBlock,
  });
  if (totalSupply !== minted - burned)
    chainWide(
      "supply_mismatch",
      "totalSupply()",
      "the supply is not all mints minus all burns",
      twei(minted - burned),
      twei(totalSupply),
    );
  const accounts = [...balances.keys()];
  const onChainBalances = await Promise.all(
    accounts.map((account) =>
      publicClient.readContract({
        address: deployment.token,
        abi: tweiAbi,
        functionName: "balanceOf",
        args: [account as Address],
        blockNumber: toBlock,
      }),
    ),
  );
  accounts.forEach((account, i) => {
    const expected = balances.get(account) ?? 0n;
    const found = onChainBalances[i] ?? 0n;
    if (expected !== found)
      chainWide(
        "balance_mismatch",
        getAddress(account),
        "the balance is not what actions and transfers explain",
        twei(expected),
        twei(found),
      );
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
      accountsChecked: accounts.length,
      ruleSetVersions: [...history.ruleSets.keys()].sort((a, b) => a - b),
    },
    discrepancies,
    ok: discrepancies.length === 0,
  };
}

type Add = (code: DiscrepancyCode, where: string, what: string, expected?: string, found?: string) => void;

function checkHeader(
  evidence: BatchEvidence,
  batch: SettledBatchLog,
  deployment: RunAuditParameters["deployment"],
  add: Add,
): void {
  const field = (name: string, expected: string, found: string) => {
    if (expected.toLowerCase() !== found.toLowerCase())
      add("evidence_header_mismatch", `evidence.${name}`, `the evidence's ${name} is not the chain's`, expected, found);
  };
  field("batchId", batch.batchId.toString(), evidence.batchId);
  field("siteId", String(batch.siteId), String(evidence.siteId));
  field("evidenceRoot", batch.evidenceRoot, evidence.evidenceRoot);
  field("actions", batch.actions, evidence.actions);
  field("domain.chainId", String(deployment.chainId), String(evidence.domain.chainId));
  field("domain.verifyingContract", deployment.ledger, evidence.domain.verifyingContract);
}

/**
 * Re-runs the rules on a batch's events and compares the actions (and post registrations)
 * with the chain's. One leeway, and only one: the relayer decides a commenter's level from
 * the batches settled when it accepted the comment, which may be fewer than all the batches
 * before this one, so a comment that the replay would reward but the chain did not is
 * accepted when the rules without those earnings agree with the chain.
 */
function replayRules(
  batch: SettledBatchLog,
  evidence: BatchEvidence,
  onChain: { posts: PostRegistration[]; actions: DecodedAction[] },
  state: MemoryRulesState,
  policy: RulePolicy,
  amounts: readonly bigint[],
  add: Add,
): void {
  const remaining = new Map<string, number>();
  for (const action of onChain.actions) remaining.set(actionKey(action), (remaining.get(actionKey(action)) ?? 0) + 1);
  const chainRewards = (user: Address, postId: bigint) =>
    (remaining.get(actionKey({ account: user, kind: ActionKind.CommentRewards, units: 1, postId })) ?? 0) > 0;

  const replayed: Array<AccountAction & { eventId: string }> = [];
  const posts: PostRegistration[] = [];
  for (const { event } of evidence.events) {
    let outcome = evaluateEvent({ siteId: batch.siteId, event, policy, amounts, state });
    if (outcome.accepted && event.type === "comment_created") {
      const rewarded = outcome.actions.find((a) => a.kind === ActionKind.CommentRewards);
      if (rewarded && !chainRewards(rewarded.account, rewarded.postId)) {
        const lower = evaluateEvent({
          siteId: batch.siteId,
          event,
          policy,
          amounts,
          state: { ...state, earned: () => 0n },
        });
        if (lower.accepted && !lower.actions.some((a) => a.kind === ActionKind.CommentRewards)) outcome = lower;
      }
    }
    if (!outcome.accepted) {
      add(
        "rule_rejected_event",
        `event ${event.eventId}`,
        `the rules reject this event: ${outcome.code}: ${outcome.message}`,
      );
      continue;
    }
    state.apply(outcome, amounts);
    if (outcome.registers) posts.push(outcome.registers);
    for (const action of outcome.actions) {
      replayed.push({ ...action, eventId: event.eventId });
      const key = actionKey(action);
      const left = remaining.get(key) ?? 0;
      if (left > 0) remaining.set(key, left - 1);
    }
  }

  let expected: string;
  try {
    expected = encodePackedActions({ posts, groups: groupByAccount(replayed) });
  } catch (error) {
    // More posts than one batch may refer to: it cannot equal the chain's; the diff says why.
    expected = `(cannot be packed: ${error instanceof Error ? error.message : String(error)})`;
  }
  if (expected.toLowerCase() === batch.actions.toLowerCase()) return;

  // Say exactly what differs: actions on one side only, then registrations, then order.
  const pending = new Map<string, Array<AccountAction & { eventId: string }>>();
  for (const action of replayed) {
    const list = pending.get(actionKey(action)) ?? [];
    list.push(action);
    pending.set(actionKey(action), list);
  }
  let differs = false;
  let unexplained = 0;
  for (const action of onChain.actions) {
    const list = pending.get(actionKey(action));
    if (list && list.length > 0) {
      list.shift();
      continue;
    }
    differs = true;
    unexplained++;
    add(
      "unexplained_action",
      `action #${action.actionIndex}`,
      "the chain settled an action no event in the evidence calls for (an event dropped or altered?)",
      "(none)",
      `${describeAction(action)}: ${formatUnits(amountFor(amounts, action.kind, action.units), 18)} Twei`,
    );
  }
  let missing = 0;
  for (const list of pending.values())
    for (const action of list) {
      differs = true;
      missing++;
      add(
        "missing_action",
        `event ${action.eventId}`,
        "the rules call for an action the chain did not settle",
        `${describeAction(action)}: ${formatUnits(amountFor(amounts, action.kind, action.units), 18)} Twei`,
        "(none)",
      );
    }
  // Events the site signed that the evidence leaves out: normal for events the rules rejected,
  // but when the chain settled actions nothing explains and the evidence calls for nothing the
  // chain lacks (which would point at an altered event instead), a dropped event hides there.
  if (unexplained > 0 && missing === 0) {
    const present = new Set(evidence.events.map((e) => e.eventHash.toLowerCase()));
    for (const envelope of evidence.envelopes)
      envelope.eventHashes.forEach((hash, index) => {
        if (!present.has(hash.toLowerCase()))
          add(
            "event_dropped",
            `envelope ${envelope.nonce} #${index}`,
            "signed by the site, absent from the evidence, while the chain settled actions no event explains: a dropped event (unless the rules rejected it)",
            `event ${hash} in the evidence`,
            "(absent)",
          );
      });
  }
  const registrations = (list: readonly PostRegistration[]) =>
    list.map((p) => `${p.postId} by ${getAddress(p.author)}`).join(", ") || "(none)";
  if (registrations(posts) !== registrations(onChain.posts)) {
    differs = true;
    add(
      "post_registration_mismatch",
      "posts",
      "the batch registers other posts than the events publish",
      registrations(posts),
      registrations(onChain.posts),
    );
  }
  if (!differs)
    add(
      "action_order_mismatch",
      "BatchSettled.actions",
      "the same actions, packed in another order than the rules give",
      expected,
      batch.actions,
    );
}
