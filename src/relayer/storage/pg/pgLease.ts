import pg from "pg";
import type { SubmitterLease } from "../relayerStore.js";
import { LOCK_LEASE } from "./pgSchema.js";

/**
 * The submitter lease on PostgreSQL: a session-level advisory lock held on a dedicated
 * connection (PostgreSQL drops it the moment that session ends: a killed process's socket is
 * closed by its kernel at once; a vanished host's within the server's TCP keepalive time), and
 * an epoch in `submitter_lease` bumped on each acquisition, which every settlement write checks.
 *
 * @example
 * const lease = createPgLease({ url, holder: "relayer-1" }); if (await lease.tryAcquire()) …
 */
export function createPgLease(options: { url: string; pool: pg.Pool; holder: string }): SubmitterLease {
  let client: pg.Client | undefined;
  let epoch: bigint | undefined;
  const drop = () => {
    const old = client;
    client = undefined;
    epoch = undefined;
    old?.end().catch(() => undefined);
  };
  return {
    get epoch() {
      return epoch;
    },
    async tryAcquire() {
      if (client && epoch !== undefined) {
        try {
          await client.query("SELECT 1");
          return true;
        } catch {
          drop();
          return false;
        }
      }
      const fresh = new pg.Client({ connectionString: options.url, keepAlive: true });
      fresh.on("error", () => {
        if (client === fresh) drop();
      });
      try {
        await fresh.connect();
        const got = (
          await fresh.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [LOCK_LEASE.toString()])
        ).rows[0]?.ok;
        if (!got) {
          await fresh.end();
          return false;
        }
        // Waits for a former leader's fenced writes in flight; its later ones fail.
        const row = (
          await fresh.query<{ epoch: string }>(
            "UPDATE submitter_lease SET epoch = epoch + 1, holder = $1, acquired_at = $2 WHERE id = 1 RETURNING epoch",
            [options.holder, Date.now()],
          )
        ).rows[0];
        client = fresh;
        epoch = BigInt(row!.epoch);
        return true;
      } catch {
        await fresh.end().catch(() => undefined);
        return false;
      }
    },
    async holder() {
      const row = (
        await options.pool.query<{ holder: string | null; epoch: string }>("SELECT holder, epoch FROM submitter_lease")
      ).rows[0];
      return { holder: row?.holder ?? null, epoch: BigInt(row?.epoch ?? "0") };
    },
    async release() {
      const old = client;
      epoch = undefined;
      client = undefined;
      if (!old) return;
      await old.query("SELECT pg_advisory_unlock_all()").catch(() => undefined);
      await old.end().catch(() => undefined);
    },
  };
}
