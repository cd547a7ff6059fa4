import { html, nothing } from "lit";
import { KINDS } from "../core/kinds.js";
import { formatTwei } from "./format.js";
import { statusLine } from "./statusLine.js";
import type { PostState, ReportInstance } from "./types.js";

const EARNED = KINDS.filter((k) => k.section === "earned");
const PROFIT = KINDS.filter((k) => k.section === "profit");
const LOSS = KINDS.filter((k) => k.section === "loss");

export interface PnlHandlers {
  busy: boolean;
  /** The reader pressed Buy and is asked to confirm the price. */
  confirming: boolean;
  error: string | null;
  ask(): void;
  cancel(): void;
  buy(): void;
}

function lines(kinds: typeof KINDS, instance: ReportInstance | null) {
  return kinds.map((k) => {
    const line = instance?.content.lines.find((l) => l.kind === k.kind);
    return html`<tr data-kind=${k.kind}>
      <td>${k.label}</td>
      <td class="n">${line ? formatTwei(line.amount) : "..."}</td>
    </tr>`;
  });
}

/** Why the reader cannot buy now, in words; null when they can. */
function cannotBuy(state: PostState, pending: boolean): string | null {
  const user = state.user;
  if (!user || !state.reader) return "Sign in to buy a report.";
  if (pending) return "Your purchase is being recorded…";
  if (user.balance === null || user.allowance === null) return "Your balance cannot be read right now.";
  const price = BigInt(state.reportPrice.wei);
  if (BigInt(user.balance) < price)
    return `A report costs ${formatTwei(price)} Twei; you hold ${formatTwei(user.balance)} Twei.`;
  if (BigInt(user.allowance) < price)
    return `A report costs ${formatTwei(price)} Twei; allow Twei to spend it first (above).`;
  return null;
}

/**
 * The PnL report box: figures hidden ("...") until a report instance is bought, then the
 * instance's own, adding up: Read-to-Earn + Profit Subtotal − Loss Subtotal = Total Twei Earned.
 * Buying asks for a confirmation that names the price.
 */
export function renderPnl(state: PostState, on: PnlHandlers) {
  const reports = state.reader?.reports ?? [];
  const latest = reports.at(-1);
  const instance = [...reports].reverse().find((r) => r.instance)?.instance ?? null;
  const total = (wei: string | undefined) => (wei === undefined ? "..." : formatTwei(wei));
  const pending = latest !== undefined && latest.status.state === "pending";
  const reason = cannotBuy(state, pending);
  const price = formatTwei(state.reportPrice.wei);
  return html`<section class="box" part="pnl" aria-labelledby="twei-pnl-title">
    <h2 id="twei-pnl-title">Post Profit</h2>
    <table>
      ${lines(EARNED, instance)} ${lines(PROFIT, instance)}
      <tr class="sub">
        <td>Profit Subtotal, Twei</td>
        <td class="n" data-testid="profit-subtotal">${total(instance?.content.profitSubtotal)}</td>
      </tr>
    </table>
    <h2>Post Loss</h2>
    <table>
      ${lines(LOSS, instance)}
      <tr class="sub">
        <td>Loss Subtotal, Twei</td>
        <td class="n" data-testid="loss-subtotal">${total(instance?.content.lossSubtotal)}</td>
      </tr>
    </table>
    <table>
      <tr class="sub">
        <td>Total Twei Earned <span class="muted">(Read-to-Earn + Profit − Loss)</span></td>
        <td class="n" data-testid="total-earned">${total(instance?.content.totalEarned)}</td>
      </tr>
    </table>
    <div class="row" style="margin-top:6px">
      <span>Price for report instance: ${price} Twei</span>
      ${
        on.confirming && !reason
          ? html`<span data-testid="buy-confirm" role="group" aria-label="Confirm the purchase">
              Buy this post's report for ${price} Twei?
              <button data-testid="buy-yes" ?disabled=${on.busy} @click=${on.buy}>Buy for ${price} Twei</button>
              <button class="ghost" data-testid="buy-no" @click=${on.cancel}>Cancel</button>
            </span>`
          : html`<button data-testid="buy" ?disabled=${on.busy || reason !== null} @click=${on.ask}>
              ${instance ? "Buy an updated report" : "Buy"}
            </button>`
      }
    </div>
    ${reason && state.user ? html`<div class="muted" data-testid="buy-reason">${reason}</div>` : nothing}
    ${on.error ? html`<div class="banner" role="alert" data-testid="error">${on.error}</div>` : nothing}
    ${latest && latest.status.state !== "settled" ? statusLine(latest.status, "Your purchase") : nothing}
    ${
      latest?.status.state === "settled" && !latest.instance
        ? html`<div class="state pending">Purchase recorded; your report is being prepared…</div>`
        : nothing
    }
    ${
      instance
        ? html`<div class="muted" data-testid="instance">
              Report <b data-testid="instance-id">#${instance.id}</b>: the figures up to block
              <b data-testid="instance-block">${instance.block.number}</b>.
            </div>
            <details data-testid="verify">
              <summary>Verify this report</summary>
              <p>
                These figures were added up from Twei's public ledger, up to block ${instance.block.number} of the
                chain: every payment and cost on this post until then, and nothing after.
              </p>
              <p>
                Its fingerprint (content hash) is <code data-testid="instance-hash">${instance.contentHash}</code>.
                Anyone can add up the same figures from the chain and compute this fingerprint: if it matches, the
                report is exactly what the ledger says; auditors do this with Twei's open tools.
              </p>
            </details>`
        : nothing
    }
  </section>`;
}
