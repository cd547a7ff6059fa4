import type { EvidenceVersion } from "../../evidence/evidenceTree.js";
import type { Address, Hex } from "viem";
import type { AccountAction, PostRegistration } from "../../core/packedActions.js";
import type { RuleOutcome } from "../../rules/evaluateEvent.js";
import type { KnownComment, KnownPost } from "../../rules/rulesState.js";
import type { SiteEvent } from "../../evidence/siteEvent.js";

/**
 * The relayer's durable state behind one interface: SQLite (sqliteStore.ts, one process) or
 * PostgreSQL (pg/pgStore.ts, any number of instances). Every method that changes state commits
 * before it resolves.
 *
 * A batch goes recorded → included → settled; a reorg takes an included (or settled) batch
 * back to recorded, to be sent again under the same id; a recorded batch that cannot settle is
 * abandoned (its events pending again, to be cut anew).
 */
export interface RelayerStore {
  // ---- sites
  createSite(site: NewSite): Promise<void>;
  siteByApiKeyHash(apiKeyHash: Hex): Promise<SiteRecord | undefined>;
  site(siteId: number): Promise<SiteRecord | undefined>;
  /** Every registered site's id, in order. */
  siteIds(): Promise<number[]>;
  /** Records what the chain said of the site (its signer and whether it is active) at a block. */
  updateSiteChainState(siteId: number, state: SiteChainState): Promise<void>;
  setWebhook(siteId: number, url: string | null, secret: string | null): Promise<void>;

  // ---- policies
  /**
   * Keeps a policy document the relayer applies (its canonical JSON, by the keccak256 of it) for
   * good, so GET /v1/policies/:hash answers for every policy it has applied, after a change and
   * a restart. Recording one already kept changes nothing.
   */
  savePolicy(hash: Hex, document: string): Promise<void>;
  /** A policy document kept by savePolicy (canonical JSON), or undefined. */
  policyDocument(hash: Hex): Promise<string | undefined>;

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
  /** Sites with pending events (not held), and how many each has. */
  pendingSites(): Promise<{ siteId: number; count: number; oldestReceivedAt: number }[]>;
  pendingEvents(siteId: number, limit: number): Promise<StoredEvent[]>;
  /** Sites whose events wait as `held` (the site is deactivated on the ledger). */
  heldSites(): Promise<number[]>;
  /** Events waiting as `held`, in all. */
  heldCount(): Promise<number>;
  /** Moves a site's pending events to `held`; returns how many. */
  holdSite(siteId: number): Promise<number>;
  /** Moves a site's held events back to `pending`; returns how many. */
  releaseSite(siteId: number): Promise<number>;
  /** Sites waiting for room under a cap of the ledger's (their pending events wait), by site id. */
  capWaits(): Promise<CapWait[]>;
  /** A site's wait for room under a cap, if it waits. */
  capWait(siteId: number): Promise<CapWait | undefined>;
  /**
   * Records a site's wait for room under a cap, or updates it (its cap, reason and `roomAt`;
   * `since` stays the first one's), and queues `notice` (null: the site has no webhook) for
   * each of the site's pending events not yet told of this wait. Returns how many were queued.
   */
  recordCapWait(wait: CapWait, notice: ((event: StoredEvent, wait: CapWait) => string) | null): Promise<number>;
  /** The site's wait is over (room came back): its events are plain pending again. */
  endCapWait(siteId: number): Promise<void>;
  /**
   * Ends pending or held events as `failed` (final): releases their reservations, undoes their
   * effects on the rules' state (markers, counters, the post or comment they created) and fails,
   * as `dependency_failed`, the site's pending and held events on a post or comment that a
   * failed event created. `notice` builds each failed event's webhook payload (null: none).
   * Returns every event failed, the dependents included.
   */
  failEvents(
    siteId: number,
    failures: readonly EventFailureInput[],
    notice: (event: StoredEvent, failure: EventFailure) => string | null,
  ): Promise<{ event: StoredEvent; failure: EventFailure }[]>;
  /**
   * Prices a site's pending events anew under rule-set `version` (their version left force
   * before they were cut): rewrites their reservations with `price` and their version, in one
   * transaction, under the same account locks a spend check takes. Returns how many changed.
   */
  repriceEvents(siteId: number, version: number, price: (action: AccountAction) => bigint): Promise<number>;
  /** Allocates a batch id and assigns the events (by sequence number) to it, before anything is sent. */
  recordBatch(batch: NewBatch): Promise<BatchRecord>;
  /** Records a transaction about to be sent (nonce and fees), then its hash once sent. */
  recordAttempt(batchId: bigint, attempt: BatchAttempt): Promise<void>;
  /** Batches recorded and not yet included, settled or abandoned, oldest first. */
  openBatches(): Promise<BatchRecord[]>;
  /**
   * What the settlement loop watches: batches recorded or included, and settled ones whose
   * block is at or after `settledSince` (a reorg deeper than the finality depth can still
   * remove them). Oldest first.
   */
  trackedBatches(settledSince: bigint): Promise<BatchRecord[]>;
  batch(batchId: bigint): Promise<BatchRecord | undefined>;
  batchEvents(batchId: bigint): Promise<StoredEvent[]>;
  envelopes(keys: readonly { siteId: number; nonce: bigint }[]): Promise<StoredEnvelope[]>;
  /**
   * A recorded batch's transaction was mined (successfully): the batch and its events are
   * `included`, and their reservations are released (the chain's balances now hold them).
   * Also re-reads an included or settled batch that a reorg moved to another block.
   */
  markIncluded(batchId: bigint, inclusion: BatchInclusion): Promise<void>;
  /** An included batch reached the finality depth: `settled`; queues its webhooks. */
  markSettled(batchId: bigint, settlement: BatchSettlement): Promise<void>;
  /**
   * A reorg removed an included or settled batch's transaction: the batch is `recorded` again
   * (sent again under the same id), its events `batched`, their reservations back. Queues
   * `notices` (for a batch that had settled). Undoes the earnings a settled batch recorded.
   */
  revertInclusion(batchId: bigint, reason: string, notices: readonly EventNotice[]): Promise<void>;
  /**
   * Gives a recorded batch up (its transaction reverted, or it cannot settle as cut): its events
   * are pending again. A batch no longer recorded (included or settled) is left as it is, and
   * so are its events: an event settles once.
   */
  abandonBatch(batchId: bigint, reason: string): Promise<void>;

