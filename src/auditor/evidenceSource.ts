import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { scrubUrls } from "../observability/logger.js";

/** A batch's published evidence as found (still unchecked JSON), or why there is none. */
export type EvidenceLookup =
  | { readonly found: true; readonly evidence: unknown; readonly from: string }
  | { readonly found: false; readonly reason: string };

/** Where the auditor gets each settled batch's evidence from. */
export type EvidenceSource = (batchId: bigint) => Promise<EvidenceLookup>;

/** The file a batch's evidence lives in, in an evidence directory. */
export const evidenceFileName = (batchId: bigint): string => `${batchId}.json`;

/**
 * Evidence downloaded from a relayer's public `GET /v1/batches/:batchId`.
 *
 * @example
 * const source = relayerEvidenceSource("http://127.0.0.1:8787")
 */
export function relayerEvidenceSource(baseUrl: string, timeoutMs = 10_000): EvidenceSource {
  const base = baseUrl.replace(/\/$/, "");
  return async (batchId) => {
    let response: Response;
    try {
      response = await fetch(`${base}/v1/batches/${batchId}`, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      return {
        found: false,
        reason: `the relayer did not answer: ${scrubUrls(error instanceof Error ? error.message : String(error))}`,
      };
    }
    if (response.status === 404) return { found: false, reason: "the relayer has no evidence for this batch (404)" };
    if (!response.ok) return { found: false, reason: `the relayer answered ${response.status}` };
    try {
      return { found: true, evidence: await response.json(), from: "relayer" };
    } catch {
      return { found: false, reason: "the relayer's answer is not JSON" };
    }
  };
}

/**
 * Evidence read from a directory holding `<batchId>.json` files (an archive, or a download
 * made with `--save-evidence`).
 *
 * @example
 * const source = directoryEvidenceSource("evidence/")
 */
export function directoryEvidenceSource(dir: string): EvidenceSource {
  return async (batchId) => {
    const path = join(dir, evidenceFileName(batchId));
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      return { found: false, reason: `no file ${path}` };
    }
    try {
      return { found: true, evidence: JSON.parse(text) as unknown, from: path };
    } catch {
      return { found: false, reason: `${path} is not valid JSON` };
    }
  };
}

/**
 * Wraps a source so every evidence found is also written to `dir` as `<batchId>.json`.
 *
 * @example
 * const source = savingEvidenceSource(relayerEvidenceSource(url), "evidence/")
 */
export function savingEvidenceSource(source: EvidenceSource, dir: string): EvidenceSource {
  return async (batchId) => {
    const lookup = await source(batchId);
    if (lookup.found) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, evidenceFileName(batchId)), `${JSON.stringify(lookup.evidence, null, 2)}\n`);
    }
    return lookup;
  };
}
