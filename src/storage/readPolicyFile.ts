import type { RulePolicy } from "../rules/policy.js";
import { parseRulePolicy } from "../rules/rulePolicySchema.js";
import { readJsonFile } from "./readJsonFile.js";

/** A policy document read from a file: the policy, or why not in words (naming the path). */
export type PolicyFileRead =
  { readonly ok: true; readonly policy: RulePolicy } | { readonly ok: false; readonly reason: string };

/**
 * Reads a site policy document (the JSON committed on-chain with `npm run set-policy`) and
 * checks it with the rules' policy schema, never throwing: the relayer, `register-site` and the
 * auditor say the reason their own way.
 *
 * @example
 * const read = await readPolicyFile("policy.json")
 * if (!read.ok) fail(read.reason)
 */
export async function readPolicyFile(path: string): Promise<PolicyFileRead> {
  const file = await readJsonFile(path);
  if (!file.read) return { ok: false, reason: file.reason };
  const parsed = parseRulePolicy(file.json);
  if (!parsed.ok) return { ok: false, reason: `${path} is not a policy document: ${parsed.problems}` };
  return { ok: true, policy: parsed.policy };
}
