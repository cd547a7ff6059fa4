import { sqliteTransaction } from "../../storage/sqliteTransaction.js";
import type { CapName, CapWait, RelayerStore } from "./relayerStore.js";
import type { SqliteDatabase } from "./sqliteDatabase.js";
import { eventOf } from "./sqliteQueries.js";
import { num, str, type Row } from "./sqliteRows.js";

export type SqliteCapWaits = Pick<RelayerStore, "capWaits" | "capWait" | "recordCapWait" | "endCapWait">;

/** A cap_waits row as a CapWait (shared with the PostgreSQL store, whose columns are the same). */
export const capWaitOf = (row: Row): CapWait => ({
  siteId: Number(row.site_id),
  cap: row.cap as CapName,
  reason: String(row.reason),
  since: Number(row.since),
  roomAt: row.room_at === null || row.room_at === undefined ? null : BigInt(row.room_at as string),
});

/**
 * The SQLite store's sites waiting for room under a cap: one row per site, kept across
 * restarts, read by every GET /v1/events answer; each pending event is told of a wait once.
 *
 * @example
 * const { recordCapWait } = createSqliteCapWaits(database)
 */
export function createSqliteCapWaits({ db, q }: SqliteDatabase): SqliteCapWaits {
  return {
    async capWaits() {
      return q("SELECT * FROM cap_waits ORDER BY site_id").all().map(capWaitOf);
    },
    async capWait(siteId) {
      const row = q("SELECT * FROM cap_waits WHERE site_id = ?").get(siteId);
      return row ? capWaitOf(row) : undefined;
    },
    async recordCapWait(wait, notice) {
      return sqliteTransaction(db, () => {
        const before = q("SELECT since, notified_seq FROM cap_waits WHERE site_id = ?").get(wait.siteId);
        const since = before ? num(before, "since") : wait.since;
        const notified = before ? num(before, "notified_seq") : 0;
        const recorded: CapWait = { ...wait, since };
        // Without a webhook only the last seq matters: the events themselves are not read.
        const fresh = notice
          ? q("SELECT * FROM events WHERE site_id = ? AND status = 'pending' AND seq > ? ORDER BY seq").all(
              wait.siteId,
              notified,
            )
          : q("SELECT max(seq) AS seq FROM events WHERE site_id = ? AND status = 'pending' AND seq > ?")
              .all(wait.siteId, notified)
              .filter((row) => row.seq !== null);
        const now = Date.now();
        if (notice)
          for (const row of fresh)
            q("INSERT INTO webhook_deliveries (site_id, event_id, payload, next_at) VALUES (?, ?, ?, ?)").run(
              wait.siteId,
              str(row, "event_id"),
              notice(eventOf(row), recorded),
              now,
            );
        const last = fresh.at(-1);
        q(
          `INSERT INTO cap_waits (site_id, cap, reason, since, room_at, notified_seq) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (site_id) DO UPDATE SET cap = excluded.cap, reason = excluded.reason,
             room_at = excluded.room_at, notified_seq = excluded.notified_seq`,
        ).run(
          wait.siteId,
          wait.cap,
          wait.reason,
          since,
          wait.roomAt === null ? null : wait.roomAt.toString(),
          last ? num(last, "seq") : notified,
        );
        return notice ? fresh.length : 0;
      });
    },
    async endCapWait(siteId) {
      q("DELETE FROM cap_waits WHERE site_id = ?").run(siteId);
    },
  };
}
