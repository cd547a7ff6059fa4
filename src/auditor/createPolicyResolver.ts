import type { Hex } from "viem";
import type { RulePolicy } from "../rules/policy.js";
import { policyHash } from "../rules/policyHash.js";
import { parseRulePolicy } from "../rules/rulePolicySchema.js";
import type { PolicySource } from "./policySource.js";

/**
 * The policy a batch is replayed with, or why it cannot be: its document could not be had
 * (`policy_unavailable`, the watchtower looks again) or is not the one the ledger holds
 * (`policy_invalid`: not JSON, another hash, or not a policy the rules know).
 */
export type PolicyResolution =
  | { readonly ok: true; readonly policy: RulePolicy }
  | {
      readonly ok: false;
      readonly code: "policy_unavailable" | "policy_invalid";
      readonly where: string;
      readonly what: string;
      readonly expected: string;
      readonly found: string;
    };

/** A batch's policy by the hash in force for its site at its block (undefined: none committed). */
export type PolicyResolver = (hash: Hex | undefined) => Promise<PolicyResolution>;

/**
 * Resolves a site policy hash to the document to replay with: fetched from `source`, checked to
 * hash (keccak256 of its canonical JSON, src/rules/policyHash.ts) to exactly what the ledger
 * holds, then read with the policy schema. A site with no policy committed is replayed with
 * `fallback` (the relayer applies DEFAULT_POLICY unless configured otherwise). Each hash is
 * fetched once per resolver (a new auditor, the watchtower's after it starts over, looks again).
 *
 * @example
 * const resolve = createPolicyResolver({ source: evidence.policy, fallback: DEFAULT_POLICY }); const r = await resolve(batch.policyHash)
 */
export function createPolicyResolver(parameters: {
  readonly source: PolicySource | undefined;
  readonly fallback: RulePolicy;
}): PolicyResolver {
  const { source, fallback } = parameters;
  const cache = new Map<string, Promise<PolicyResolution>>();
  return (hash) => {
    if (hash === undefined) return Promise.resolve({ ok: true, policy: fallback });
    const key = hash.toLowerCase();
    let resolution = cache.get(key);
    if (!resolution) cache.set(key, (resolution = resolve(source, hash)));
    return resolution;
  };
}

async function resolve(source: PolicySource | undefined, hash: Hex): Promise<PolicyResolution> {
  const expected = `the policy document hashing to ${hash}`;
  if (!source)
    return {
      ok: false,
      code: "policy_unavailable",
      where: `policy ${hash}`,
      what: "the site's policy is committed on-chain but this evidence source publishes no policy documents",
      expected,
      found: "(none)",
    };
  const lookup = await source(hash).catch(
    (error: unknown) =>
      ({
        found: false,
        kind: "unavailable",
        from: `policy ${hash}`,
        reason: error instanceof Error ? error.message : String(error),
      }) as const,
  );
  if (!lookup.found)
    return {
      ok: false,
      code: lookup.kind === "malformed" ? "policy_invalid" : "policy_unavailable",
      where: lookup.from,
      what: `the site's policy document could not be had: ${lookup.reason}`,
      expected,
      found: "(none)",
    };
  let found: Hex;
  try {
    found = policyHash(lookup.document);
  } catch (error) {
    found = `0x (${error instanceof Error ? error.message : String(error)})` as Hex;
  }
  if (found.toLowerCase() !== hash.toLowerCase())
    return {
      ok: false,
      code: "policy_invalid",
      where: lookup.from,
      what: "the policy document does not hash to what the ledger holds for the site at the batch's block",
      expected: hash,
      found,
    };
  const parsed = parseRulePolicy(lookup.document);
  if (!parsed.ok)
    return {
      ok: false,
      code: "policy_invalid",
      where: lookup.from,
      what: `the policy document is not a policy the rules know: ${parsed.problems.replaceAll("\n", " ")}`,
      expected: "a policy document (src/rules/policy.ts)",
      found: hash,
    };
  return { ok: true, policy: parsed.policy };
}
