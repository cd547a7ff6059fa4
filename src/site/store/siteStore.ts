import type { Address, Hex } from "viem";
import type { MeterState, ReaderBeat, ReaderClock } from "../core/readingMeter.js";

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

/** What the newcomer hold knows of a reader: the UTC days they read on, and their first credited beat. */
export interface ReadingHistory {
  readonly days: number;
  readonly firstAt: number | null;
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

/** One heartbeat: a reader on a post, from an IP, at the site's time `at`. */
export interface BeatKey {
  readonly reader: Address;
  readonly slug: string;
  readonly ip: string;
  readonly at: number;
  /** Readers whose last beat from this IP came at or after this time count as reading there now. */
  readonly runningSince: number;
}

/** What a heartbeat is applied to, read in its transaction. */
export interface BeatView {
  readonly meter: MeterState | undefined;
  /** The reader's one clock, shared by all their meters (undefined before their first beat). */
  readonly clock: ReaderClock | undefined;
  /** The meter's read was answered: it credits nothing more. */
  readonly closed: boolean;
  /** Other readers whose last beat came from this IP at or after `runningSince`. */
  readonly othersRunningOnIp: number;
}

/** A meter after a heartbeat; `applied` is false when the apply refused it or the meter is closed. */
export interface BeatResult {
  readonly meter: MeterState | undefined;
  readonly closed: boolean;
  readonly applied: boolean;
}

/** An open meter nobody beat on for a while: its read may be sent with the time measured. */
export interface IdleMeter {
  readonly reader: Address;
  readonly slug: string;
  /** The IP of its last beat. */
  readonly ip: string;
  readonly meter: MeterState;
}

/** What the site counts per IP and window (see src/site/core/ipLimits.ts). */
export type IpCountKind = "new_account" | "read" | "attestation";

/** A personhood attestation the site made for one of its readers (src/site/routes/personhood.ts). */
export interface SiteAttestation {
  readonly address: Address;
  /** The EAS attestation's UID. */
  readonly uid: Hex;
  readonly attestedAt: number;
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
  /**
   * Deletes expired nonces and sessions, long-idle meters, reader clocks and reading days, and per-IP
   * counters of windows over two days old; returns how many rows went.
   */
  purgeExpired(now: number): Promise<number>;

  // ---- reading
  /** The meter of one reader on one post, or undefined when it never sent a beat. */
  meter(reader: Address, slug: string): Promise<MeterState | undefined>;
  /**
   * Applies one heartbeat in one transaction that holds the reader's meter on the post, the
   * reader's clock and the IP (so no two beats of one reader, or from one IP, read the same
   * state, across processes). `apply` returns the new meter and clock, or undefined to refuse
   * the beat (nothing written). A closed meter is never applied to.
   */
  beat(key: BeatKey, apply: (view: BeatView) => ReaderBeat | undefined): Promise<BeatResult>;
  /** Marks the meter's read answered (accepted, or refused by the rules): it credits nothing more. */
  closeMeter(reader: Address, slug: string, at: number): Promise<void>;
  /**
   * Open meters whose last beat came before `before` and that hold at least `minBps` basis
   * points of their time to read, oldest first (at most `limit`): the sweep's candidates.
   */
  idleMeters(before: number, minBps: number, limit: number, now: number): Promise<IdleMeter[]>;
  /**
   * The sweep leaves the open meter of `reader` on `slug` alone until `until`: its read is held
   * (the reader is a newcomer, or unattested), so it is looked at again later, not every sweep.
   */
  holdMeter(reader: Address, slug: string, until: number): Promise<void>;

  // ---- the newcomer hold (src/site/core/newcomerHold.ts)
  /** Records that `reader`'s meter credited time on UTC day `day` (the first time `at` is kept). Idempotent. */
  noteReadingDay(reader: Address, day: number, at: number): Promise<void>;
  /** On how many UTC days `reader`'s meter credited time, and when it first did (null: never). */
  readingHistory(reader: Address): Promise<ReadingHistory>;

  // ---- per-IP limits
  /**
   * Counts one more `kind` for `ip` in the window starting at `windowStart`, unless `limit`
   * are counted there already (then false). One statement, so concurrent takers in any number
   * of processes never pass the limit.
   */
  takeIpAllowance(ip: string, kind: IpCountKind, windowStart: number, limit: number): Promise<boolean>;
  /**
   * Admits `address` signing in from `ip`: true when the site knows the address already, or
   * when the IP's allowance of new accounts in the window has room (then the address is known
   * from now on); false otherwise.
   */
  admitAccount(address: Address, ip: string, windowStart: number, limit: number, at: number): Promise<boolean>;

  // ---- personhood attestations the site makes
  /**
   * Claims the one attestation of `address`: true when the site never attested it and nobody is
   * attesting it now (a claim older than `staleBefore` with no UID is a sender that died). One
   * statement, so of several processes one attests.
   */
  claimAttestation(address: Address, at: number, staleBefore: number): Promise<boolean>;
  /** Records the UID of a claimed attestation, written on the chain. */
  recordAttestation(address: Address, uid: Hex, at: number): Promise<void>;
  /** Gives up a claim whose transaction failed, so a retry may claim it. */
  releaseAttestation(address: Address): Promise<void>;
  /** The attestation the site made for `address`, or undefined. */
  attestation(address: Address): Promise<SiteAttestation | undefined>;

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
  /**
   * Comment likes of `user` the relayer accepted with a send time in [fromMs, toMs): what the
   * rules' daily like budget counts (only accepted likes; this site sends all of its readers').
   */
  acceptedLikes(user: Address, fromMs: number, toMs: number): Promise<number>;

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
