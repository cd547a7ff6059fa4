import type { PublicClient } from "viem";
import { createAuditor, type AuditSummary, type CreateAuditorParameters } from "./createAuditor.js";
import type { Discrepancy } from "./discrepancy.js";

export type { AuditSummary } from "./createAuditor.js";
export type { Discrepancy, DiscrepancyCode } from "./discrepancy.js";

export interface AuditResult {
  readonly summary: AuditSummary;
  readonly discrepancies: readonly Discrepancy[];
  readonly ok: boolean;
}

export interface RunAuditParameters extends CreateAuditorParameters {
  readonly publicClient: PublicClient;
  /** The last block audited; the head when absent. */
  readonly toBlock?: bigint;
}

/**
 * Audits a Twei deployment from its deployment block to `toBlock` (the head by default) in one
 * step of {@link createAuditor}. Returns every discrepancy; none means the audit holds. Throws
 * only when the chain cannot be read.
 *
 * @example
 * const { ok, discrepancies } = await runAudit({ publicClient, deployment, evidence: relayerEvidenceSource(url) })
 */
export async function runAudit(parameters: RunAuditParameters): Promise<AuditResult> {
  const toBlock = parameters.toBlock ?? (await parameters.publicClient.getBlockNumber({ cacheTime: 0 }));
  const auditor = createAuditor(parameters);
  const { discrepancies } = await auditor.advance(toBlock);
  return { summary: auditor.summary(), discrepancies, ok: discrepancies.length === 0 };
}
