import { formatUnits, getAddress, isAddressEqual, type Address, type Hex } from "viem";
import { FIRST_BURN_KIND, kindInfo } from "../core/kinds.js";
import {
  encodePackedActions,
  groupByAccount,
  type AccountAction,
  type DecodedAction,
  type PostRegistration,
} from "../core/packedActions.js";
import { earnedForLevel, levelFor } from "../core/levels.js";
import { amountFor } from "../core/ruleSet.js";
import type { BatchEvidence } from "../evidence/batchEvidence.js";
import type { EvidenceOrder } from "../evidence/evidenceOrder.js";
import type { LeftOutAction } from "../rules/capEarnings.js";
import { evaluateEvent, type RuleAccepted, type RuleOutcome } from "../rules/evaluateEvent.js";
import type { MemoryRulesState } from "../rules/memoryRulesState.js";
import type { RulePolicy } from "../rules/policy.js";
import type { SiteEvent } from "../evidence/siteEvent.js";
import type { Add } from "./discrepancy.js";
import type { SettledBatchLog } from "./readLedgerHistory.js";

const describeAction = (a: AccountAction) =>
  `${kindInfo(a.kind).label} ×${a.units} ${kindInfo(a.kind).direction === "mint" ? "to" : "from"} ${getAddress(a.account)} on post ${a.postId}`;
const actionKey = (a: AccountAction) => `${a.account.toLowerCase()}:${a.kind}:${a.units}:${a.postId}`;
const mintCount = (outcome: RuleOutcome) =>
  outcome.accepted ? outcome.actions.filter((a) => a.kind < FIRST_BURN_KIND).length : 0;
/** A stand-in UID: "had the user been attested". */
const SOME_ATTESTATION: Hex = `0x${"ff".repeat(32)}`;

/** `state` in which `user` holds `attestation` (undefined: none) and nobody else holds one. */
const attestedAs = (state: MemoryRulesState, user: Address, attestation: Hex | undefined): MemoryRulesState => ({
  ...state,
  attestation: (account) => (attestation !== undefined && isAddressEqual(account, user) ? attestation : undefined),
});

/**
 * The event's outcome had its accounts' levels been lower (the relayer's figure of what they
 * earned may lag the chain's), when one agrees with the chain: each level ceiling from just
 * below the highest account's level down to level 1 (nothing earned), first match wins. A
 * lower level never pays more (levels only open Comment Rewards and vote earnings and raise
 * the daily earning limit), so this leeway cannot excuse an overpayment.
 */
function atLowerLevels(parameters: {
  readonly siteId: number;
  readonly event: SiteEvent;
  readonly policy: RulePolicy;
  readonly amounts: readonly bigint[];
  readonly state: MemoryRulesState;
  readonly outcome: RuleAccepted;
  readonly onChainStill: (outcome: RuleAccepted) => boolean;
}): RuleAccepted | undefined {
  const { siteId, event, policy, amounts, state, outcome, onChainStill } = parameters;
  const accounts = [
    event.user,
    ...outcome.actions.map((a) => a.account),
    ...(outcome.leftOut ?? []).map((l) => l.action.account),
  ];
  const top = Math.max(...accounts.map((account) => levelFor(state.earned(account))));
  for (let ceiling = top - 1; ceiling >= 1; ceiling--) {
    const cap = earnedForLevel(ceiling);
    const earned = (account: Address) => {
      const actual = state.earned(account);
      return actual < cap ? actual : cap;
    };
    const lower = evaluateEvent({ siteId, event, policy, amounts, state: { ...state, earned } });
    if (lower.accepted && onChainStill(lower)) return lower;
  }
  return undefined;
}

/**
 * Re-runs the rules on a batch's events and compares the actions (and post registrations)
 * with the chain's. One leeway, and only one: the relayer decides levels (Comment Rewards, vote
 * earnings, the daily earning limits) from the batches settled when it accepted the event,
 * which may be fewer than all the batches before this one, so an event that the replay would
 * pay more than the chain did is accepted when the rules at lower levels agree with the chain
 * (`atLowerLevels`). A mint the chain paid that the farming rules left out is named with its rule. The events are replayed
 * in the batch's order (`order.replayOrder`: their envelopes' order when the evidence was
 * reordered), and the order of the chain's actions is compared only when the evidence's order
 * is the batch's: a reordered evidence file is named as such, never blamed on the chain.
 * Each event is replayed with `policyOf` its position: the policy its envelope was accepted under.
 * Under a policy requiring proof of personhood, each event's user holds only the attestation
 * checkAttestations confirmed (`attestations`, by evidence position); an event the chain paid as
 * if attested while the evidence names no attestation is `attestation_missing`.
 */
