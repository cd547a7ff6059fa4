import { html, LitElement, nothing } from "lit";
import { ApiError, call } from "./api.js";
import { plainWords } from "./format.js";
import { renderAccount } from "./renderAccount.js";
import { renderComments } from "./renderComments.js";
import { renderPersonhood } from "./renderPersonhood.js";
import { renderPnl } from "./renderPnl.js";
import { renderRead } from "./renderRead.js";
import { renderVotes } from "./renderVotes.js";
import { styles } from "./styles.js";
import type { PostState, SiteConfig } from "./types.js";
import { demoProvider, grantAllowance, injectedProvider, signIn, type Eip1193Provider } from "./wallet.js";

const DEMO_KEY = "twei-demo-account";
/** The site's per-IP refusals a heartbeat can meet (src/site/core/ipLimits.ts). */
const IP_LIMIT_CODES = new Set(["ip_meter_limit", "ip_read_limit"]);

/** Where a message belongs: next to the box whose button caused it ("page" is loading the widget). */
export type Section = "page" | "account" | "personhood" | "votes" | "pnl" | "comments";

/**
 * `<twei-widget post="<slug>" api="/twei/api">`: Twei's boxes under an article. Talks only to
 * the site's backend (which holds the site's keys); the reader's wallet signs in (SIWE) and
 * signs permits, through EIP-1193.
 */
export class TweiWidget extends LitElement {
  static override styles = styles;
  static override properties = {
    post: { type: String },
    api: { type: String },
    state: { state: true },
    errors: { state: true },
    busy: { state: true },
    demoAccounts: { state: true },
    confirmingBuy: { state: true },
    granting: { state: true },
  };
  declare post: string;
  declare api: string;
  declare state: PostState | null;
  declare errors: Partial<Record<Section, string>>;
  declare busy: boolean;
  declare demoAccounts: Array<{ address: string; name: string }> | null;
  declare confirmingBuy: boolean;
  /** The allowance being granted: "wallet" while the wallet asks, "submitting" while the site submits, "done" once granted. */
  declare granting: "wallet" | "submitting" | "done" | null;
  private config: SiteConfig | null = null;
  private timers: number[] = [];
  private active = true;
  private heartbeatStopped = false;
  /** The refusal the last heartbeat met, shown until a beat passes. */
  private beatError: string | null = null;

