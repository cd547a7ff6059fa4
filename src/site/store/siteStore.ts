import type { Address } from "viem";
import type { MeterState } from "../core/readingMeter.js";

/** A SIWE message the site issued, kept until it is signed once or expires. */
export interface IssuedNonce {
  readonly nonce: string;
  readonly address: Address;
  readonly message: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** A signed-in session: the cookie's (or token's) secret is never stored, only its SHA-256. */
export interface StoredSession {
  readonly idHash: string;
  readonly address: Address;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** The kinds of events the site sends for readers (the outbox's index). */
export type SentKind = "read" | "vote" | "comment" | "reaction" | "report";

/** A claim on an event id: whoever inserts it (or takes over a stale or rejected one) sends it. */
export interface EventClaim {
  readonly eventId: string;
  readonly user: Address;
  readonly kind: SentKind;
  readonly slug: string;
  /** plus or minus, like or dislike. */
  readonly detail?: string;
  readonly claimedAt: number;
}

/** What the site sent for one user action, and what the relayer answered. */
export interface SentEvent {
  readonly eventId: string;
  readonly sentAt: number;
  /** `accepted` (then settlement is asked of the relayer), or `rejected` with the rules' code. */
  readonly answer: "accepted" | "rejected";
  readonly detail?: string;
  readonly code?: string;
  readonly message?: string;
}

/** The relayer's answer to a claimed event. */
export interface EventAnswer {
  readonly answer: "accepted" | "rejected";
  readonly sentAt: number;
  readonly code?: string;
  readonly message?: string;
}

/** visible: shown to all; held: in the moderation window (its author sees it); hidden: by a moderator. */
export type CommentStatus = "visible" | "held" | "hidden";

export interface StoredComment {
  readonly commentId: string;
  readonly slug: string;
  readonly author: Address;
  readonly text: string;
  readonly createdAt: number;
  readonly status: CommentStatus;
  readonly likes: number;
  readonly dislikes: number;
  /** The comment_created event, or undefined for comments the site started with or has not sent yet. */
  readonly eventId?: string;
}

export interface NewComment {
  readonly commentId: string;
  readonly slug: string;
  readonly author: Address;
  readonly text: string;
  readonly createdAt: number;
  readonly status: CommentStatus;
  readonly likes?: number;
  readonly dislikes?: number;
  readonly eventId?: string;
}

/** Bounds that keep unauthenticated writes (nonces) and per-address rows from growing without end. */
export interface StoreBounds {
  /** Live nonces kept at most; issuing one more evicts the oldest. */
  readonly maxNonces: number;
  /** Sessions per address kept at most; a new one evicts the oldest. */
  readonly maxSessionsPerAddress: number;
  /** A reading meter untouched this long (ms) is forgotten by purgeExpired. */
  readonly meterIdleMs: number;
}

export const DEFAULT_STORE_BOUNDS: StoreBounds = {
  maxNonces: 10_000,
  maxSessionsPerAddress: 10,
  meterIdleMs: 30 * 24 * 60 * 60_000,
};

/**
 * The site kit's state, behind one interface with a SQLite and a PostgreSQL implementation
 * (createSqlSiteStore over either driver). Every rule that guards money or "once" is a
 * statement the database enforces: a nonce is taken by one DELETE … RETURNING, an event id is
 * claimed by one INSERT … ON CONFLICT, a reaction is one row per (comment, user). Times are
 * milliseconds since the epoch, passed in (the store has no clock).
 */
export interface SiteStore {
  // ---- sign-in
  /** Keeps an issued SIWE message (evicting the oldest beyond `maxNonces`). */
  issueNonce(issued: IssuedNonce): Promise<void>;
  /** Takes the message issued with `nonce`, once: a second take, or one after expiry, is undefined. */
  takeNonce(nonce: string, now: number): Promise<IssuedNonce | undefined>;
  /** Starts a session (evicting the address's oldest beyond `maxSessionsPerAddress`). */
  createSession(session: StoredSession): Promise<void>;
  /** The live session with this id hash, or undefined. */
  session(idHash: string, now: number): Promise<StoredSession | undefined>;
  endSession(idHash: string): Promise<void>;
  /** Deletes expired nonces and sessions and long-idle meters; returns how many rows went. */
  purgeExpired(now: number): Promise<number>;

  // ---- reading
  /** The meter of one reader on one post, or undefined when it never sent a beat. */
  meter(reader: Address, slug: string): Promise<MeterState | undefined>;
  /** Applies one heartbeat to the meter in one transaction (no two beats read the same state). */
  beat(reader: Address, slug: string, apply: (previous: MeterState | undefined) => MeterState): Promise<MeterState>;

  // ---- the outbox of events sent to the relayer
  /**
   * Claims `eventId` for sending: true when it was new, was rejected before (a retry is
   * re-judged), or was claimed before `staleBefore` by a sender that never answered. False
   * when another sender holds it or it was accepted.
   */
  claimEvent(claim: EventClaim, staleBefore: number): Promise<boolean>;
  /** Records the relayer's answer to a claimed event. */
  recordAnswer(eventId: string, answer: EventAnswer): Promise<void>;
  /** Gives up a claim whose send failed before any answer (the relayer unreachable), so a retry may claim it. */
  releaseClaim(eventId: string): Promise<void>;
  /** The answered event with this id, or undefined (never sent, or in flight). */
  sentEvent(eventId: string): Promise<SentEvent | undefined>;
  /** A user's answered events of one kind on one post, oldest first. */
  sentEvents(user: Address, kind: SentKind, slug: string): Promise<SentEvent[]>;
  /** Pluses of `user` the relayer accepted with a send time in [fromMs, toMs). */
  acceptedPluses(user: Address, fromMs: number, toMs: number): Promise<number>;

  // ---- comments
  /** Adds a comment; false when its id exists already (seeds are inserted once). */
  insertComment(comment: NewComment): Promise<boolean>;
  comment(commentId: string): Promise<StoredComment | undefined>;
  /** A post's comments, oldest first: visible ones, plus `viewer`'s own whatever their status. */
  comments(slug: string, options?: { viewer?: Address; limit?: number }): Promise<StoredComment[]>;
  /** Links the comment to its comment_created event. */
  setCommentEvent(commentId: string, eventId: string): Promise<void>;
  /** Records `user`'s reaction and counts it, once per (comment, user): false when they reacted already. */
  react(commentId: string, user: Address, reaction: "like" | "dislike", at: number): Promise<boolean>;

  // ---- moderation
  /** Sets a comment's status; false when there is no such comment. */
  setCommentStatus(commentId: string, status: CommentStatus): Promise<boolean>;
  /** Held comments whose window ended before `before`, oldest first (at most `limit`). */
  heldComments(before: number, limit: number): Promise<StoredComment[]>;

  // ---- lifecycle
  /** Resolves when the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
