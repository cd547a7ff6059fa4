import { html, nothing } from "lit";
import { plainWords } from "./format.js";
import type { ActionStatus } from "./types.js";

/** One action's state in words: pending, settled (with the transaction), rejected or failed (with the reason). */
export function statusLine(status: ActionStatus | null | undefined, what: string) {
  if (!status) return nothing;
  switch (status.state) {
    case "pending":
      return html`<div class="state pending" data-state="pending">${what}: accepted, waiting to settle on-chain…</div>`;
    case "settled":
      return html`<div class="state settled" data-state="settled">
        ${what}: settled in block
        ${status.blockNumber}${
          status.txHash ? html`, transaction <code>${status.txHash.slice(0, 10)}…</code>` : nothing
        }
      </div>`;
    case "rejected":
    case "failed":
      return html`<div class="state rejected" data-state=${status.state}>
        ${what}: ${status.state === "rejected" ? "not accepted" : "failed"}. ${plainWords(status.code, status.message)}
        <span class="muted">(${status.code})</span>
      </div>`;
    default:
      return html`<div class="state down" data-state="unknown">${what}: ${status.message}</div>`;
  }
}
