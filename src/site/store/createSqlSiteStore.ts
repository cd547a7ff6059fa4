import type { Address, Hex } from "viem";
import type { MeterState, ReaderClock } from "../core/readingMeter.js";
import {
  DEFAULT_STORE_BOUNDS,
  type CommentStatus,
  type IssuedNonce,
  type SentEvent,
  type SiteStore,
  type StoreBounds,
  type StoredComment,
  type StoredSession,
} from "./siteStore.js";
import type { SqlDriver, SqlQueries, SqlRow } from "./sqlDriver.js";

const num = (value: unknown): number => Number(value);
const opt = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));

const sessionOf = (row: SqlRow): StoredSession => ({
  idHash: String(row.id_hash),
  address: row.address as Address,
  createdAt: num(row.created_at),
  expiresAt: num(row.expires_at),
});

const meterOf = (row: SqlRow): MeterState => ({
  lastBeatAt: num(row.last_beat_at),
  lastActiveAt: num(row.last_active_at),
  creditedMs: num(row.credited_ms),
  toReadMs: num(row.to_read_ms),
});

const clockOf = (row: SqlRow): ReaderClock => ({
  creditedUntil: num(row.credited_until),
  slug: String(row.slug),
});

/** Per-IP counters are kept this long after their window started (the longest window is a day). */
const IP_COUNT_KEEP_MS = 2 * 24 * 60 * 60_000;

const sentOf = (row: SqlRow): SentEvent => {
  const detail = opt(row.detail);
  const code = opt(row.code);
  const message = opt(row.message);
  return {
    eventId: String(row.event_id),
    sentAt: num(row.sent_at),
    answer: row.state === "accepted" ? "accepted" : "rejected",
    ...(detail === undefined ? {} : { detail }),
    ...(code === undefined ? {} : { code }),
    ...(message === undefined ? {} : { message }),
  };
};

const commentOf = (row: SqlRow): StoredComment => {
  const eventId = opt(row.event_id);
  return {
    commentId: String(row.comment_id),
    slug: String(row.slug),
    author: row.author as Address,
    text: String(row.body),
    createdAt: num(row.created_at),
    status: row.status as CommentStatus,
    likes: num(row.likes),
    dislikes: num(row.dislikes),
    ...(eventId === undefined ? {} : { eventId }),
  };
};

/** One more count for `ip` in its window unless `limit` are there: the row, or undefined when full. */
const takeAllowance = (q: SqlQueries, ip: string, kind: string, windowStart: number, limit: number) =>
  q.get(
    `INSERT INTO site_ip_counts (ip, kind, window_start, n) VALUES (?, ?, ?, 1)
     ON CONFLICT (ip, kind, window_start) DO UPDATE SET n = site_ip_counts.n + 1 WHERE site_ip_counts.n < ?
     RETURNING n`,
    [ip, kind, windowStart, limit],
  );

/**
 * The site kit's store: one statement set over a SQLite or PostgreSQL driver (see SiteStore
 * for what each rule guards). The "once" rules are single statements, so they hold across any
 * number of site processes sharing the database.
 *
 * @example
 * const store = createSqlSiteStore(openSqliteSiteDriver({ path: "data/site/site.sqlite" }))
 */
