import { html, nothing } from "lit";
import { formatTwei } from "./format.js";
import type { PostState } from "./types.js";

export interface AccountView {
  state: PostState;
  hasInjected: boolean;
  demoAccounts: Array<{ address: string; name: string }> | null;
  busy: boolean;
  /** The allowance being granted (see TweiWidget.granting). */
  granting: "wallet" | "submitting" | "done" | null;
  /** The last action's error in this box, in plain words. */
  error: string | null;
  signInInjected(): void;
  signInDemo(address: string): void;
  signOut(): void;
  grant(): void;
}

function allowanceLine(allowance: string | null) {
  if (allowance === null) return html`<span data-testid="allowance-line">Spending allowance: …</span>`;
  if (BigInt(allowance) === 0n)
    return html`<span data-testid="allowance-line"
      >You have not let Twei spend any of your Twei yet: minuses, comments and reports need it.</span
    >`;
  return html`<span data-testid="allowance-line"
    >Twei may spend up to <b data-testid="allowance">${formatTwei(allowance)}</b> Twei for your actions.</span
  >`;
}

function grantButton(v: AccountView) {
  const label =
    v.granting === "wallet"
      ? "Confirm in your wallet…"
      : v.granting === "submitting"
        ? "Saving your permission…"
        : "Allow 10 Twei of spending";
  return html`<button
      data-testid="grant"
      ?disabled=${v.busy || v.granting === "wallet" || v.granting === "submitting"}
      @click=${v.grant}
    >
      ${label}
    </button>
    ${
      v.granting === "done"
        ? html`<span class="settled" data-testid="granted" role="status">Allowed ✓</span>`
        : html`<span class="muted">You sign a permission in your wallet; the site sends it, you pay no fee.</span>`
    }`;
}

/** Who is signed in, their Twei, level and spending allowance; the sign-in choices when nobody is. */
export function renderAccount(v: AccountView) {
  const user = v.state.user;
  const error = v.error ? html`<div class="banner" role="alert" data-testid="error">${v.error}</div>` : nothing;
  if (user)
    return html`<section class="box" part="account" aria-label="Your Twei account">
      <div class="row">
        <b data-testid="signed-in" title=${user.address}>${user.name}</b>
        <button class="ghost" @click=${v.signOut}>Sign out</button>
      </div>
      <div data-testid="balance-line">
        Balance <b data-testid="balance">${user.balance === null ? "…" : formatTwei(user.balance)}</b> Twei · Level
        <b data-testid="level">${user.level ?? "…"}</b>
      </div>
      <div class="muted">${allowanceLine(user.allowance)}</div>
      <div class="row" style="margin-top:6px">${grantButton(v)}</div>
      ${error}
    </section>`;
  return html`<section class="box" part="account" aria-label="Your Twei account">
    <div class="row">
      <b>Not signed in.</b>
      <span class="muted">Sign in with your wallet to earn Twei on this post.</span>
    </div>
    <div class="row" style="margin-top:6px">
      ${
        v.hasInjected
          ? html`<button data-testid="sign-in" ?disabled=${v.busy} @click=${v.signInInjected}>
              Sign in with wallet
            </button>`
          : html`<span class="muted">No wallet extension found.</span>`
      }
    </div>
    ${
      v.demoAccounts
        ? html`<div class="demo" data-testid="demo-wallet">
            <b>Demo wallet</b> — the local node's public test accounts, signed by this demo server. For trying Twei on a
            local chain only; never on a live network.
            <div class="row" style="margin-top:6px">
              <label for="twei-demo-account" class="sr-only">Demo account</label>
              <select id="twei-demo-account" data-testid="demo-account" aria-label="Demo account">
                ${v.demoAccounts.map((a) => html`<option value=${a.address}>${a.name}</option>`)}
              </select>
              <button
                data-testid="demo-sign-in"
                ?disabled=${v.busy}
                @click=${(e: Event) => {
                  const select = (e.target as HTMLElement).parentElement?.querySelector("select");
                  if (select) v.signInDemo(select.value);
                }}
              >
                Sign in with the demo wallet
              </button>
            </div>
          </div>`
        : nothing
    }
    ${error}
  </section>`;
}
