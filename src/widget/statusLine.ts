import { html, nothing } from "lit";
import { plainWords } from "./format.js";
import type { ActionStatus } from "./types.js";

/**
 * The proof of a settled action, one click away and in words: which block of the public chain
 * holds it, its transaction, and the batch's evidence file (for auditors).
 */
export function proofDetails(status: ActionStatus, links: { relayer: string }) {
  return html`<details data-testid="proof">
    <summary>How is this recorded?</summary>
    <dl>
      <dt>Where</dt>
      <dd>On Twei's public ledger, in block ${status.blockNumber ?? "?"} of the chain</dd>
      ${
        status.txHash
          ? html`<dt>Transaction</dt>
              <dd><code>${status.txHash}</code></dd>`
          : nothing
      }
      ${
        status.batchId
          ? html`<dt>Batch</dt>
              <dd>
                ${status.batchId}:
                <a href="${links.relayer}/v1/batches/${status.batchId}" target="_blank" rel="noopener"
                  >the site's signed evidence (a file for auditors)</a
                >
              </dd>`
          : nothing
      }
    </dl>
  </details>`;
}

/** One action's state in words first (pending, done, not accepted or failed, with the reason); the chain's details one click away. */
export function statusLine(status: ActionStatus | null | undefined, what: string, links?: { relayer: string }) {
  if (!status) return nothing;
  switch (status.state) {
    case "pending":
      // A wait the relayer can name (room under the ledger's caps, the site paused) is said as it is.
      return html`<div class="state pending" data-state="pending" role="status">
        ${what}: received, ${status.message ?? "being recorded on the public ledger…"}
      </div>`;
    case "settled":
      return html`<div class="state settled" data-state="settled">${what}: settled ✓ recorded for good.</div>
        ${links ? proofDetails(status, links) : nothing}`;
    case "rejected":
    case "failed":
      return html`<div class="state rejected" data-state=${status.state}>
        ${what}: ${status.state === "rejected" ? "not accepted" : "failed"}. ${plainWords(status.code, status.message)}
      </div>`;
    default:
      return html`<div class="state down" data-state="unknown">${what}: ${status.message}</div>`;
  }
}