export function createSqlSiteStore(driver: SqlDriver, bounds: StoreBounds = DEFAULT_STORE_BOUNDS): SiteStore {
  const { forUpdate } = driver;
  return {
    // ---- sign-in
    async issueNonce(issued) {
      await driver.tx(async (q) => {
        await q.run("INSERT INTO site_nonces (nonce, address, message, expires_at) VALUES (?, ?, ?, ?)", [
          issued.nonce,
          issued.address,
          issued.message,
          issued.expiresAt,
        ]);
        await q.run(
          `DELETE FROM site_nonces WHERE expires_at <
             (SELECT expires_at FROM site_nonces ORDER BY expires_at DESC LIMIT 1 OFFSET ?)`,
          [bounds.maxNonces - 1],
        );
      });
    },
    async takeNonce(nonce, now) {
      const row = await driver.get(
        "DELETE FROM site_nonces WHERE nonce = ? RETURNING nonce, address, message, expires_at",
        [nonce],
      );
      if (!row || num(row.expires_at) < now) return undefined;
      const issued: IssuedNonce = {
        nonce: String(row.nonce),
        address: row.address as Address,
        message: String(row.message),
        expiresAt: num(row.expires_at),
      };
      return issued;
    },
    async createSession(session) {
      await driver.tx(async (q) => {
        await q.run("INSERT INTO site_sessions (id_hash, address, created_at, expires_at) VALUES (?, ?, ?, ?)", [
          session.idHash,
          session.address,
          session.createdAt,
          session.expiresAt,
        ]);
        await q.run(
          `DELETE FROM site_sessions WHERE address = ? AND created_at <
             (SELECT created_at FROM site_sessions WHERE address = ? ORDER BY created_at DESC LIMIT 1 OFFSET ?)`,
          [session.address, session.address, bounds.maxSessionsPerAddress - 1],
        );
      });
    },
    async session(idHash, now) {
      const row = await driver.get("SELECT * FROM site_sessions WHERE id_hash = ? AND expires_at >= ?", [idHash, now]);
      return row && sessionOf(row);
    },
    async endSession(idHash) {
      await driver.run("DELETE FROM site_sessions WHERE id_hash = ?", [idHash]);
    },
    async purgeExpired(now) {
      return driver.tx(
        async (q) =>
          (await q.run("DELETE FROM site_nonces WHERE expires_at < ?", [now])) +
          (await q.run("DELETE FROM site_sessions WHERE expires_at < ?", [now])) +
          (await q.run("DELETE FROM site_meters WHERE last_beat_at < ?", [now - bounds.meterIdleMs])) +
          (await q.run("DELETE FROM site_readers WHERE last_beat_at < ?", [now - bounds.meterIdleMs])) +
          // Kept as long as a newcomer's kept meters: a newcomer back after that starts over.
          (await q.run("DELETE FROM site_reading_days WHERE first_at < ?", [now - bounds.meterIdleMs])) +
          (await q.run("DELETE FROM site_ips WHERE touched_at < ?", [now - IP_COUNT_KEEP_MS])) +
          (await q.run("DELETE FROM site_ip_counts WHERE window_start < ?", [now - IP_COUNT_KEEP_MS])),
      );
    },

    // ---- reading
    async meter(reader, slug) {
      const row = await driver.get("SELECT * FROM site_meters WHERE reader = ? AND slug = ?", [reader, slug]);
      return row && meterOf(row);
    },
    async beat(key, apply) {
      const { reader, slug, ip, at } = key;
      return driver.tx(async (q) => {
        // Lock order: the IP, then the reader, then the meter (each beat takes one of each).
        await q.run(
          "INSERT INTO site_ips (ip, touched_at) VALUES (?, ?) ON CONFLICT (ip) DO UPDATE SET touched_at = excluded.touched_at",
          [ip, at],
        );
        const clockRow = await q.get(`SELECT * FROM site_readers WHERE reader = ?${forUpdate}`, [reader]);
        const row = await q.get(`SELECT * FROM site_meters WHERE reader = ? AND slug = ?${forUpdate}`, [reader, slug]);
        const meter = row && meterOf(row);
        const closed = row !== undefined && row.closed_at !== null;
        if (closed) return { meter, closed, applied: false };
        const others = await q.get(
          "SELECT COUNT(*) AS n FROM site_readers WHERE ip = ? AND last_beat_at >= ? AND reader <> ?",
          [ip, key.runningSince, reader],
        );
        const next = apply({
          meter,
          clock: clockRow && clockOf(clockRow),
          closed,
          othersRunningOnIp: num(others?.n ?? 0),
        });
        if (!next) return { meter, closed, applied: false };
        if (next.meter !== meter)
          await q.run(
            `INSERT INTO site_meters (reader, slug, last_beat_at, last_active_at, credited_ms, to_read_ms, ip)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (reader, slug) DO UPDATE SET last_beat_at = excluded.last_beat_at,
               last_active_at = excluded.last_active_at, credited_ms = excluded.credited_ms, ip = excluded.ip`,
            [
              reader,
              slug,
              next.meter.lastBeatAt,
              next.meter.lastActiveAt,
              next.meter.creditedMs,
              next.meter.toReadMs,
              ip,
            ],
          );
        await q.run(
          `INSERT INTO site_readers (reader, credited_until, slug, ip, last_beat_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (reader) DO UPDATE SET credited_until = excluded.credited_until, slug = excluded.slug,
             ip = excluded.ip, last_beat_at = excluded.last_beat_at`,
          [reader, next.clock.creditedUntil, next.clock.slug, ip, at],
        );
        return { meter: next.meter, closed, applied: true };
      });
    },
    async closeMeter(reader, slug, at) {
      await driver.run("UPDATE site_meters SET closed_at = ? WHERE reader = ? AND slug = ? AND closed_at IS NULL", [
        at,
        reader,
        slug,
      ]);
    },
    async idleMeters(before, minBps, limit, now) {
      const rows = await driver.all(
        `SELECT * FROM site_meters WHERE closed_at IS NULL AND last_beat_at < ? AND credited_ms > 0
           AND credited_ms * 10000 >= to_read_ms * ? AND (held_until IS NULL OR held_until <= ?)
           ORDER BY last_beat_at, reader, slug LIMIT ?`,
        [before, minBps, now, limit],
      );
      return rows.map((row) => ({
        reader: row.reader as Address,
        slug: String(row.slug),
        ip: String(row.ip),
        meter: meterOf(row),
      }));
    },

    async holdMeter(reader, slug, until) {
      await driver.run("UPDATE site_meters SET held_until = ? WHERE reader = ? AND slug = ? AND closed_at IS NULL", [
        until,
        reader,
        slug,
      ]);
    },

    // ---- the newcomer hold
    async noteReadingDay(reader, day, at) {
      await driver.run(
        "INSERT INTO site_reading_days (reader, day, first_at) VALUES (?, ?, ?) ON CONFLICT (reader, day) DO NOTHING",
        [reader, day, at],
      );
    },
    async readingHistory(reader) {
      const row = await driver.get(
        "SELECT COUNT(*) AS days, MIN(first_at) AS first_at FROM site_reading_days WHERE reader = ?",
        [reader],
      );
      const firstAt = row?.first_at;
      return { days: num(row?.days ?? 0), firstAt: firstAt === null || firstAt === undefined ? null : num(firstAt) };
    },

    // ---- per-IP limits
    async takeIpAllowance(ip, kind, windowStart, limit) {
      if (limit <= 0) return false;
      return (await takeAllowance(driver, ip, kind, windowStart, limit)) !== undefined;
    },
    async admitAccount(address, ip, windowStart, limit, at) {
      return driver.tx(async (q) => {
        if (await q.get("SELECT address FROM site_accounts WHERE address = ?", [address])) return true;
        if (limit <= 0 || (await takeAllowance(q, ip, "new_account", windowStart, limit)) === undefined) return false;
        await q.run(
          "INSERT INTO site_accounts (address, first_ip, created_at) VALUES (?, ?, ?) ON CONFLICT (address) DO NOTHING",
          [address, ip, at],
        );
        return true;
      });
    },

    // ---- personhood attestations
    async claimAttestation(address, at, staleBefore) {
      const row = await driver.get(
        `INSERT INTO site_attestations (address, state, claimed_at) VALUES (?, 'claimed', ?)
         ON CONFLICT (address) DO UPDATE SET claimed_at = excluded.claimed_at
         WHERE site_attestations.state = 'claimed' AND site_attestations.claimed_at < ?
         RETURNING address`,
        [address, at, staleBefore],
      );
      return row !== undefined;
    },
    async recordAttestation(address, uid, at) {
      await driver.run(
        "UPDATE site_attestations SET state = 'attested', uid = ?, attested_at = ? WHERE address = ? AND state = 'claimed'",
        [uid, at, address],
      );
    },
    async releaseAttestation(address) {
      await driver.run("DELETE FROM site_attestations WHERE address = ? AND state = 'claimed'", [address]);
    },
    async attestation(address) {
      const row = await driver.get("SELECT * FROM site_attestations WHERE address = ? AND state = 'attested'", [
        address,
      ]);
      return row && { address: row.address as Address, uid: row.uid as Hex, attestedAt: num(row.attested_at) };
    },

    // ---- outbox
    async claimEvent(claim, staleBefore) {
      const row = await driver.get(
        `INSERT INTO site_events (event_id, user_address, kind, slug, detail, state, claimed_at)
         VALUES (?, ?, ?, ?, ?, 'claimed', ?)
         ON CONFLICT (event_id) DO UPDATE SET state = 'claimed', claimed_at = excluded.claimed_at,
           detail = excluded.detail, sent_at = NULL, code = NULL, message = NULL
         WHERE site_events.state = 'rejected' OR (site_events.state = 'claimed' AND site_events.claimed_at < ?)
         RETURNING event_id`,
        [claim.eventId, claim.user, claim.kind, claim.slug, claim.detail ?? null, claim.claimedAt, staleBefore],
      );
      return row !== undefined;
    },
    async recordAnswer(eventId, answer) {
      await driver.run(
        "UPDATE site_events SET state = ?, sent_at = ?, code = ?, message = ? WHERE event_id = ? AND state = 'claimed'",
        [answer.answer, answer.sentAt, answer.code ?? null, answer.message ?? null, eventId],
      );
    },
    async releaseClaim(eventId) {
      await driver.run("DELETE FROM site_events WHERE event_id = ? AND state = 'claimed'", [eventId]);
    },
    async sentEvent(eventId) {
      const row = await driver.get("SELECT * FROM site_events WHERE event_id = ? AND state <> 'claimed'", [eventId]);
      return row && sentOf(row);
    },
    async sentEvents(user, kind, slug) {
      const rows = await driver.all(
        `SELECT * FROM site_events WHERE user_address = ? AND kind = ? AND slug = ? AND state <> 'claimed'
         ORDER BY sent_at, event_id`,
        [user, kind, slug],
      );
      return rows.map(sentOf);
    },
    async acceptedPluses(user, fromMs, toMs) {
      const row = await driver.get(
        `SELECT COUNT(*) AS n FROM site_events WHERE user_address = ? AND kind = 'vote' AND detail = 'plus'
           AND state = 'accepted' AND sent_at >= ? AND sent_at < ?`,
        [user, fromMs, toMs],
      );
      return num(row?.n ?? 0);
    },
    async acceptedLikes(user, fromMs, toMs) {
      const row = await driver.get(
        `SELECT COUNT(*) AS n FROM site_events WHERE user_address = ? AND kind = 'reaction' AND detail = 'like'
           AND state = 'accepted' AND sent_at >= ? AND sent_at < ?`,
        [user, fromMs, toMs],
      );
      return num(row?.n ?? 0);
    },

    // ---- comments
    async insertComment(c) {
      const changed = await driver.run(
        `INSERT INTO site_comments (comment_id, slug, author, body, created_at, status, likes, dislikes, event_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (comment_id) DO NOTHING`,
        [
          c.commentId,
          c.slug,
          c.author,
          c.text,
          c.createdAt,
          c.status,
          c.likes ?? 0,
          c.dislikes ?? 0,
          c.eventId ?? null,
        ],
      );
      return changed === 1;
    },
    async comment(commentId) {
      const row = await driver.get("SELECT * FROM site_comments WHERE comment_id = ?", [commentId]);
      return row && commentOf(row);
    },
    async comments(slug, options = {}) {
      const rows = await driver.all(
        `SELECT * FROM site_comments WHERE slug = ? AND (status = 'visible' OR author = ?)
         ORDER BY created_at, comment_id LIMIT ?`,
        [slug, options.viewer ?? "", options.limit ?? 500],
      );
      return rows.map(commentOf);
    },
    async setCommentEvent(commentId, eventId) {
      await driver.run("UPDATE site_comments SET event_id = ? WHERE comment_id = ?", [eventId, commentId]);
    },
    async react(commentId, user, reaction, at) {
      return driver.tx(async (q) => {
        const added = await q.run(
          `INSERT INTO site_reactions (comment_id, user_address, reaction, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (comment_id, user_address) DO NOTHING`,
          [commentId, user, reaction, at],
        );
        if (added !== 1) return false;
        const column = reaction === "like" ? "likes" : "dislikes";
        await q.run(`UPDATE site_comments SET ${column} = ${column} + 1 WHERE comment_id = ?`, [commentId]);
        return true;
      });
    },

    // ---- moderation
    async setCommentStatus(commentId, status) {
      return (await driver.run("UPDATE site_comments SET status = ? WHERE comment_id = ?", [status, commentId])) === 1;
    },
    async heldComments(before, limit) {
      const rows = await driver.all(
        "SELECT * FROM site_comments WHERE status = 'held' AND created_at < ? ORDER BY created_at, comment_id LIMIT ?",
        [before, limit],
      );
      return rows.map(commentOf);
    },

    // ---- lifecycle
    async ping() {
      await driver.get("SELECT 1 AS ok");
    },
    close: () => driver.close(),
  };
}
