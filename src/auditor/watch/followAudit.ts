import { createHash } from "node:crypto";
import type { PublicClient } from "viem";
import { scrubUrls } from "../../observability/logger.js";
import type { Auditor, UncheckedBatch } from "../createAuditor.js";
import type { Discrepancy } from "../discrepancy.js";
import { readCheckpoint, writeCheckpoint } from "./checkpoint.js";

/** One line of the watchtower's output (JSON lines on stdout): a discrepancy, a step, a pause or a fault. */
export type WatchEvent =
  | {
      type: "following";
      fromBlock: string;
      confirmations: number;
      pollMs: number;
      /** From the checkpoint: the block audited before the restart and how many discrepancies were reported by then. */
      checkpointBlock: string | null;
      resumedReported: number;
    }
  | { type: "audited"; fromBlock: string; toBlock: string; batches: number; newDiscrepancies: number }
  | ({ type: "discrepancy"; blockNumber: string; detectedAt: string } & Discrepancy)
  | { type: "chain_unreadable"; reason: string; retryInMs: number }
  /** The replay starts over from the deployment (quietly, as after a restart): `reason` says why. */
  | { type: "reaudit"; reason: string }
  /** A discrepancy reported before that a re-audit no longer finds (its evidence arrived, say). */
  | { type: "cleared"; code: string; batchId: string; key: string; clearedAt: string };

/** A discrepancy reported before that a re-audit no longer finds. */
export interface ClearedDiscrepancy {
  readonly code: string;
  readonly batchId: string;
  /** Its discrepancyKey (as in the checkpoint). */
  readonly key: string;
}

export interface FollowAuditParameters {
  readonly publicClient: PublicClient;
  /** A new auditor from the deployment block: after a chain error the replay restarts from scratch. */
  readonly createAuditor: () => Auditor;
  readonly confirmations: number;
  readonly pollMs: number;
  /** Keeps the last audited block and the keys of the discrepancies already reported, so a restart reports nothing twice. */
  readonly checkpointPath?: string;
  readonly emit: (event: WatchEvent) => void;
  /**
   * Called once for each new discrepancy (webhook, pause), awaited before the next one;
   * `seenAt` is the performance.now() at which the poll read the head that brought it.
   */
  readonly onDiscrepancy?: (discrepancy: Discrepancy, blockNumber: bigint, seenAt: number) => Promise<void>;
  /** Called once for each discrepancy a re-audit no longer finds, awaited (webhook). */
  readonly onCleared?: (cleared: ClearedDiscrepancy) => Promise<void>;
  readonly onStep?: (state: { auditedBlock: bigint; head: bigint; uncheckedBatches: number }) => void;
  /**
   * Looks again for a batch's evidence (true: it is there now). Batches audited without evidence
   * are retried with backoff; when one's evidence arrives (or an absent file's grace ends) the
   * replay starts over, and what it no longer finds is cleared.
   */
  readonly retryEvidence?: (batch: UncheckedBatch) => Promise<boolean>;
  /** The clock (ms since the epoch); Date.now by default. */
  readonly now?: () => number;
}

/** The longest wait between two looks for a batch's evidence. */
export const MAX_EVIDENCE_RETRY_MS = 60_000;

