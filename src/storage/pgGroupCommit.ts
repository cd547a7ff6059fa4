import type pg from "pg";

export interface PgGroupCommitter<T> {
  /**
   * Queues `work` for the next group; resolves with its result once the group is committed.
   * `locks` are the advisory lock keys the work needs: the group takes all of its jobs' keys
   * at once, sorted, before any job runs (so groups of several instances never deadlock).
   */
  submit(locks: readonly bigint[], work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** Waits for the queued and running groups. */
  flush(): Promise<void>;
}

/**
 * Group commit over PostgreSQL: the jobs submitted while the previous group commits (or within
 * `delayMs` of the first) run in one transaction (one WAL flush, one round trip to COMMIT),
 * each in its own savepoint so that a job that throws is rolled back and rejected alone. A job's
 * promise settles only after COMMIT. One group at a time per process.
 *
 * @example
 * const committer = createPgGroupCommitter<Fates>(pool, { delayMs: 2 });
 * const fates = await committer.submit([siteLockKey(1)], (client) => writeEnvelope(client, input));
 */
export function createPgGroupCommitter<T>(
  pool: pg.Pool,
  options: { delayMs: number; maxJobs?: number },
): PgGroupCommitter<T> {
  interface Job {
    locks: readonly bigint[];
    work(client: pg.PoolClient): Promise<T>;
    resolve(result: T): void;
    reject(error: unknown): void;
  }
  const queue: Job[] = [];
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const runGroup = async (jobs: Job[]): Promise<void> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    const written: { job: Job; result: T }[] = [];
    const failed: { job: Job; error: unknown }[] = [];
    let broken: unknown;
    try {
      const keys = [...new Set(jobs.flatMap((job) => job.locks))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      await client.query("BEGIN");
      if (keys.length > 0) await client.query("SELECT twei_lock_all($1::bigint[])", [keys.map(String)]);
      for (const [i, job] of jobs.entries()) {
        if (jobs.length > 1) await client.query(i === 0 ? "SAVEPOINT job" : "RELEASE job; SAVEPOINT job");
        try {
          written.push({ job, result: await job.work(client) });
        } catch (error) {
          if (jobs.length > 1) await client.query("ROLLBACK TO job");
          else throw error;
          failed.push({ job, error });
        }
      }
      if (jobs.length > 1) await client.query("RELEASE job; COMMIT");
      else await client.query("COMMIT");
    } catch (error) {
      broken = error;
      await client.query("ROLLBACK").catch(() => undefined);
    } finally {
      client.release(broken instanceof Error && !("code" in broken) ? broken : undefined);
    }
    if (broken !== undefined) {
      // A single job's own failure, or the group's: every job not yet answered fails with it.
      for (const job of jobs) job.reject(broken);
      return;
    }
    for (const { job, result } of written) job.resolve(result);
    for (const { job, error } of failed) job.reject(error);
  };

  const kick = (): void => {
    if (running || timer || queue.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      const jobs = queue.splice(0, options.maxJobs ?? 64);
      running = runGroup(jobs).finally(() => {
        running = undefined;
        kick();
      });
    }, options.delayMs);
  };

  return {
    submit(locks, work) {
      return new Promise<T>((resolve, reject) => {
        queue.push({ locks, work, resolve, reject });
        kick();
      });
    },
    async flush() {
      while (running || timer || queue.length > 0) {
        if (timer) {
          clearTimeout(timer);
          timer = undefined;
          const jobs = queue.splice(0, options.maxJobs ?? 64);
          running = runGroup(jobs).finally(() => {
            running = undefined;
          });
        }
        await running;
        if (!running && !timer && queue.length > 0) kick();
      }
    },
  };
}
