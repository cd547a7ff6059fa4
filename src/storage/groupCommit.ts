import type { DatabaseSync } from "node:sqlite";

export interface GroupCommitHooks<T> {
  /** A job's writes are in (its savepoint released), before the group's COMMIT. */
  onWritten?(result: T): void;
  /** The group is committed: called for each job's result before its promise resolves. */
  onCommitted?(result: T): void;
  /** The group's COMMIT (or BEGIN) failed: every job of the group is rejected. */
  onAborted?(): void;
  /** After every group, committed or not. */
  onGroupEnd?(): void;
}

export interface GroupCommitter<T> {
  /** Queues `work` for the next group; resolves with its result once the group is committed. */
  submit(work: () => T): Promise<T>;
  /** Writes the queued work now (before the database closes). */
  flush(): void;
}

/**
 * Group commit over a synchronous SQLite connection: the jobs submitted within `delayMs` of the
 * first are written in one transaction (one WAL fsync), each in its own savepoint so that a
 * job that throws is rolled back and rejected alone. A job's promise settles only after COMMIT.
 *
 * @example
 * const committer = createGroupCommitter<Fates>(db, { delayMs: 3 });
 * const fates = await committer.submit(() => writeEnvelope(input));
 */
export function createGroupCommitter<T>(
  db: DatabaseSync,
  options: { delayMs: number } & GroupCommitHooks<T>,
): GroupCommitter<T> {
  interface Job {
    work(): T;
    resolve(result: T): void;
    reject(error: unknown): void;
  }
  const queue: Job[] = [];
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    const jobs = queue.splice(0);
    if (jobs.length === 0) return;
    const written: { job: Job; result: T }[] = [];
    const failed: { job: Job; error: unknown }[] = [];
    try {
      db.exec("BEGIN IMMEDIATE");
      for (const job of jobs) {
        db.exec("SAVEPOINT job");
        try {
          const result = job.work();
          db.exec("RELEASE job");
          options.onWritten?.(result);
          written.push({ job, result });
        } catch (error) {
          db.exec("ROLLBACK TO job");
          db.exec("RELEASE job");
          failed.push({ job, error });
        }
      }
      db.exec("COMMIT");
    } catch (error) {
      try {
        db.exec("ROLLBACK");
      } catch {
        // no transaction left to roll back
      }
      options.onGroupEnd?.();
      options.onAborted?.();
      for (const job of jobs) job.reject(error);
      return;
    }
    options.onGroupEnd?.();
    for (const { job, result } of written) {
      options.onCommitted?.(result);
      job.resolve(result);
    }
    for (const { job, error } of failed) job.reject(error);
  };

  return {
    submit(work) {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          // A few milliseconds gather the jobs that become ready meanwhile into the same group.
          setTimeout(flush, options.delayMs);
        }
      });
    },
    flush,
  };
}