export function replayRules(parameters: {
  readonly batch: SettledBatchLog;
  readonly evidence: BatchEvidence;
  readonly order: EvidenceOrder;
  readonly onChain: { posts: PostRegistration[]; actions: DecodedAction[] };
  readonly state: MemoryRulesState;
  /** The policy each event (by its position in the evidence) is replayed with. */
  readonly policyOf: (position: number) => RulePolicy;
  readonly amounts: readonly bigint[];
  /** The attestations checkAttestations confirmed, by the event's position in the evidence. */
  readonly attestations?: ReadonlyMap<number, Hex>;
  readonly add: Add;
}): void {
  const { batch, evidence, order, onChain, state: siteState, policyOf, amounts, add } = parameters;
  const remaining = new Map<string, number>();
  for (const action of onChain.actions) remaining.set(actionKey(action), (remaining.get(actionKey(action)) ?? 0) + 1);
  /** Whether the chain holds every action of `outcome` not yet claimed by an earlier event. */
  const onChainStill = (outcome: RuleAccepted): boolean => {
    const wanted = new Map<string, number>();
    for (const action of outcome.actions) wanted.set(actionKey(action), (wanted.get(actionKey(action)) ?? 0) + 1);
    for (const [key, n] of wanted) if ((remaining.get(key) ?? 0) < n) return false;
    return true;
  };

  const replayed: Array<AccountAction & { eventId: string }> = [];
  const leftOut: Array<LeftOutAction & { eventId: string }> = [];
  /** Events with no attestation named, and the actions they would have had as an attested user's. */
  const unattested: Array<{ eventId: string; user: Address; keys: ReadonlySet<string> }> = [];
  const posts: PostRegistration[] = [];
  for (const position of order.replayOrder) {
    const item = evidence.events[position];
    if (!item) continue;
    const { event } = item;
    const policy = policyOf(position);
    const state = policy.personhood
      ? attestedAs(siteState, event.user, parameters.attestations?.get(position))
      : siteState;
    let outcome = evaluateEvent({ siteId: batch.siteId, event, policy, amounts, state });
    if (policy.personhood && item.attestation === undefined) {
      // What it would have paid had its user been attested: named if the chain settled it.
      const attested = attestedAs(siteState, event.user, SOME_ATTESTATION);
      const paid = evaluateEvent({ siteId: batch.siteId, event, policy, amounts, state: attested });
      if (paid.accepted && mintCount(paid) > mintCount(outcome))
        unattested.push({
          eventId: event.eventId,
          user: event.user,
          keys: new Set(paid.actions.filter((a) => a.kind < FIRST_BURN_KIND).map(actionKey)),
        });
    }
    if (outcome.accepted && !onChainStill(outcome)) {
      const lower = atLowerLevels({ siteId: batch.siteId, event, policy, amounts, state, outcome, onChainStill });
      if (lower) outcome = lower;
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
    for (const entry of outcome.leftOut ?? []) leftOut.push({ ...entry, eventId: event.eventId });
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
  const missingAttestation = new Set<string>();
  for (const action of onChain.actions) {
    const list = pending.get(actionKey(action));
    if (list && list.length > 0) {
      list.shift();
      continue;
    }
    differs = true;
    unexplained++;
    // A mint the farming rules left out (or trimmed) is named with the rule it breaks.
    const broken = leftOut.find((entry) => actionKey(entry.action) === actionKey(action));
    // Paid as an attested user's while the evidence names no attestation: the relayer skipped the check.
    const skipped = unattested.find((entry) => entry.keys.has(actionKey(action)));
    if (skipped && !missingAttestation.has(skipped.eventId)) {
      missingAttestation.add(skipped.eventId);
      add(
        "attestation_missing",
        `event ${skipped.eventId}`,
        `the chain paid ${getAddress(skipped.user)} for this event as an attested person (${describeAction(action)}), and the evidence names no personhood attestation for it`,
        "an attestation named in events[].attestation",
        "(none)",
      );
    }
    add(
      "unexplained_action",
      `action #${action.actionIndex}`,
      broken
        ? `the chain settled an action the rules left out of event ${broken.eventId}: ${broken.note}`
        : "the chain settled an action no event in the evidence calls for (an event dropped or altered?)",
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
  if (!differs && order.trusted)
    add(
      "action_order_mismatch",
      "BatchSettled.actions",
      "the same actions, packed in another order than the rules give",
      expected,
      batch.actions,
    );
}