  constructor() {
    super();
    this.api = "/twei/api";
    this.state = null;
    this.errors = {};
    this.busy = false;
    this.demoAccounts = null;
    this.confirmingBuy = false;
    this.granting = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const mark = () => (this.active = true);
    for (const type of ["scroll", "pointermove", "keydown", "touchstart"])
      addEventListener(type, mark, { passive: true });
    void this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const t of this.timers) clearInterval(t);
  }

  private async start(): Promise<void> {
    const [, loaded] = await Promise.allSettled([this.refresh(), call<SiteConfig>(this.api, "/config")]);
    if (loaded.status === "fulfilled") {
      this.config = loaded.value;
      this.demoAccounts = loaded.value.demoWallet;
    } else this.setError("page", loaded.reason instanceof Error ? loaded.reason.message : String(loaded.reason));
    await this.updateComplete;
    this.dispatchEvent(new CustomEvent("twei-ready", { bubbles: true, composed: true }));
    this.timers.push(window.setInterval(() => void this.refresh(), 1_500));
    this.timers.push(window.setInterval(() => void this.heartbeat(), this.config?.heartbeatMs ?? 5_000));
    void this.heartbeat();
  }

  private async refresh(): Promise<void> {
    if (document.visibilityState !== "visible" && this.state) return;
    try {
      this.state = await call<PostState>(this.api, `/posts/${this.post}`);
      // A heartbeat's refusal stays until a beat passes (a refresh every 1.5 s would make it flash).
      if (this.errors.page && this.errors.page !== this.beatError) this.setError("page", null);
    } catch (error) {
      this.setError("page", error instanceof Error ? error.message : String(error));
    }
  }

  private async heartbeat(): Promise<void> {
    const read = this.state?.reader?.read;
    // A read refused for want of proof of personhood (or while it could not be read) stays open at the site: beats go on.
    const held =
      read?.status?.state === "rejected" &&
      (read.status.code === "personhood_required" || read.status.code === "personhood_unknown");
    if (!this.state?.user || this.heartbeatStopped || (read?.status && !held)) return;
    const beat = { visible: document.visibilityState === "visible", focused: document.hasFocus(), active: this.active };
    this.active = false;
    try {
      const answer = await call<{ seconds: number; complete: boolean; sent: boolean }>(
        this.api,
        `/posts/${this.post}/heartbeat`,
        beat,
      );
      if (this.state?.reader)
        this.state = {
          ...this.state,
          reader: { ...this.state.reader, read: { ...this.state.reader.read, ...answer } },
        };
      if (this.beatError !== null && this.errors.page === this.beatError) this.setError("page", null);
      this.beatError = null;
      if (answer.sent) {
        this.heartbeatStopped = true;
        await this.refresh();
      }
    } catch (error) {
      // A missed beat credits nothing; the next one goes on. The site's per-IP limits say why
      // reading is not counted (or a finished read waits), in plain words, until a beat passes.
      if (error instanceof ApiError && IP_LIMIT_CODES.has(error.code)) {
        this.beatError = `${plainWords(error.code, error.message)} (${error.code})`;
        this.setError("page", this.beatError);
      }
    }
  }

  private provider(): Eip1193Provider | undefined {
    const demo = sessionStorage.getItem(DEMO_KEY);
    return demo ? demoProvider(this.api, demo) : injectedProvider();
  }

  private setError(section: Section, message: string | null): void {
    const errors = { ...this.errors };
    if (message === null) delete errors[section];
    else errors[section] = message;
    this.errors = errors;
  }

  /** Runs one user action, showing its error in plain words in the box whose button caused it. */
  private async act(section: Section, work: () => Promise<unknown>): Promise<void> {
    this.busy = true;
    this.setError(section, null);
    try {
      await work();
    } catch (error) {
      this.setError(
        section,
        error instanceof ApiError
          ? plainWords(error.code, error.message)
          : error instanceof Error
            ? error.message
            : String(error),
      );
    } finally {
      this.busy = false;
      await this.refresh();
    }
  }

  private signInWith(provider: Eip1193Provider | undefined) {
    return this.act("account", async () => {
      if (!provider || !this.config) throw new Error("No wallet is available.");
      await signIn(this.api, provider, this.config.chainId);
      this.heartbeatStopped = false;
    });
  }

  /**
   * Sends one action. A rejection is said by the action's own status line where it has one
   * (votes, reactions, purchases); `sayRejection` for those that leave none (a refused comment).
   */
  private post_(section: Section, path: string, body: unknown = {}, sayRejection = false) {
    return this.act(section, async () => {
      const answer = await call<{ answer?: string; code?: string; message?: string }>(this.api, path, body);
      if (answer.answer === "rejected" && sayRejection) this.setError(section, plainWords(answer.code, answer.message));
    });
  }

  private grant(user: string) {
    return this.act("account", async () => {
      const provider = this.provider();
      if (!provider) throw new Error("No wallet is available.");
      this.granting = "wallet";
      try {
        await grantAllowance(this.api, provider, user, "10", () => (this.granting = "submitting"));
        this.granting = "done";
      } catch (error) {
        this.granting = null;
        throw error;
      }
    });
  }

  override render() {
    const s = this.state;
    if (!s)
      return html`<div class="box">
        ${this.errors.page ? html`<span class="down" role="alert">${this.errors.page}</span>` : "Loading Twei…"}
      </div>`;
    const down = [
      s.services.relayer !== "ok" ? "Twei's relayer" : null,
      s.services.indexer !== "ok" ? "Twei's indexer" : null,
    ].filter(Boolean);
    const p = `/posts/${this.post}`;
    const errorOf = (section: Section) => this.errors[section] ?? null;
    return html`
      ${
        down.length
          ? html`<div class="banner" role="status" data-testid="unreachable">
              ${down.join(" and ")} cannot be reached right now: balances, earnings and reports may be out of date, and
              new actions wait until it answers. ${s.user ? "Your reading is still measured." : nothing}
            </div>`
          : nothing
      }
      ${this.errors.page ? html`<div class="banner" role="alert" data-testid="error">${this.errors.page}</div>` : nothing}
      ${renderAccount({
        state: s,
        hasInjected: injectedProvider() !== undefined,
        demoAccounts: this.demoAccounts,
        busy: this.busy,
        granting: this.granting,
        error: errorOf("account"),
        signInInjected: () => {
          sessionStorage.removeItem(DEMO_KEY);
          void this.signInWith(injectedProvider());
        },
        signInDemo: (address) => {
          sessionStorage.setItem(DEMO_KEY, address);
          void this.signInWith(demoProvider(this.api, address));
        },
        signOut: () => void this.act("account", () => call(this.api, "/signout", {})),
        grant: () => {
          if (s.user) void this.grant(s.user.address);
        },
      })}
      ${renderPersonhood({
        state: s,
        busy: this.busy,
        error: errorOf("personhood"),
        attest: () =>
          void this.act("personhood", async () => {
            await call(this.api, "/personhood/attest", {});
            this.heartbeatStopped = false;
          }),
      })}
      ${renderRead(s)}
      ${renderVotes(s, (vote) => void this.post_("votes", `${p}/vote`, { vote }), this.busy, errorOf("votes"))}
      ${renderPnl(s, {
        busy: this.busy,
        confirming: this.confirmingBuy,
        error: errorOf("pnl"),
        ask: () => (this.confirmingBuy = true),
        cancel: () => (this.confirmingBuy = false),
        buy: () => {
          this.confirmingBuy = false;
          void this.post_("pnl", `${p}/report`);
        },
      })}
      ${renderComments(s, {
        busy: this.busy,
        error: errorOf("comments"),
        react: (id, reaction) => void this.post_("comments", `${p}/comments/${id}/reaction`, { reaction }),
        submit: (text) => void this.post_("comments", `${p}/comments`, { text }, true),
      })}
    `;
  }
}

customElements.define("twei-widget", TweiWidget);
