import { css } from "lit";

/** Themable with CSS custom properties: --twei-accent, --twei-bg, --twei-fg, --twei-muted, --twei-radius, --twei-font. */
export const styles = css`
  :host {
    display: block;
    font: 15px/1.45 var(--twei-font, system-ui, -apple-system, "Segoe UI", sans-serif);
    color: var(--twei-fg, #1d232b);
    --accent: var(--twei-accent, #1f6feb);
    --muted: var(--twei-muted, #5b6570);
    --radius: var(--twei-radius, 10px);
  }
  .box {
    background: var(--twei-bg, #f7f9fc);
    border: 1px solid #dde3ea;
    border-radius: var(--radius);
    padding: 14px 16px;
    margin: 12px 0;
  }
  h3 {
    margin: 0 0 8px;
    font-size: 16px;
  }
  h4 {
    margin: 10px 0 4px;
    font-size: 14px;
  }
  dl {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 4px 16px;
    margin: 0;
  }
  dt {
    color: var(--muted);
  }
  dd {
    margin: 0;
    font-weight: 600;
  }
  table {
    width: 100%;
    border-collapse: collapse;
  }
  td {
    padding: 3px 0;
    border-bottom: 1px dotted #d5dbe2;
  }
  td.n {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  tr.sub td {
    font-weight: 700;
    border-bottom: none;
  }
  button {
    font: inherit;
    border: 1px solid var(--accent);
    background: var(--accent);
    color: #fff;
    border-radius: 6px;
    padding: 5px 12px;
    cursor: pointer;
  }
  button.ghost {
    background: transparent;
    color: var(--accent);
  }
  button[disabled] {
    opacity: 0.5;
    cursor: not-allowed;
  }
  progress {
    width: 100%;
    height: 10px;
  }
  .state {
    font-size: 13px;
    margin-top: 6px;
  }
  .pending {
    color: #9a6700;
  }
  .settled {
    color: #1a7f37;
  }
  .rejected,
  .failed,
  .down {
    color: #cf222e;
  }
  .muted {
    color: var(--muted);
    font-size: 13px;
  }
  .banner {
    background: #fff1f0;
    border: 1px solid #ffccc7;
    border-radius: var(--radius);
    padding: 8px 12px;
    color: #a8071a;
  }
  .demo {
    background: #fffbe6;
    border: 1px dashed #d4b106;
    border-radius: 6px;
    padding: 8px;
    margin-top: 8px;
  }
  .row {
    display: flex;
    gap: 8px;
    align-items: center;
    flex-wrap: wrap;
  }
  .comment {
    display: flex;
    gap: 10px;
    padding: 8px 0;
    border-bottom: 1px solid #e6eaef;
  }
  .avatar {
    width: 34px;
    height: 34px;
    border-radius: 50%;
    color: #fff;
    display: grid;
    place-items: center;
    font-weight: 700;
    flex: none;
  }
  .gate {
    font-weight: 700;
    color: #8250df;
  }
  textarea {
    width: 100%;
    box-sizing: border-box;
    font: inherit;
    min-height: 60px;
  }
  code {
    font-size: 12px;
    word-break: break-all;
  }
  a {
    color: var(--accent);
  }
`;