  // ---- webhooks
  dueDeliveries(now: number, limit: number): Promise<WebhookDelivery[]>;
  markDelivered(id: number): Promise<void>;
  rescheduleDelivery(id: number, nextAt: number, error: string, giveUp: boolean): Promise<void>;

  /** Present when several instances share the store: only its holder settles (and sends webhooks). */
  readonly lease?: SubmitterLease;

  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Who submits batches, when several instances share one database: the holder of this lease. */
export interface SubmitterLease {
  /** Tries to become the submitter (or checks it still is); true while held. */
  tryAcquire(): Promise<boolean>;
  /** The epoch acquired (fencing token), undefined while not held. */
  readonly epoch: bigint | undefined;
  /** The instance holding the lease now, as the database says (null: none yet). */
  holder(): Promise<{ holder: string | null; epoch: bigint }>;
  release(): Promise<void>;
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

export interface SiteChainState {
  readonly signer: Address;
  readonly active: boolean;
  /** When it was read, ms since the epoch. */
  readonly checkedAt: number;
  /** The block it was read at. */
  readonly checkedBlock: bigint;
}

export interface SiteRecord extends NewSite {
  readonly signer: Address | null;
  readonly active: boolean;
  /** When the chain state was last read, ms since the epoch (0 never). */
  readonly checkedAt: number;
  /** The block it was read at (null: never, or before this was recorded). */
  readonly checkedBlock: bigint | null;
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
  /** The block whose registry state (the site's signer, active) the envelope was accepted under. */
  readonly acceptedAtBlock: bigint;
  /**
   * The block the spenders' funds were read at: reservations of batches mined after it still
   * count against them (the funds read do not hold those burns yet). Unset: every reservation
   * of an event not yet mined counts (the SQLite store, whose one process forgets cached funds
   * at inclusion).
   */
  readonly fundsBlock?: bigint;
  /** The rule-set version `price` valued the events' actions under (the one in force on-chain). */
  readonly ruleSetVersion: number;
  readonly events: readonly IncomingEvent[];
}

/** The store's side of the rules' state; the relayer adds the chain's funds. */
export interface StoreRulesView {
  post(postId: string): KnownPost | undefined;
  comment(commentId: string): KnownComment | undefined;
  has(marker: string): boolean;
  count(counter: string): number;
  /** A running sum of wei (what an account earned on a UTC day: rules version 3). */
  tally(key: string): bigint;
  earned(account: Address): bigint;
  pendingBurns(account: Address): bigint;
  /** Whether another post of this relayer (any site) has the on-chain post id already. */
  postIdTaken(chainPostId: bigint, siteId: number, postId: string): boolean;
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

/**
 * An accepted event's way to the chain: `pending` (waits for a batch), `held` (its site is
 * deactivated on the ledger: it waits, and goes out once the site is active again), `batched`
 * (in a batch recorded or sent), `included` (mined, not yet at the finality depth), `settled`
 * (final), `failed` (final: the ledger refused it, with the reason).
 */
export type EventStatus = "pending" | "held" | "batched" | "included" | "settled" | "failed";

/** Which cap of the ledger's a site waits under: the overall one or the site's, on mints or burns. */
export type CapName = "mint" | "burn" | "site_mint" | "site_burn";

/**
 * A site whose next event is over a cap of the ledger's: its pending events wait (reported as
 * `waiting_for_cap`) until the ledger shows room for it again.
 */
export interface CapWait {
  readonly siteId: number;
  readonly cap: CapName;
  /** The ledger's refusal, for people. */
  readonly reason: string;
  /** When the wait began, ms since the epoch. */
  readonly since: number;
  /** When room returns, unix seconds of the chain (an estimate: null when no room comes under the caps known). */
  readonly roomAt: bigint | null;
}

/** Why an event failed for good: a stable code and a sentence for people. */
export interface EventFailure {
  readonly code: string;
  readonly message: string;
}

export interface EventFailureInput extends EventFailure {
  readonly seq: number;
}

/** A webhook payload to queue for one event. */
export interface EventNotice {
  readonly siteId: number;
  readonly eventId: string;
  readonly payload: string;
}

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
  /** The rule-set version its reservations were priced under (null: accepted before versions were recorded). */
  readonly ruleSetVersion: number | null;
  /** The personhood attestation (EAS UID) its mints relied on (policy `personhood`); null when none. */
  readonly attestation: Hex | null;
  /** Set when `failed`. */
  readonly failure: EventFailure | null;
}

export interface StoredEnvelope {
  readonly siteId: number;
  readonly nonce: bigint;
  readonly eventsHash: Hex;
  readonly digest: Hex;
  readonly signature: Hex;
  /** Every event hash the envelope signed, rejected ones included, in request order. */
  readonly eventHashes: readonly Hex[];
  /** The block whose registry state it was accepted under (null: accepted before this was recorded). */
  readonly acceptedAtBlock: bigint | null;
  readonly receivedAt: number;
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
  /** The leaf encoding the root was built with (src/evidence/evidenceTree.ts). */
  readonly evidenceVersion: EvidenceVersion;
  readonly actions: Hex;
  /** The rule-set version its events were priced under, which `settle` names. */
  readonly ruleSetVersion: number;
  readonly createdAt: number;
}

/**
 * `recorded` (cut, maybe sent), `included` (mined, below the finality depth), `settled` (final),
 * `abandoned` (given up before it was mined: its events went back to pending).
 */
export type BatchStatus = "recorded" | "included" | "settled" | "abandoned";

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
  /** The leaf encoding of its evidence tree: 1 for batches cut before leaves committed to their positions. */
  readonly evidenceVersion: EvidenceVersion;
  readonly actions: Hex;
  /** The rule-set version `settle` names (null: cut before versions were recorded; the one in force is named). */
  readonly ruleSetVersion: number | null;
  readonly eventCount: number;
  readonly createdAt: number;
  readonly attempts: readonly BatchAttempt[];
  /** The transaction that included it, and where (null until included). */
  readonly txHash: Hex | null;
  readonly blockNumber: bigint | null;
  readonly blockHash: Hex | null;
  readonly gasUsed: bigint | null;
  readonly includedAt: number | null;
  readonly settledAt: number | null;
  readonly note: string | null;
}

export interface BatchInclusion {
  readonly txHash: Hex;
  readonly blockNumber: bigint;
  readonly blockHash: Hex;
  readonly gasUsed: bigint | null;
  readonly includedAt: number;
}

export interface BatchSettlement {
  readonly settledAt: number;
  /** Webhook payloads to queue, per event. */
  readonly notifications: readonly EventNotice[];
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
