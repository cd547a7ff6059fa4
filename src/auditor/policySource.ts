import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Hex } from "viem";
import { scrubUrls } from "../observability/logger.js";
import { canonicalJson } from "../rules/policyHash.js";
import { readJsonFile } from "../storage/readJsonFile.js";

/**
 * A site policy document as found by its hash (still unchecked JSON: the auditor checks that it
 * hashes to what the ledger holds), or why there is none: the source has no such document
 * (`missing`), the source failing (`unavailable`), or bytes that are not JSON (`malformed`).
 */
export type PolicyLookup =
  | { readonly found: true; readonly document: unknown; readonly from: string }
  | {
      readonly found: false;
      readonly kind: "missing" | "unavailable" | "malformed";
      readonly reason: string;
      readonly from: string;
    };

/** Where the auditor gets a site policy document from, by the hash the ledger holds for it. */
export type PolicySource = (hash: Hex) => Promise<PolicyLookup>;

/** Where a policy document lives in an evidence directory: `policies/<hash>.json`, beside the batches' files. */
export const policyFileName = (hash: Hex): string => join("policies", `${hash.toLowerCase()}.json`);

const notJson = (from: string, error: unknown): PolicyLookup => ({
  found: false,
  kind: "malformed",
  from,
  reason: `${from} is not JSON: ${error instanceof Error ? error.message : String(error)}`,
});

/**
 * Policy documents downloaded from a relayer's public `GET /v1/policies/:hash` (every policy it
 * has applied: src/relayer/api/getPolicy.ts).
 *
 * @example
 * const source = relayerPolicySource("http://127.0.0.1:8787")
 */
export function relayerPolicySource(baseUrl: string, timeoutMs = 10_000): PolicySource {
  const base = baseUrl.replace(/\/$/, "");
  return async (hash) => {
    const from = `relayer /v1/policies/${hash}`;
    let text: string;
    try {
      const response = await fetch(`${base}/v1/policies/${hash}`, { signal: AbortSignal.timeout(timeoutMs) });
      if (response.status === 404)
        return { found: false, kind: "missing", from, reason: "the relayer has no policy document by this hash (404)" };
      if (!response.ok)
        return { found: false, kind: "unavailable", from, reason: `the relayer answered ${response.status}` };
      text = await response.text();
    } catch (error) {
      return {
        found: false,
        kind: "unavailable",
        from,
        reason: `the relayer did not answer: ${scrubUrls(error instanceof Error ? error.message : String(error))}`,
      };
    }
    try {
      return { found: true, document: JSON.parse(text) as unknown, from };
    } catch (error) {
      return notJson(from, error);
    }
  };
}

/**
 * Policy documents read from `<dir>/policies/<hash>.json` (an archive, or a download made with
 * `--save-evidence`). A file absent is `missing`: no grace, since a batch's policy was in force
 * (and so published) before the batch settled.
 *
 * @example
 * const source = directoryPolicySource("evidence/")
 */
export function directoryPolicySource(dir: string): PolicySource {
  return async (hash) => {
    const path = join(dir, policyFileName(hash));
    const file = await readJsonFile(path);
    if (file.read) return { found: true, document: file.json, from: path };
    return { found: false, kind: file.kind === "absent" ? "missing" : file.kind, from: path, reason: file.reason };
  };
}

/**
 * Wraps a source so every document found is also written to `<dir>/policies/<hash>.json`, in
 * canonical JSON (the bytes the hash is of), as found: the auditor checks it when it reads it back.
 *
 * @example
 * const source = savingPolicySource(relayerPolicySource(url), "evidence/")
 */
export function savingPolicySource(source: PolicySource, dir: string): PolicySource {
  return async (hash) => {
    const lookup = await source(hash);
    if (lookup.found) {
      await mkdir(join(dir, "policies"), { recursive: true });
      await writeFile(join(dir, policyFileName(hash)), canonicalJson(lookup.document));
    }
    return lookup;
  };
}
