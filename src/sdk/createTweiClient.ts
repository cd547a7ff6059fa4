import type { Address, Hex, LocalAccount } from "viem";
import { hashEvents, hashSiteEvent } from "../evidence/encodeSiteEvent.js";
import { signEnvelope } from "../evidence/envelope.js";
import { siteEventSchema, type SiteEventInput } from "../evidence/siteEvent.js";

/** A problem answer of the relayer (RFC 9457), with its stable `code`. */
export class TweiApiError extends Error {
  override name = "TweiApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    readonly problem: Record<string, unknown>,
  ) {
    super(`${status} ${code}: ${String(problem.detail ?? problem.title ?? "")}`);
  }
  /** Whether retrying the same request later can succeed (429, 503 and other 5xx). */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

export type EventResult =
  | { eventId: string; status: "accepted"; actions: number; notes?: string[] }
  | { eventId: string; status: "duplicate" | "conflict" | "rejected"; code: string; message: string };

/**
 * An accepted event's way to the chain, as GET /v1/events answers it: `pending`, `held` (its site
 * is deactivated on the ledger), `waiting_for_cap` (the ledger's cap leaves no room yet: see
 * `waitingForCap`), `batched`, `included`, `settled` (final) or `failed` (final).
 */
export type EventStatus = "pending" | "held" | "waiting_for_cap" | "batched" | "included" | "settled" | "failed";

/** Why an event waits as `waiting_for_cap`, and until when (also the `event.waiting_for_cap` webhook's). */
export interface WaitingForCap {
  /** `mint`, `burn`: the ledger's overall caps; `site_mint`, `site_burn`: the site's. */
  cap: "mint" | "burn" | "site_mint" | "site_burn";
  /** The ledger's refusal. */
  reason: string;
  /** When the site began to wait (ISO). */
  since: string;
  /** When the ledger has room again, by the chain's clock (ISO, and unix seconds); null: not under the caps known. */
  roomAt: string | null;
  roomAtUnix: number | null;
}

/** GET /v1/events/:siteId/:eventId's answer (the fields every status has, typed; the rest as JSON). */
export type EventAnswer = Record<string, unknown> & {
  eventId: string;
  status: EventStatus;
  /** Set when `failed`. */
  failure: { code: string; message: string } | null;
  /** Set when `held`. */
  held: { reason: string } | null;
  /** Set when `waiting_for_cap`. */
  waitingForCap: WaitingForCap | null;
  batchId: string | null;
  txHash: Hex | null;
  blockNumber: string | null;
};

export interface SendEventsReturnType {
  siteId: number;
  nonce: string;
  counts: { accepted: number; duplicate: number; conflict: number; rejected: number };
  /** The rule-set version the accepted events are priced under (see `rules()`). */
  ruleSetVersion: number;
  /** Set when the site waits for room under a cap: its accepted events wait too (until `roomAt`). */
  waitingForCap: WaitingForCap | null;
  results: EventResult[];
}

export interface TweiClientOptions {
  /** The relayer's base URL, e.g. http://127.0.0.1:8787. */
  readonly url: string;
  readonly apiKey: string;
  readonly siteId: number;
  /** The site's signer key, registered on the ledger. */
  readonly signer: LocalAccount;
  readonly chainId: number;
  readonly ledger: Address;
  /** Envelope nonces; unique per site forever. By default microseconds since the epoch, kept increasing. */
  readonly nextNonce?: () => bigint;
}

export interface TweiClient {
  /** Signs the events as one envelope and sends them (at most 1,000). Every event's fate is in `results`. */
  sendEvents(events: readonly SiteEventInput[], options?: { nonce?: bigint }): Promise<SendEventsReturnType>;
  /** Signs an envelope without sending it (for callers with their own transport). */
  signEvents(events: readonly SiteEventInput[], nonce: bigint): Promise<{ body: string }>;
  event(eventId: string): Promise<EventAnswer>;
  batch(batchId: bigint | string): Promise<Record<string, unknown>>;
  user(address: Address): Promise<Record<string, unknown>>;
  /** The rule set in force, the one announced (and when it takes effect), the one in grace. */
  rules(): Promise<Record<string, unknown>>;
  submitPermit(permit: {
    owner: Address;
    value: bigint;
    deadline: bigint;
    signature: Hex;
  }): Promise<Record<string, unknown>>;
}

function nonceClock(): () => bigint {
  let last = 0n;
  return () => {
    const now = BigInt(Date.now()) * 1000n;
    last = now > last ? now : last + 1n;
    return last;
  };
}

/**
 * The TypeScript client for sites: signs each request's events as one EIP-712 envelope with
 * the site's key and calls the relayer's API.
 *
 * @example
 * const twei = createTweiClient({ url, apiKey, siteId: 1, signer: privateKeyToAccount(key), chainId, ledger });
 * const { results } = await twei.sendEvents([{ eventId: "r-1", type: "post_read", occurredAt, user, postId: "p-1", secondsRead: 90 }]);
 */
export function createTweiClient(options: TweiClientOptions): TweiClient {
  const nextNonce = options.nextNonce ?? nonceClock();
  const base = options.url.replace(/\/$/, "");
  const headers = { authorization: `Bearer ${options.apiKey}`, "content-type": "application/json" };

  async function call<T>(method: string, path: string, body?: string): Promise<T> {
    const response = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw new TweiApiError(response.status, String(json.code ?? "http_error"), json);
    return json as T;
  }

  async function signEvents(events: readonly SiteEventInput[], nonce: bigint) {
    // Hash exactly what the relayer will hash: the events as its schema normalises them.
    const parsed = events.map((event) => siteEventSchema.parse(event));
    const eventsHash = hashEvents(parsed.map(hashSiteEvent));
    const signature = await signEnvelope(
      options.signer,
      { chainId: options.chainId, ledger: options.ledger },
      { siteId: options.siteId, nonce, eventsHash },
    );
    return { body: JSON.stringify({ siteId: options.siteId, nonce: nonce.toString(), signature, events }) };
  }

  return {
    signEvents,
    async sendEvents(events, sendOptions = {}) {
      const { body } = await signEvents(events, sendOptions.nonce ?? nextNonce());
      return call<SendEventsReturnType>("POST", "/v1/events", body);
    },
    event: (eventId) => call("GET", `/v1/events/${options.siteId}/${encodeURIComponent(eventId)}`),
    batch: (batchId) => call("GET", `/v1/batches/${batchId}`),
    user: (address) => call("GET", `/v1/users/${address}`),
    rules: () => call("GET", "/v1/rules"),
    submitPermit: (permit) =>
      call(
        "POST",
        "/v1/permits",
        JSON.stringify({
          owner: permit.owner,
          value: permit.value.toString(),
          deadline: permit.deadline.toString(),
          signature: permit.signature,
        }),
      ),
  };
}
