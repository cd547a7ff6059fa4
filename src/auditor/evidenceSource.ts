import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { scrubUrls } from "../observability/logger.js";
import { readJsonFile } from "../storage/readJsonFile.js";
import { directoryPolicySource, relayerPolicySource, savingPolicySource, type PolicySource } from "./policySource.js";

/**
 * A batch's published evidence as found (still unchecked JSON), or why there is none: the
 * source says none was published (`missing`: the relayer records a batch's evidence before it
 * sends the batch, so its 404 means the batch is unbacked), the archive has no file for it yet
 * (`absent`: an archive is a copy that may lag; the auditor calls the batch unbacked only once
 * the file is still absent `unbackedAfterSeconds` after the batch settled), the source failing
 * (`unavailable`), or a file that is not JSON (`malformed`).
 */
export type EvidenceLookup =
  | { readonly found: true; readonly evidence: unknown; readonly from: string }
  | {
      readonly found: false;
      readonly kind: "missing" | "absent" | "unavailable" | "malformed";
      readonly reason: string;
      readonly from: string;
    };

/**
 * Where the auditor gets each settled batch's evidence from, and (`policy`) the site policy
 * documents published beside it; a source without `policy` has none to give.
 */
export type EvidenceSource = ((batchId: bigint) => Promise<EvidenceLookup>) & { readonly policy?: PolicySource };

/** The file a batch's evidence lives in, in an evidence directory. */
export const evidenceFileName = (batchId: bigint): string => `${batchId}.json`;

/**
 * Evidence downloaded from a relayer's public `GET /v1/batches/:batchId`, and policy documents
 * from its `GET /v1/policies/:hash`.
 *
 * @example
 * const source = relayerEvidenceSource("http://127.0.0.1:8787")
 */
export function relayerEvidenceSource(baseUrl: string, timeoutMs = 10_000): EvidenceSource {
  const base = baseUrl.replace(/\/$/, "");
  const source = async (batchId: bigint): Promise<EvidenceLookup> => {
    const from = `relayer /v1/batches/${batchId}`;
    let response: Response;
    try {
      response = await fetch(`${base}/v1/batches/${batchId}`, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      return {
        found: false,
        kind: "unavailable",
        from,
        reason: `the relayer did not answer: ${scrubUrls(error instanceof Error ? error.message : String(error))}`,
      };
    }
    if (response.status === 404)
      return { found: false, kind: "missing", from, reason: "the relayer has no evidence for this batch (404)" };
    if (!response.ok)
      return { found: false, kind: "unavailable", from, reason: `the relayer answered ${response.status}` };
    try {
      return { found: true, evidence: await response.json(), from };
    } catch {
      return { found: false, kind: "malformed", from, reason: "the relayer's answer is not JSON" };
    }
  };
  return Object.assign(source, { policy: relayerPolicySource(baseUrl, timeoutMs) });
}

/**
 * Evidence read from a directory holding `<batchId>.json` files (an archive, or a download
 * made with `--save-evidence`), and policy documents from its `policies/<hash>.json`.
 *
 * @example
 * const source = directoryEvidenceSource("evidence/")
 */
export function directoryEvidenceSource(dir: string): EvidenceSource {
  const source = async (batchId: bigint): Promise<EvidenceLookup> => {
    const path = join(dir, evidenceFileName(batchId));
    const file = await readJsonFile(path);
    if (file.read) return { found: true, evidence: file.json, from: path };
    return { found: false, kind: file.kind, from: path, reason: file.reason };
  };
  return Object.assign(source, { policy: directoryPolicySource(dir) });
}

/**
 * Wraps a source so every evidence found is also written to `dir` as `<batchId>.json`, and every
 * policy document found to `dir/policies/<hash>.json`: the directory can be audited alone.
 *
 * @example
 * const source = savingEvidenceSource(relayerEvidenceSource(url), "evidence/")
 */
export function savingEvidenceSource(source: EvidenceSource, dir: string): EvidenceSource {
  const saving = async (batchId: bigint): Promise<EvidenceLookup> => {
    const lookup = await source(batchId);
    if (lookup.found) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, evidenceFileName(batchId)), `${JSON.stringify(lookup.evidence, null, 2)}\n`);
    }
    return lookup;
  };
  return source.policy ? Object.assign(saving, { policy: savingPolicySource(source.policy, dir) }) : saving;
}
