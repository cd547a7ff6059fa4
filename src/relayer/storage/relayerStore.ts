import type { Address, Hex } from "viem";
import type { AccountAction, PostRegistration } from "../../core/packedActions.js";
import type { RuleOutcome } from "../../rules/evaluateEvent.js";
import type { KnownComment, KnownPost } from "../../rules/rulesState.js";
import type { SiteEvent } from "../../evidence/siteEvent.js";

/**
 * The relayer's durable state behind one interface: SQLite (sqliteStore.ts) now, PostgreSQL
 * later. Every method that changes state commits before it resolves.
 */
export interface RelayerStore {
  // ---- sites
  createSite(site: NewSite): Promise<void>;
  siteByApiKeyHash(apiKeyHash: Hex): Promise<SiteRecord | undefined>;
  site(siteId: number): Promise<SiteRecord | undefined>;
  /** Records what the chain said of the site (its signer and whether it is active). */
  updateSiteChainState(siteId: number, signer: Address, active: boolean, checkedAt: number): Promise<void>;
  setWebhook(siteId: number, url: string | null, secret: string | null): Promise<void>;

  // ---- acceptance (the hot path)
  /**
   * Records an envelope and decides each of its events in one transaction: duplicates and
   * conflicts by event id, then `evaluate` (the rules) for new ones, whose effects are
   * stored before the next event is evaluated; `price` values each action, to reserve the
   * accounts' pending mints and burns. Throws {@link NonceReusedError} when the
   * site used the nonce for other events.
   */
  acceptEnvelope(
    input: EnvelopeInput,
    evaluate: (event: SiteEvent, view: StoreRulesView) => RuleOutcome,
    price: (action: AccountAction) => bigint,
  ): Promise<EventFate[]>;

  // ---- queries
  event(siteId: number, eventId: string): Promise<StoredEvent | undefined>;
  accountTotals(account: Address): Promise<AccountTotals>;
  pendingCount(): Promise<number>;

  // ---- settlement
  /** Sites with pending events, and how many each has. */
  pendingSites(): Promise<{ siteId: number; count: number; oldestReceivedAt: number }[]>;
  pendingEvents(siteId: number, limit: number): Promise<StoredEvent[]>;
  /** Allocates a batch id and assigns the events (by sequence number) to it, before anything is sent. */
  recordBatch(batch: NewBatch): Promise<BatchRecord>;
  /** Records a transaction about to be sent (nonce and fees), then its hash once sent. */
  recordAttempt(batchId: bigint, attempt: BatchAttempt): Promise<void>;
  /** Batches recorded and not yet settled or abandoned, oldest first. */
  openBatches(): Promise<BatchRecord[]>;
  batch(batchId: bigint): Promise<BatchRecord | undefined>;
  batchEvents(batchId: bigint): Promise<StoredEvent[]>;
  envelopes(keys: readonly { siteId: number; nonce: bigint }[]): Promise<StoredEnvelope[]>;
  markSettled(batchId: bigint, settlement: BatchSettlement): Promise<void>;
  /** Gives a batch up (its transaction reverted, e.g. over the emission cap): its events are pending again. */
  abandonBatch(batchId: bigint, reason: string): Promise<void>;

  // ---- webhooks
  dueDeliveries(now: number, limit: number): Promise<WebhookDelivery[]>;
  markDelivered(id: number): Promise<void>;
  rescheduleDelivery(id: number, nextAt: number, error: string, giveUp: boolean): Promise<void>;

  ping(): Promise<void>;
  close(): Promise<void>;
}

export class NonceReusedError extends Error {
  override name = "NonceReusedError";
}

export interface NewSite {
  readonly siteId: number;
  readonly apiKeyHash: Hex;
  readonly webhookUrl: string | null;
  readonly webhookSecret: string | null;
}

export interface SiteRecord extends NewSite {
  readonly signer: Address | null;
  readonly active: boolean;
  /** When the chain state was last read, ms since the epoch (0 never). */
  readonly checkedAt: number;
}

export interface IncomingEvent {
  readonly event: SiteEvent;
  readonly eventHash: Hex;
}

export interface EnvelopeInput {
  readonly siteId: number;
  readonly nonce: bigint;
  readonly eventsHash: Hex;
  readonly digest: Hex;
  readonly signature: Hex;
  readonly receivedAt: number;
  readonly events: readonly IncomingEvent[];
}

/** The store's side of the rules' state; the relayer adds the chain's funds. */
export interface StoreRulesView {
  post(postId: string): KnownPost | undefined;
  comment(commentId: string): KnownComment | undefined;
  has(marker: string): boolean;
  count(counter: string): number;
  earned(account: Address): bigint;
  pendingBurns(account: Address): bigint;
}

export type EventFate =
  | {
      readonly eventId: string;
      readonly status: "accepted";
      readonly actions: number;
      readonly notes?: readonly string[];
    }
  | {
      readonly eventId: string;
      readonly status: "duplicate" | "conflict";
      readonly code: string;
      readonly message: string;
    }
  | { readonly eventId: string; readonly status: "rejected"; readonly code: string; readonly message: string };

export type EventStatus = "pending" | "batched" | "settled";

export interface StoredEvent {
  readonly seq: number;
  readonly siteId: number;
  readonly eventId: string;
  readonly eventHash: Hex;
  readonly event: SiteEvent;
  readonly envelopeNonce: bigint;
  readonly envelopeIndex: number;
  readonly envelopeDigest: Hex;
  readonly actions: readonly AccountAction[];
  readonly registers: PostRegistration | null;
  readonly status: EventStatus;
  readonly batchId: bigint | null;
  readonly leafIndex: number | null;
  readonly receivedAt: number;
}

export interface StoredEnvelope {
  readonly siteId: number;
  readonly nonce: bigint;
  readonly eventsHash: Hex;
  readonly digest: Hex;
  readonly signature: Hex;
  /** Every event hash the envelope signed, rejected ones included, in request order. */
  readonly eventHashes: readonly Hex[];
}

export interface AccountTotals {
  readonly pendingMints: bigint;
  readonly pendingBurns: bigint;
  readonly earned: bigint;
}

export interface NewBatch {
  readonly siteId: number;
  /** The events' sequence numbers, in leaf order. */
  readonly seqs: readonly number[];
  readonly evidenceRoot: Hex;
  readonly actions: Hex;
  readonly createdAt: number;
}

export type BatchStatus = "recorded" | "settled" | "abandoned";

export interface BatchAttempt {
  readonly nonce: number;
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
  readonly txHash: Hex | null;
  readonly sentAt: number;
}

export interface BatchRecord {
  readonly batchId: bigint;
  readonly siteId: number;
  readonly status: BatchStatus;
  readonly evidenceRoot: Hex;
  readonly actions: Hex;
  readonly eventCount: number;
  readonly createdAt: number;
  readonly attempts: readonly BatchAttempt[];
  readonly txHash: Hex | null;
  readonly blockNumber: bigint | null;
  readonly gasUsed: bigint | null;
  readonly settledAt: number | null;
  readonly note: string | null;
}

export interface BatchSettlement {
  readonly txHash: Hex;
  readonly blockNumber: bigint;
  readonly gasUsed: bigint | null;
  readonly settledAt: number;
  /** Webhook payloads to queue, per event. */
  readonly notifications: readonly { siteId: number; eventId: string; payload: string }[];
}

export interface WebhookDelivery {
  readonly id: number;
  readonly siteId: number;
  readonly eventId: string;
  readonly payload: string;
  readonly attempts: number;
  readonly url: string | null;
  readonly secret: string | null;
}
