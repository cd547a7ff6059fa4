import { html, nothing } from "lit";
import { KINDS } from "../core/kinds.js";
import { formatTwei } from "./format.js";
import { statusLine } from "./statusLine.js";
import type { PostState, ReportInstance } from "./types.js";

const PROFIT = KINDS.filter((k) => k.section === "profit");
const LOSS = KINDS.filter((k) => k.section === "loss");

function lines(kinds: typeof KINDS, instance: ReportInstance | null) {
  return kinds.map((k) => {
    const line = instance?.content.lines.find((l) => l.kind === k.kind);
    return html`<tr data-kind=${k.kind}>
      <td>${k.label}</td>
      <td class="n">${line ? formatTwei(line.amount) : "..."}</td>
    </tr>`;
  });
}

/** The PnL report box: figures hidden ("...") until a report instance is bought, then the instance's own. */
export function renderPnl(state: PostState, buy: () => void, busy: boolean) {
  const reports = state.reader?.reports ?? [];
  const latest = reports.at(-1);
  const instance = [...reports].reverse().find((r) => r.instance)?.instance ?? null;
  const total = (wei: string | undefined) => (wei === undefined ? "..." : formatTwei(wei));
  return html`<section class="box" part="pnl">
    <h3>Post Profit</h3>
    <table>
      ${lines(PROFIT, instance)}
      <tr class="sub">
        <td>Profit Subtotal, Twei</td>
        <td class="n" data-testid="profit-subtotal">${total(instance?.content.profitSubtotal)}</td>
      </tr>
    </table>
    <h3>Post Loss</h3>
    <table>
      ${lines(LOSS, instance)}
      <tr class="sub">
        <td>Loss Subtotal, Twei</td>
        <td class="n" data-testid="loss-subtotal">${total(instance?.content.lossSubtotal)}</td>
      </tr>
    </table>
    <table>
      <tr class="sub">
        <td>Total Twei Earned</td>
        <td class="n" data-testid="total-earned">${total(instance?.content.totalEarned)}</td>
      </tr>
    </table>
    <div class="row">
      <span>Price for report instance: ${formatTwei(state.reportPrice.wei)} Twei</span>
      <button data-testid="buy" ?disabled=${!state.reader || busy} @click=${buy}>Buy</button>
    </div>
    ${latest && latest.status.state !== "settled" ? statusLine(latest.status, "Your purchase") : nothing}
    ${
      latest?.status.state === "settled" && !latest.instance
        ? html`<div class="state pending">Purchase settled; the indexer is issuing the report…</div>`
        : nothing
    }
    ${
      instance
        ? html`<div class="muted" data-testid="instance">
            Report instance <b data-testid="instance-id">${instance.id}</b>, block
            <b data-testid="instance-block">${instance.block.number}</b>, content hash
            <code data-testid="instance-hash">${instance.contentHash}</code> (verify it with the indexer's
            <code>npm run report -- --instance ${instance.id}</code>).
          </div>`
        : nothing
    }
  </section>`;
}
