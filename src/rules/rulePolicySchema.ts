import type { Address, Hex } from "viem";
import { z } from "zod";
import { FARM_RULES_VERSION, type RulePolicy } from "./policy.js";

const count = z.number().int().nonnegative();
const FARM_FIELDS = [
  "voteToEarnMinLevel",
  "maxLikesPerUserPerDay",
  "earningRamp",
  "maxReadsEarnedPerUserPerDay",
] as const;
/**
 * A policy document (src/rules/policy.ts) as published: every field the rules read, version 3's
 * farming rules required from version 3 and refused before, no field the rules do not know (a
 * document the auditor cannot replay with is refused, never half-applied).
 *
 * @example
 * rulePolicySchema.parse(JSON.parse(text)) // a RulePolicy
 */
export const rulePolicySchema = z
  .strictObject({
    version: count,
    wordsPerMinute: count.min(1),
    minReadBps: count.max(10_000),
    minCommentLength: count,
    commentToEarnMinLevel: count.min(1),
    maxCommentRewardsPerUserPerPost: count,
    maxCommentRewardsPerPost: count,
    maxPlusesPerUserPerDay: count,
    // Version 3's farming rules (src/rules/policy.ts): required from it, absent before.
    voteToEarnMinLevel: count.min(1).optional(),
    maxLikesPerUserPerDay: count.optional(),
    earningRamp: z
      .array(z.strictObject({ belowLevel: count.min(2), maxReadsPerDay: count }))
      .max(100)
      .refine((steps) => steps.every((step, i) => i === 0 || step.belowLevel > steps[i - 1]!.belowLevel), {
        message: "steps in increasing belowLevel",
      })
      .optional(),
    maxReadsEarnedPerUserPerDay: count.optional(),
    personhood: z
      .strictObject({
        eas: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "not an address") as unknown as z.ZodType<Address>,
        schema: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "not a schema UID") as unknown as z.ZodType<Hex>,
        attesters: z
          .array(z.string().regex(/^0x[0-9a-fA-F]{40}$/, "not an address") as unknown as z.ZodType<Address>)
          .min(1),
      })
      .optional(),
  })
  .superRefine((policy, ctx) => {
    const farming = policy.version >= FARM_RULES_VERSION;
    for (const field of FARM_FIELDS)
      if ((policy[field] === undefined) === farming)
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: farming
            ? `required from version ${FARM_RULES_VERSION}`
            : `only from version ${FARM_RULES_VERSION} (this policy is version ${policy.version})`,
        });
  });

/**
 * Reads a policy document with {@link rulePolicySchema}: the policy, or the schema's problems in words.
 *
 * @example
 * const parsed = parseRulePolicy(JSON.parse(text)); if (parsed.ok) use(parsed.policy)
 */
export function parseRulePolicy(json: unknown): { ok: true; policy: RulePolicy } | { ok: false; problems: string } {
  const parsed = rulePolicySchema.safeParse(json);
  if (!parsed.success) return { ok: false, problems: z.prettifyError(parsed.error) };
  // zod leaves an absent optional field absent (never present as undefined).
  return { ok: true, policy: parsed.data as RulePolicy };
}
