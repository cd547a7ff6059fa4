import type pg from "pg";
import type { CapWait, RelayerStore } from "../relayerStore.js";
import { capWaitOf } from "../sqliteCapWaits.js";
import { eventOf } from "../sqliteQueries.js";
import type { Row } from "../sqliteRows.js";
import type { FencedWrite } from "./pgBatches.js";

export type PgCapWaits = Pick<RelayerStore, "capWaits" | "capWait" | "recordCapWait" | "endCapWait">;

/**
 * The PostgreSQL store's sites waiting for room under a cap: one row per site, read by every
 * instance's GET /v1/events answer; written by the lease holder only (fenced).
 *
 * @example
 * const capWaits = createPgCapWaits(pool, fencedWrites(pool, () => lease.epoch), ready)
 */
export function createPgCapWaits(pool: pg.Pool, fenced: FencedWrite, ready: Promise<void>): PgCapWaits {
  const query = async (sql: string, values: unknown[] = []): Promise<Row[]> => {
    await ready;
    return (await pool.query(sql, values)).rows as Row[];
  };
  return {
    async capWaits() {
      return (await query("SELECT * FROM cap_waits ORDER BY site_id")).map(capWaitOf);
    },
    async capWait(siteId) {
      const [row] = await query("SELECT * FROM cap_waits WHERE site_id = $1", [siteId]);
      return row ? capWaitOf(row) : undefined;
    },
    async recordCapWait(wait, notice) {
      await ready;
      return fenced(async (client) => {
        const before = (
          await client.query("SELECT since, notified_seq FROM cap_waits WHERE site_id = $1 FOR UPDATE", [wait.siteId])
        ).rows[0] as Row | undefined;
        const since = before ? Number(before.since) : wait.since;
        const notified = before ? String(before.notified_seq) : "0";
        const recorded: CapWait = { ...wait, since };
        // Without a webhook only the last seq matters: the events themselves are not read.
        const fresh = notice
          ? ((
              await client.query(
                "SELECT * FROM events WHERE site_id = $1 AND status = 'pending' AND seq > $2 ORDER BY seq",
                [wait.siteId, notified],
              )
            ).rows as Row[])
          : (
              (
                await client.query(
                  "SELECT max(seq) AS seq FROM events WHERE site_id = $1 AND status = 'pending' AND seq > $2",
                  [wait.siteId, notified],
                )
              ).rows as Row[]
            ).filter((row) => row.seq !== null);
        if (notice && fresh.length > 0) {
          const payloads = fresh.map((row) => notice(eventOf(row), recorded));
          await client.query(
            `INSERT INTO webhook_deliveries (site_id, event_id, payload, next_at)
             SELECT $1::int, e, p, $4::bigint FROM unnest($2::text[], $3::text[]) AS x(e, p)`,
            [wait.siteId, fresh.map((row) => String(row.event_id)), payloads, Date.now()],
          );
        }
        const last = fresh.at(-1);
        await client.query(
          `INSERT INTO cap_waits (site_id, cap, reason, since, room_at, notified_seq) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (site_id) DO UPDATE SET cap = excluded.cap, reason = excluded.reason,
             room_at = excluded.room_at, notified_seq = excluded.notified_seq`,
          [
            wait.siteId,
            wait.cap,
            wait.reason,
            since,
            wait.roomAt === null ? null : wait.roomAt.toString(),
            last ? String(last.seq) : notified,
          ],
        );
        return notice ? fresh.length : 0;
      });
    },
    async endCapWait(siteId) {
      await ready;
      await fenced((client) => client.query("DELETE FROM cap_waits WHERE site_id = $1", [siteId]));
    },
  };
}