export interface Follower {
  /** Resolves when the loop has stopped. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/** A discrepancy's identity across restarts: its code, batch and a hash of its details. */
export const discrepancyKey = (d: Discrepancy) =>
  `${d.code}:${d.batchId ?? "-"}:${createHash("sha256")
    .update([d.where, d.what, d.expected, d.found].join("\u0000"))
    .digest("hex")
    .slice(0, 32)}`;

/**
 * Follows the chain with the auditor: every `pollMs`, audits the blocks up to the head minus
 * `confirmations`, reports each discrepancy not reported before (the checkpoint's keys), then
 * saves the checkpoint. A restart re-audits from the deployment quietly: the replay state is
 * the whole history, and only what is new is reported. A chain error throws the auditor away
 * (a half-applied step would count twice) and the next poll starts over, still quietly.
 *
 * Batches audited without their evidence are looked for again (`retryEvidence`), after one poll
 * and then twice as long each time up to MAX_EVIDENCE_RETRY_MS. When one's evidence is found, or
 * an absent file's grace ends (it is then `unbacked_batch`), the replay starts over the same way:
 * once it has caught up with the blocks audited before, every batch discrepancy reported before
 * that it no longer finds (`evidence_unavailable`, `depends_on_unchecked_batch`, …) is `cleared`.
 *
 * @example
 * const follower = followAudit({ publicClient, createAuditor: () => createAuditor(p), confirmations: 0, pollMs: 1000, emit: (e) => console.log(JSON.stringify(e)) })
 */
export async function followAudit(parameters: FollowAuditParameters): Promise<Follower> {
  const { publicClient, confirmations, pollMs, emit } = parameters;
  const now = parameters.now ?? Date.now;
  const checkpoint = parameters.checkpointPath ? await readCheckpoint(parameters.checkpointPath) : undefined;
  const reported = new Set(checkpoint?.reported ?? []);
  let auditor = parameters.createAuditor();
  // The rows reported so far come from blocks up to `watermark`; the keys the current auditor found.
  let watermark = checkpoint?.auditedBlock ?? auditor.auditedBlock;
  let found = new Set<string>();
  const pending = new Map<bigint, { batch: UncheckedBatch; attempts: number; nextAt: number }>();
  let stopped = false;
  let wake: (() => void) | undefined;
  emit({
    type: "following",
    fromBlock: (auditor.auditedBlock + 1n).toString(),
    confirmations,
    pollMs,
    checkpointBlock: checkpoint ? checkpoint.auditedBlock.toString() : null,
    resumedReported: reported.size,
  });

  /** Throws the replay away: the next poll audits from the deployment again, quietly. */
  function startOver() {
    if (auditor.auditedBlock > watermark) watermark = auditor.auditedBlock;
    auditor = parameters.createAuditor();
    found = new Set();
    pending.clear();
  }

  /** Looks again for the evidence of the batches due; starts over when one's is found or its grace ended. */
  async function retryPending() {
    if (!parameters.retryEvidence) return;
    const at = now();
    for (const entry of pending.values()) {
      const { batch } = entry;
      if (batch.unbackedAt !== undefined && at >= batch.unbackedAt * 1000) {
        emit({ type: "reaudit", reason: `the file of batch ${batch.batchId} is still absent after its grace` });
        return startOver();
      }
      if (entry.nextAt > at) continue;
      const there = await parameters.retryEvidence(batch).catch(() => false);
      if (there) {
        const what = batch.policyHash ? `the policy document ${batch.policyHash} of batch` : "the evidence of batch";
        emit({ type: "reaudit", reason: `${what} ${batch.batchId} was found` });
        return startOver();
      }
      entry.attempts++;
      entry.nextAt = at + Math.min(pollMs * 2 ** entry.attempts, MAX_EVIDENCE_RETRY_MS);
    }
  }

  /** Once the replay has caught up, clears each batch row reported before that it no longer finds. */
  async function clearVanished() {
    if (auditor.auditedBlock < watermark) return;
    for (const key of [...reported]) {
      const [code = "", batchId = "-"] = key.split(":");
      if (batchId === "-" || found.has(key)) continue; // chain-wide rows depend on how steps fall
      reported.delete(key);
      emit({ type: "cleared", code, batchId, key, clearedAt: new Date().toISOString() });
      await parameters.onCleared?.({ code, batchId, key });
    }
  }

  async function poll() {
    await retryPending();
    const head = await publicClient.getBlockNumber({ cacheTime: 0 });
    const seenAt = performance.now();
    const target = head - BigInt(confirmations);
    if (target <= auditor.auditedBlock) {
      parameters.onStep?.({ auditedBlock: auditor.auditedBlock, head, uncheckedBatches: pending.size });
      return;
    }
    const step = await auditor.advance(target);
    const blockOf = new Map(step.batches.map((b) => [b.batchId.toString(), b.blockNumber]));
    let fresh = 0;
    for (const discrepancy of step.discrepancies) {
      const key = discrepancyKey(discrepancy);
      found.add(key);
      if (reported.has(key)) continue;
      reported.add(key);
      fresh++;
      const blockNumber = (discrepancy.batchId && blockOf.get(discrepancy.batchId)) || step.toBlock;
      emit({
        type: "discrepancy",
        blockNumber: blockNumber.toString(),
        detectedAt: new Date().toISOString(),
        ...discrepancy,
      });
      await parameters.onDiscrepancy?.(discrepancy, blockNumber, seenAt);
    }
    const at = now();
    for (const batch of step.unchecked) pending.set(batch.batchId, { batch, attempts: 0, nextAt: at + pollMs });
    await clearVanished();
    emit({
      type: "audited",
      fromBlock: step.fromBlock.toString(),
      toBlock: step.toBlock.toString(),
      batches: step.batches.length,
      newDiscrepancies: fresh,
    });
    if (parameters.checkpointPath)
      await writeCheckpoint(parameters.checkpointPath, { auditedBlock: step.toBlock, reported: [...reported] });
    parameters.onStep?.({ auditedBlock: step.toBlock, head, uncheckedBatches: pending.size });
  }

  const done = (async () => {
    while (!stopped) {
      try {
        await poll();
      } catch (error) {
        startOver();
        emit({
          type: "chain_unreadable",
          // The first line only, URLs scrubbed: viem's later lines name the RPC URL.
          reason: scrubUrls(error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error)),
          retryInMs: pollMs,
        });
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();

  return {
    done,
    async stop() {
      stopped = true;
      wake?.();
      await done;
    },
  };
}
