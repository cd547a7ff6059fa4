import type { TweiClient } from "../sdk/createTweiClient.js";
import type { SentEvent } from "./store/siteStore.js";

/** What the widget shows for one action. */
export interface ActionStatus {
  /**
   * pending: accepted, not settled yet (with `code` and `message` when it waits for something:
   * `waiting_for_cap`, room under the ledger's caps; `site_held`, the site paused); settled:
   * final on-chain; rejected: by the rules at once; failed: at settlement.
   */
  readonly state: "pending" | "settled" | "rejected" | "failed" | "unknown";
  readonly code?: string;
  readonly message?: string;
  readonly txHash?: string;
  readonly blockNumber?: string;
  readonly batchId?: string;
}

/** Why an accepted event waits for room under a cap of the ledger, in words, with when room comes back. */
function waitingWords(wait: unknown): string {
  const roomAt = (wait as { roomAt?: unknown } | null | undefined)?.roomAt;
  const when =
    typeof roomAt === "string" && !Number.isNaN(Date.parse(roomAt))
      ? `, from ${new Date(roomAt).toISOString().slice(0, 16).replace("T", " ")} UTC`
      : "";
  return `the site has used up its Twei budget on the ledger for now; it is recorded when there is room again${when}`;
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
          : answer.status === "waiting_for_cap"
            ? { state: "pending", code: "waiting_for_cap", message: waitingWords(answer.waitingForCap) }
            : answer.status === "held"
              ? {
                  state: "pending",
                  code: "site_held",
                  message: "the site is paused on Twei's ledger; it is recorded once the site is active again",
                }
              : { state: "pending" };
    if (status.state === "settled" || status.state === "failed") final.set(sent.eventId, status);
    return status;
  };
}
