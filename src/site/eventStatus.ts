import type { TweiClient } from "../sdk/createTweiClient.js";
import type { SentEvent } from "./store/siteStore.js";

/** What the widget shows for one action. */
export interface ActionStatus {
  /** pending: accepted, not settled yet; settled: final on-chain; rejected: by the rules at once; failed: at settlement. */
  readonly state: "pending" | "settled" | "rejected" | "failed" | "unknown";
  readonly code?: string;
  readonly message?: string;
  readonly txHash?: string;
  readonly blockNumber?: string;
  readonly batchId?: string;
}

/**
 * Asks the relayer how far an accepted event got, remembering final answers (settled, failed)
 * so a page poll costs one request per unsettled event.
 */
export function createEventStatus(twei: TweiClient) {
  const final = new Map<string, ActionStatus>();
  return async function statusOf(sent: SentEvent | undefined): Promise<ActionStatus | undefined> {
    if (!sent) return undefined;
    if (sent.answer === "rejected")
      return {
        state: "rejected",
        ...(sent.code ? { code: sent.code } : {}),
        ...(sent.message ? { message: sent.message } : {}),
      };
    const known = final.get(sent.eventId);
    if (known) return known;
    let answer: Record<string, unknown>;
    try {
      answer = await twei.event(sent.eventId);
    } catch {
      return { state: "unknown", message: "the relayer cannot be reached to say whether it settled" };
    }
    const failure = answer.failure as { code?: string; message?: string } | null | undefined;
    const status: ActionStatus =
      answer.status === "settled"
        ? {
            state: "settled",
            txHash: String(answer.txHash ?? ""),
            blockNumber: String(answer.blockNumber ?? ""),
            batchId: String(answer.batchId ?? ""),
          }
        : answer.status === "failed"
          ? { state: "failed", code: failure?.code ?? "failed", message: failure?.message ?? "" }
          : { state: "pending" };
    if (status.state === "settled" || status.state === "failed") final.set(sent.eventId, status);
    return status;
  };
}
