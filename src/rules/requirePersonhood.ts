import { getAddress } from "viem";
import { FIRST_BURN_KIND, kindInfo } from "../core/kinds.js";
import { keys } from "./rulesState.js";
import type { EvaluateEventParameters, RuleOutcome } from "./evaluateEvent.js";

/**
 * Proof of personhood (policy `personhood`): an event mints only when its acting user holds a
 * valid attestation. Without one, every mint the event calls for is left out with a note (its
 * burns still apply: a comment's tribute, a dislike's charges); an event left with no action at
 * all (a read, a plus, a like) is rejected as `personhood_required`, so nothing is marked and the
 * user can earn it once attested. When the user's attestations could not be read (the relayer's
 * chain unreachable), the event is rejected as `personhood_unknown` instead: a retry decides it.
 * The attestation relied on is named in the outcome, so the
 * evidence records it and the auditor re-checks it on-chain. Applied after the farming rules
 * (version 3), so what they left out stays left out; what it leaves out counts in no cap. Pure.
 *
 * @example
 * const outcome = requirePersonhood(parameters, evaluateRules(parameters))
 */
export function requirePersonhood(parameters: EvaluateEventParameters, outcome: RuleOutcome): RuleOutcome {
  const { policy, state, event } = parameters;
  if (!policy.personhood || !outcome.accepted) return outcome;
  const mints = outcome.actions.filter((action) => action.kind < FIRST_BURN_KIND);
  if (mints.length === 0) return outcome;
  const attestation = state.attestation?.(event.user);
  if (attestation !== undefined) return { ...outcome, attestation };
  // Not known to be unattested: sent again later, it is decided then (nothing is left out for good).
  if (state.attestationUnknown?.(event.user))
    return {
      accepted: false,
      code: "personhood_unknown",
      message: `the personhood attestations of ${getAddress(event.user)} cannot be read from the chain now; retry later`,
    };
  const why = `${getAddress(event.user)} holds no valid personhood attestation (EAS schema ${policy.personhood.schema} by an attester the site names)`;
  const kept = outcome.actions.filter((action) => action.kind >= FIRST_BURN_KIND);
  if (kept.length === 0)
    return { accepted: false, code: "personhood_required", message: `earning needs proof of personhood: ${why}` };
  // A Comment Reward left out uses none of the reward caps (the counters count rewards paid).
  const unpaid =
    event.type === "comment_created"
      ? new Set([keys.commentRewardsOfUser(event.postId, event.user), keys.commentRewardsOfPost(event.postId)])
      : new Set<string>();
  return {
    ...outcome,
    actions: kept,
    effects: {
      ...outcome.effects,
      counters: outcome.effects.counters.filter((counter) => !unpaid.has(counter)),
      // The tallies sum what was minted (rules version 3): nothing is.
      ...(outcome.effects.tallies ? { tallies: [] } : {}),
    },
    notes: [...outcome.notes, ...mints.map((action) => `no ${kindInfo(action.kind).label}: ${why}`)],
    // Named by the auditor when a chain pays one of them anyway.
    leftOut: [
      ...(outcome.leftOut ?? []),
      ...mints.map((action) => ({
        action,
        note: `personhood_required: no ${kindInfo(action.kind).label}: ${why}`,
      })),
    ],
  };
}
