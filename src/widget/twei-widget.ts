import { html, LitElement, nothing } from "lit";
import { ApiError, call } from "./api.js";
import { plainWords } from "./format.js";
import { renderAccount } from "./renderAccount.js";
import { renderComments } from "./renderComments.js";
import { renderPnl } from "./renderPnl.js";
import { renderRead } from "./renderRead.js";
import { renderVotes } from "./renderVotes.js";
import { styles } from "./styles.js";
import type { PostState, SiteConfig } from "./types.js";
import { demoProvider, grantAllowance, injectedProvider, signIn, type Eip1193Provider } from "./wallet.js";

const DEMO_KEY = "twei-demo-account";

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
    error: { state: true },
    busy: { state: true },
    demoAccounts: { state: true },
  };
  declare post: string;
  declare api: string;
  declare state: PostState | null;
  declare error: string | null;
  declare busy: boolean;
  declare demoAccounts: Array<{ address: string; name: string }> | null;
  private config: SiteConfig | null = null;
  private timers: number[] = [];
  private active = true;
  private heartbeatStopped = false;

  constructor() {
    super();
    this.api = "/twei/api";
    this.state = null;
    this.error = null;
    this.busy = false;
    this.demoAccounts = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const mark = () => (this.active = true);
    for (const type of ["scroll", "pointermove", "keydown", "touchstart"])
      addEventListener(type, mark, { passive: true });
    addEventListener("pagehide", () => {
      if (this.state?.user) navigator.sendBeacon(`${this.api}/posts/${this.post}/leave`);
    });
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
    } else this.error = loaded.reason instanceof Error ? loaded.reason.message : String(loaded.reason);
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
      if (this.error === "The site cannot be reached.") this.error = null;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  private async heartbeat(): Promise<void> {
    const read = this.state?.reader?.read;
    if (!this.state?.user || this.heartbeatStopped || read?.status) return;
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
      if (answer.sent) {
        this.heartbeatStopped = true;
        await this.refresh();
      }
    } catch {
      // A missed beat credits nothing; the next one goes on.
    }
  }

  private provider(): Eip1193Provider | undefined {
    const demo = sessionStorage.getItem(DEMO_KEY);
    return demo ? demoProvider(this.api, demo) : injectedProvider();
  }

  /** Runs one user action, showing its error in plain words. */
  private async act(work: () => Promise<unknown>): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      await work();
    } catch (error) {
      this.error =
        error instanceof ApiError
          ? `${plainWords(error.code, error.message)} (${error.code})`
          : error instanceof Error
            ? error.message
            : String(error);
    } finally {
      this.busy = false;
      await this.refresh();
    }
  }

  private signInWith(provider: Eip1193Provider | undefined) {
    return this.act(async () => {
      if (!provider || !this.config) throw new Error("No wallet is available.");
      await signIn(this.api, provider, this.config.chainId);
      this.heartbeatStopped = false;
    });
  }

  private post_(path: string, body: unknown = {}) {
    return this.act(async () => {
      const answer = await call<{ answer?: string; code?: string; message?: string }>(this.api, path, body);
      if (answer.answer === "rejected") this.error = `${plainWords(answer.code, answer.message)} (${answer.code})`;
    });
  }

  override render() {
    const s = this.state;
    if (!s)
      return html`<div class="box">
        ${this.error ? html`<span class="down">${this.error}</span>` : "Loading Twei…"}
      </div>`;
    const down = [
      s.services.relayer !== "ok" ? "Twei's relayer" : null,
      s.services.indexer !== "ok" ? "Twei's indexer" : null,
    ].filter(Boolean);
    const p = `/posts/${this.post}`;
    return html`
      ${
        down.length
          ? html`<div class="banner" data-testid="unreachable">
              ${down.join(" and ")} cannot be reached right now: earnings and reports show again once it answers. Your
              reading is still measured.
            </div>`
          : nothing
      }
      ${this.error ? html`<div class="banner" data-testid="error">${this.error}</div>` : nothing}
      ${renderAccount({
        state: s,
        hasInjected: injectedProvider() !== undefined,
        demoAccounts: this.demoAccounts,
        busy: this.busy,
        signInInjected: () => {
          sessionStorage.removeItem(DEMO_KEY);
          void this.signInWith(injectedProvider());
        },
        signInDemo: (address) => {
          sessionStorage.setItem(DEMO_KEY, address);
          void this.signInWith(demoProvider(this.api, address));
        },
        signOut: () => void this.act(() => call(this.api, "/signout", {})),
        grant: () =>
          void this.act(async () => {
            const provider = this.provider();
            if (!provider || !s.user) throw new Error("No wallet is available.");
            await grantAllowance(this.api, provider, s.user.address, "10");
          }),
      })}
      ${renderRead(s)} ${renderVotes(s, (vote) => void this.post_(`${p}/vote`, { vote }), this.busy)}
      ${renderPnl(s, () => void this.post_(`${p}/report`), this.busy)}
      ${renderComments(s, {
        busy: this.busy,
        react: (id, reaction) => void this.post_(`${p}/comments/${id}/reaction`, { reaction }),
        submit: (text) => void this.post_(`${p}/comments`, { text }),
      })}
    `;
  }
}

customElements.define("twei-widget", TweiWidget);
