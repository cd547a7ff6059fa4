import { html, nothing } from "lit";
import { formatTwei } from "./format.js";
import type { PostState } from "./types.js";

export interface AccountView {
  state: PostState;
  hasInjected: boolean;
  demoAccounts: Array<{ address: string; name: string }> | null;
  busy: boolean;
  signInInjected(): void;
  signInDemo(address: string): void;
  signOut(): void;
  grant(): void;
}

/** Who is signed in, their Twei, level and allowance; the sign-in choices when nobody is. */
export function renderAccount(v: AccountView) {
  const user = v.state.user;
  if (user)
    return html`<section class="box" part="account">
      <div class="row">
        <b data-testid="signed-in">${user.name}</b>
        <code>${user.address}</code>
        <button class="ghost" @click=${v.signOut}>Sign out</button>
      </div>
      <div class="muted">
        Balance ${user.balance === null ? "…" : formatTwei(user.balance)} Twei · LVL ${user.level ?? "?"} · the ledger
        may burn up to
        <span data-testid="allowance">${user.allowance === null ? "…" : formatTwei(user.allowance)}</span>
        Twei
      </div>
      <div class="row" style="margin-top:6px">
        <button data-testid="grant" ?disabled=${v.busy} @click=${v.grant}>Allow 10 Twei of spending</button>
        <span class="muted">A permit you sign in your wallet; the site submits it, you pay no gas.</span>
      </div>
    </section>`;
  return html`<section class="box" part="account">
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
            <b>Demo wallet</b> — the local node's public DEV accounts, signed by this demo server. For trying Twei on a
            local chain only; never on a live network.
            <div class="row" style="margin-top:6px">
              <select data-testid="demo-account">
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
  </section>`;
}
