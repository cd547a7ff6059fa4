import { css } from "lit";

/**
 * Themable with CSS custom properties set on the page (or on `twei-widget`): --twei-bg,
 * --twei-fg, --twei-muted, --twei-accent, --twei-on-accent, --twei-border, --twei-ok,
 * --twei-warn, --twei-danger, --twei-gate, --twei-radius, --twei-font. Every colour the widget
 * paints comes from these (tints are mixed from them and the background), so a dark theme needs
 * only the variables. The defaults meet WCAG AA contrast (4.5:1) on the default background.
 */
export const styles = css`
  :host {
    display: block;
    font: 15px/1.45 var(--twei-font, system-ui, -apple-system, "Segoe UI", sans-serif);
    --bg: var(--twei-bg, #f7f9fc);
    --fg: var(--twei-fg, #1d232b);
    --muted: var(--twei-muted, #4f5964);
    --accent: var(--twei-accent, #0b5cd5);
    --on-accent: var(--twei-on-accent, #ffffff);
    --border: var(--twei-border, #d0d7de);
    --ok: var(--twei-ok, #116329);
    --warn: var(--twei-warn, #7d5300);
    --danger: var(--twei-danger, #b3261e);
    --gate: var(--twei-gate, #6f42c1);
    --radius: var(--twei-radius, 10px);
    color: var(--fg);
  }
  .box {
    background: var(--bg);
    color: var(--fg);
    border: 1px solid var(--border);
    border-radius: var(--radius);
    padding: 14px 16px;
    margin: 12px 0;
  }
  h2 {
    margin: 0 0 8px;
    font-size: 17px;
  }
  h3 {
    margin: 10px 0 4px;
    font-size: 15px;
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
    border-bottom: 1px dotted var(--border);
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
    color: var(--on-accent);
    border-radius: 6px;
    padding: 5px 12px;
    cursor: pointer;
  }
  button.ghost {
    background: transparent;
    color: var(--accent);
  }
  button.link {
    border: none;
    background: none;
    color: var(--accent);
    padding: 0;
    text-decoration: underline;
  }
  button[disabled] {
    background: transparent;
    border-color: var(--border);
    color: var(--muted);
    cursor: not-allowed;
  }
  button:focus-visible,
  select:focus-visible,
  textarea:focus-visible,
  summary:focus-visible,
  a:focus-visible {
    outline: 2px solid var(--accent);
    outline-offset: 2px;
  }
  progress {
    width: 100%;
    height: 10px;
    accent-color: var(--accent);
  }
  .state {
    font-size: 13px;
    margin-top: 6px;
  }
  .pending {
    color: var(--warn);
  }
  .settled {
    color: var(--ok);
  }
  .rejected,
  .failed,
  .down {
    color: var(--danger);
  }
  .muted {
    color: var(--muted);
    font-size: 13px;
  }
  .banner {
    background: color-mix(in srgb, var(--danger) 10%, var(--bg));
    border: 1px solid color-mix(in srgb, var(--danger) 40%, var(--bg));
    border-radius: var(--radius);
    padding: 8px 12px;
    color: var(--danger);
    margin: 8px 0;
  }
  .notice {
    background: color-mix(in srgb, var(--warn) 10%, var(--bg));
    border: 1px solid color-mix(in srgb, var(--warn) 40%, var(--bg));
    border-radius: 6px;
    padding: 8px 12px;
    color: var(--fg);
    margin: 8px 0;
  }
  .demo {
    background: color-mix(in srgb, var(--warn) 8%, var(--bg));
    color: var(--fg);
    border: 1px dashed color-mix(in srgb, var(--warn) 60%, var(--bg));
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
    border-bottom: 1px solid var(--border);
  }
  .avatar {
    width: 34px;
    height: 34px;
    border-radius: 50%;
    color: #ffffff;
    display: grid;
    place-items: center;
    font-weight: 700;
    flex: none;
  }
  .gate {
    font-weight: 700;
    color: var(--gate);
  }
  select,
  textarea {
    font: inherit;
    color: var(--fg);
    background: var(--bg);
    border: 1px solid var(--border);
    border-radius: 6px;
  }
  textarea {
    width: 100%;
    box-sizing: border-box;
    min-height: 60px;
  }
  label {
    display: block;
    font-size: 13px;
    color: var(--muted);
    margin-bottom: 2px;
  }
  code {
    font-size: 12px;
    word-break: break-all;
  }
  a {
    color: var(--accent);
  }
  details {
    font-size: 13px;
    margin-top: 6px;
  }
  summary {
    cursor: pointer;
    color: var(--accent);
  }
  details dl {
    margin-top: 6px;
    font-size: 13px;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;
