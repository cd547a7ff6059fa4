import type { RequestHandler } from "express";
import { KINDS } from "../../core/kinds.js";
import { HttpProblem } from "../../http/problem.js";
import type { RuleSetOnChain } from "../chain/chainReader.js";
import { withTimeout } from "./authenticate.js";
import type { RelayerContext } from "./relayerContext.js";

const isoOf = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString();

/** A rule set as `GET /v1/rules` shows it: each kind's amount (wei, decimal) and unit bound, by name. */
export interface RuleSetJson {
  readonly version: number;
  /** Unix seconds, decimal. */
  readonly effectiveAt: string;
  readonly effectiveAtIso: string;
  readonly kinds: readonly {
    readonly kind: number;
    readonly label: string;
    readonly direction: "mint" | "burn";
    readonly amount: string;
    readonly maxUnits: number;
  }[];
}

/** The answer of `GET /v1/rules`. */
export interface GetRulesReturnType {
  readonly current: RuleSetJson;
  readonly scheduled: RuleSetJson | null;
  readonly previous: { readonly version: number; readonly graceEndsAt: string; readonly graceEndsAtIso: string } | null;
  readonly ruleSetGrace: number;
}

function ruleSetJson(ruleSet: RuleSetOnChain): RuleSetJson {
  return {
    version: ruleSet.version,
    effectiveAt: ruleSet.effectiveAt.toString(),
    effectiveAtIso: isoOf(ruleSet.effectiveAt),
    kinds: KINDS.map((info) => ({
      kind: info.kind,
      label: info.label,
      direction: info.direction,
      amount: (ruleSet.amounts[info.kind] ?? 0n).toString(),
      maxUnits: ruleSet.maxUnits[info.kind] ?? 0,
    })),
  };
}

/**
 * `GET /v1/rules` (public): the rule set events are priced under now, the one announced and
 * when it takes effect, and the one it replaced while the ledger still settles batches priced
 * under it. As the ledger says (cached a few seconds), so users and sites see a price change
 * before it bites.
 *
 * @example
 * const { current, scheduled } = await (await fetch(`${relayer}/v1/rules`)).json()
 */
export function getRules(ctx: RelayerContext): RequestHandler {
  return async (_req, res) => {
    let schedule;
    try {
      schedule = await withTimeout(ctx.chainTimeoutMs, ctx.reader.ruleSchedule());
    } catch {
      throw new HttpProblem(503, "chain_unavailable", "The chain cannot be read", {
        detail: "the ledger's rule sets cannot be read now; retry later",
        retryAfter: 5,
      });
    }
    const answer: GetRulesReturnType = {
      current: ruleSetJson(schedule.current),
      scheduled: schedule.scheduled && ruleSetJson(schedule.scheduled),
      previous: schedule.previous && {
        version: schedule.previous.version,
        graceEndsAt: schedule.previous.graceEndsAt.toString(),
        graceEndsAtIso: isoOf(schedule.previous.graceEndsAt),
      },
      ruleSetGrace: schedule.ruleSetGrace,
    };
    res.json(answer);
  };
}
