import { createHash } from "node:crypto";
import type { PublicClient } from "viem";
import { scrubUrls } from "../../observability/logger.js";
import type { Auditor } from "../createAuditor.js";
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
  | { type: "chain_unreadable"; reason: string; retryInMs: number };

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
  readonly onStep?: (state: { auditedBlock: bigint; head: bigint }) => void;
}

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
 * @example
 * const follower = followAudit({ publicClient, createAuditor: () => createAuditor(p), confirmations: 0, pollMs: 1000, emit: (e) => console.log(JSON.stringify(e)) })
 */
export async function followAudit(parameters: FollowAuditParameters): Promise<Follower> {
  const { publicClient, confirmations, pollMs, emit } = parameters;
  const checkpoint = parameters.checkpointPath ? await readCheckpoint(parameters.checkpointPath) : undefined;
  const reported = new Set(checkpoint?.reported ?? []);
  let auditor = parameters.createAuditor();
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

  async function poll() {
    const head = await publicClient.getBlockNumber({ cacheTime: 0 });
    const seenAt = performance.now();
    const target = head - BigInt(confirmations);
    if (target <= auditor.auditedBlock) {
      parameters.onStep?.({ auditedBlock: auditor.auditedBlock, head });
      return;
    }
    const step = await auditor.advance(target);
    const blockOf = new Map(step.batches.map((b) => [b.batchId.toString(), b.blockNumber]));
    let fresh = 0;
    for (const discrepancy of step.discrepancies) {
      const key = discrepancyKey(discrepancy);
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
    emit({
      type: "audited",
      fromBlock: step.fromBlock.toString(),
      toBlock: step.toBlock.toString(),
      batches: step.batches.length,
      newDiscrepancies: fresh,
    });
    if (parameters.checkpointPath)
      await writeCheckpoint(parameters.checkpointPath, { auditedBlock: step.toBlock, reported: [...reported] });
    parameters.onStep?.({ auditedBlock: step.toBlock, head });
  }

  const done = (async () => {
    while (!stopped) {
      try {
        await poll();
      } catch (error) {
        auditor = parameters.createAuditor();
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
