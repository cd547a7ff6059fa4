import { formatUnits, parseUnits } from "viem";
import { z } from "zod";
import { ActionKind } from "./kinds.js";
import type { RuleAmounts } from "./ruleSet.js";

/** The ledger refuses rule amounts of 2**88 wei and more (ITweiLedger.setRuleSet). */
const MAX_AMOUNT = 2n ** 88n;

const twei = z
  .string()
  .regex(/^\d+(\.\d{1,18})?$/, 'a Twei amount as a decimal string, e.g. "0.5" (at most 18 decimals)')
  .transform((value) => parseUnits(value, 18))
  .refine((wei) => wei < MAX_AMOUNT, "below 2**88 wei");

const kindNames = Object.keys(ActionKind) as (keyof typeof ActionKind)[];

/**
 * A rule set file (deployments/rules/*.json): the Twei each of the 13 action kinds moves, by
 * kind name (Read-to-Earn's for a full read, every other per unit), as decimal strings.
 */
export const ruleSetFileSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  amounts: z.strictObject(
    Object.fromEntries(kindNames.map((name) => [name, twei])) as Record<keyof typeof ActionKind, typeof twei>,
  ),
});

export class RuleSetFileError extends Error {
  override name = "RuleSetFileError";
}

/**
 * Parses a rule set file's JSON text into the ledger's amounts, indexed by kind id.
 *
 * @example
 * parseRuleSetFile(await readFile("deployments/rules/launch.json", "utf8"), "launch.json").amounts[ActionKind.ReadToEarn] // 100 Twei in wei
 */
export function parseRuleSetFile(text: string, path: string): { name: string; amounts: RuleAmounts } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RuleSetFileError(`${path} is not JSON`);
  }
  const parsed = ruleSetFileSchema.safeParse(json);
  if (!parsed.success) throw new RuleSetFileError(`${path}: ${z.prettifyError(parsed.error)}`);
  // The strict schema holds an amount for each of the 13 kinds: the list has them all.
  return { name: parsed.data.name, amounts: kindNames.map((name) => parsed.data.amounts[name]) };
}

/** A rule set's amounts as a file's `amounts` object (Twei decimal strings by kind name). */
export function ruleSetFileAmounts(amounts: RuleAmounts): Record<string, string> {
  return Object.fromEntries(kindNames.map((name) => [name, formatUnits(amounts[ActionKind[name]] ?? 0n, 18)]));
}
