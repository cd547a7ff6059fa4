import type pg from "pg";
import { IndexerWriterBusyError, IndexerWriterLostError } from "../../errors.js";
import { acquirePgWriterSession, type PgWriterSession } from "./pgWriterSession.js";

/** What happened to the writer lock, for the process's log. */
export type WriterLockEvent =
  { type: "lost"; reason: string } | { type: "reacquired"; lostForMs: number } | { type: "refused"; reason: string };

export interface ReacquiringWriterSession {
  /** The current locked session's connection (migrations at start use it). */
  readonly client: pg.Client;
  /** Runs `work` in one transaction on a session that holds the writer lock (see below). */
  transaction<T>(work: (client: pg.Client) => Promise<T>, onRollback?: () => void): Promise<T>;
  release(): Promise<void>;
}

/**
 * The writer's locked session, taken again after a loss. A write on a lost session (database
 * restart, terminated backend) first ends it, then opens a new one and takes the writer lock
 * again (one attempt per write: the caller's sync loop spaces them with backoff); only then
 * does it write, so no write ever runs without the lock (fencing: while another writer holds
 * it, this one is refused with {@link IndexerWriterBusyError} and writes nothing). Whatever
 * the process cached about the rows (`onReacquired`) is dropped: another writer may have
 * changed them meanwhile; the sync resumes from the checkpoint stored in the database.
 *
 * @example
 * const writer = await acquireReacquiringWriterSession({ url, options, onReacquired: cache.forget })
 */
export async function acquireReacquiringWriterSession(config: {
  url: string;
  options: string;
  onReacquired?: () => void;
  onEvent?: (event: WriterLockEvent) => void;
}): Promise<ReacquiringWriterSession> {
  let lostAt: number | null = null;
  let released = false;
  let queue: Promise<unknown> = Promise.resolve();
  const onLost = (reason: string) => {
    lostAt ??= Date.now();
    config.onEvent?.({ type: "lost", reason });
  };
  const acquire = () => acquirePgWriterSession({ url: config.url, options: config.options, onLost });
  // At start a second writer is refused here (IndexerWriterBusyError), before anything is served.
  let session: PgWriterSession | null = await acquire();

  const current = async (): Promise<PgWriterSession> => {
    if (session !== null && !session.lost) return session;
    if (session !== null) {
      // Its transaction queue is empty (writes are serialised below): ending it cannot cut one.
      await session.release();
      session = null;
    }
    try {
      session = await acquire();
    } catch (error) {
      const reason =
        error instanceof IndexerWriterBusyError
          ? "another indexer process holds the writer lock"
          : error instanceof Error
            ? ((error as Error & { code?: string }).code ?? error.message)
            : String(error);
      config.onEvent?.({ type: "refused", reason });
      if (error instanceof IndexerWriterBusyError) throw error;
      throw new IndexerWriterLostError(`the writer lock could not be taken again yet (${reason})`, { cause: error });
    }
    config.onReacquired?.();
    config.onEvent?.({ type: "reacquired", lostForMs: Date.now() - (lostAt ?? Date.now()) });
    lostAt = null;
    return session;
  };

  return {
    get client() {
      if (session === null) throw new IndexerWriterLostError("the writer lock is not held");
      return session.client;
    },
    transaction(work, onRollback) {
      const run = async () => {
        if (released) throw new IndexerWriterLostError("the indexer store is closed");
        return (await current()).transaction(work, onRollback);
      };
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
    async release() {
      released = true;
      await queue;
      await session?.release();
      session = null;
    },
  };
}
