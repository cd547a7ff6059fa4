import pg from "pg";
import type { SubmitterLease } from "../relayerStore.js";
import { LOCK_LEASE } from "./pgSchema.js";

/** How long a holder may go without renewing before another instance takes the lease over (ms). */
export const DEFAULT_LEASE_DEADLINE_MS = 10_000;

export interface CreatePgLeaseParameters {
  readonly url: string;
  readonly pool: pg.Pool;
  readonly holder: string;
  /** A holder that has not renewed for this long (by the database's clock) is taken over. */
  readonly deadlineMs?: number;
}

/**
 * The session that holds the lease's advisory lock, ended when the lease row says its holder
 * missed the deadline. The lock's holder is found in pg_locks (a 64-bit key is classid:objid),
 * never by a remembered pid (a pid is reused once its session ends).
 */
const END_STALE_HOLDER = `
SELECT pg_terminate_backend(l.pid) AS ended
FROM pg_locks l, submitter_lease s
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint
  AND l.pid <> pg_backend_pid()
  AND s.id = 1 AND s.renewed_at < clock_timestamp() - make_interval(secs => $2::double precision / 1000)`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The submitter lease on PostgreSQL: a session-level advisory lock held on a dedicated
 * connection, an epoch in `submitter_lease` bumped on each acquisition, which every settlement
 * write checks (fencing), and a renewal: each `tryAcquire` of the holder stamps `renewed_at`
 * with the database's clock. PostgreSQL drops the lock the moment the holder's session ends (a
 * killed process's socket is closed by its kernel at once). A holder that is alive to TCP but
 * does nothing (stopped, hung, starved) keeps its session open: once it has missed the deadline,
 * a contender ends that session (pg_terminate_backend; the instances share one database role, or
 * theirs is a member of pg_signal_backend) and takes the lock with a new epoch, so the former
 * holder's writes fail when it wakes. A holder whose renewal does not answer within the deadline
 * counts itself out too.
 *
 * @example
 * const lease = createPgLease({ url, pool, holder: "relayer-1", deadlineMs: 10_000 }); if (await lease.tryAcquire()) …
 */
export function createPgLease(options: CreatePgLeaseParameters): SubmitterLease {
  const deadlineMs = options.deadlineMs ?? DEFAULT_LEASE_DEADLINE_MS;
  let client: pg.Client | undefined;
  let epoch: bigint | undefined;
  const drop = () => {
    const old = client;
    client = undefined;
    epoch = undefined;
    old?.end().catch(() => undefined);
  };
  const lock = async (session: pg.Client) =>
    (await session.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [LOCK_LEASE.toString()])).rows[0]
      ?.ok === true;
  /** Ends a holder past its deadline; then waits (a second at most) for its lock to be free. */
  const takeOver = async (session: pg.Client): Promise<boolean> => {
    const ended = await session.query(END_STALE_HOLDER, [LOCK_LEASE.toString(), deadlineMs]);
    if (ended.rowCount === 0) return false;
    for (let i = 0; i < 20; i++) {
      if (await lock(session)) return true;
      await sleep(50);
    }
    return false;
  };
  return {
    get epoch() {
      return epoch;
    },
    async tryAcquire() {
      if (client && epoch !== undefined) {
        try {
          // Renewed only under our epoch: zero rows means another instance has taken over.
          const renewed = await client.query(
            "UPDATE submitter_lease SET renewed_at = clock_timestamp() WHERE id = 1 AND epoch = $1",
            [epoch.toString()],
          );
          if (renewed.rowCount === 1) return true;
        } catch {
          // the session is gone (or did not answer within the deadline)
        }
        drop();
        return false;
      }
      const fresh = new pg.Client({ connectionString: options.url, keepAlive: true, query_timeout: deadlineMs });
      fresh.on("error", () => {
        if (client === fresh) drop();
      });
      try {
        await fresh.connect();
        if (!(await lock(fresh)) && !(await takeOver(fresh))) {
          await fresh.end();
          return false;
        }
        // Waits for a former leader's fenced writes in flight; its later ones fail.
        const row = (
          await fresh.query<{ epoch: string }>(
            `UPDATE submitter_lease SET epoch = epoch + 1, holder = $1, acquired_at = $2, renewed_at = clock_timestamp()
             WHERE id = 1 RETURNING epoch`,
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
