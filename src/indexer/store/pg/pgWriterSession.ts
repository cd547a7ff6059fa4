import pg from "pg";
import { IndexerWriterBusyError, IndexerWriterLostError } from "../../errors.js";
import { LOCK_INDEXER_WRITER } from "./pgIndexerSchema.js";

export interface PgWriterSession {
  /** The session holding the lock: every write goes through it, so none can outlive the lock. */
  readonly client: pg.Client;
  /** The connection failed or ended: the server has dropped the lock with the session (or will). */
  readonly lost: boolean;
  /** Runs `work` in one transaction on the session (one at a time); rolls back and rethrows on error. */
  transaction<T>(work: (client: pg.Client) => Promise<T>, onRollback?: () => void): Promise<T>;
  release(): Promise<void>;
}

/**
 * Takes the indexer's writer lock: a session-level PostgreSQL advisory lock on a dedicated
 * connection, held for the session's life (the server drops it the moment the session ends, so
 * a killed writer frees it at once). All writes run on that session, so when it is lost
 * (database restart, network) writing on it stops with {@link IndexerWriterLostError} instead
 * of racing a writer that took over; the store then takes the lock again on a new session
 * (reacquiringWriterSession.ts). A second writer is refused with {@link IndexerWriterBusyError}.
 * READ COMMITTED transactions suffice: this session is the only one that writes.
 *
 * @example
 * const session = await acquirePgWriterSession({ url, options: "-c search_path=twei_indexer" })
 */
export async function acquirePgWriterSession(config: {
  url: string;
  options: string;
  /** Called once when the session is lost (not when it is released), with the driver's reason. */
  onLost?: (reason: string) => void;
}): Promise<PgWriterSession> {
  const client = new pg.Client({ connectionString: config.url, options: config.options, keepAlive: true });
  let lost: unknown;
  let held = false;
  let releasing = false;
  const lose = (cause: unknown) => {
    if (lost !== undefined || releasing) return;
    lost = cause;
    // A session that never held the lock (refused, or failed to connect) has nothing to lose.
    if (held) config.onLost?.(describeLoss(cause));
  };
  client.on("error", lose);
  client.on("end", () => lose(new Error("the connection ended")));
  let got: boolean | undefined;
  try {
    await client.connect();
    got = (await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [LOCK_INDEXER_WRITER])).rows[0]
      ?.ok;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  if (!got) {
    await client.end().catch(() => undefined);
    throw new IndexerWriterBusyError(
      "another indexer process is syncing this database (it holds the PostgreSQL writer lock): run one writer, and start the others with INDEXER_SYNC=false",
    );
  }
  held = true;
  let queue: Promise<unknown> = Promise.resolve();
  const lostError = () =>
    new IndexerWriterLostError(
      `the indexer's locked database session ended (${describeLoss(lost)}): it takes the writer lock again before writing`,
      { cause: lost },
    );
  return {
    client,
    get lost() {
      return lost !== undefined;
    },
    transaction<T>(work: (client: pg.Client) => Promise<T>, onRollback?: () => void): Promise<T> {
      const run = async () => {
        if (lost !== undefined) throw lostError();
        try {
          await client.query("BEGIN");
          const result = await work(client);
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch(() => undefined);
          onRollback?.();
          throw lost !== undefined ? lostError() : error;
        }
      };
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
    async release() {
      await queue;
      releasing = true;
      if (lost === undefined) await client.query("SELECT pg_advisory_unlock_all()").catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** A lost connection's reason for a log line: the driver's code or message (never the URL). */
function describeLoss(cause: unknown): string {
  if (cause instanceof Error) return (cause as Error & { code?: string }).code ?? cause.message;
  return String(cause);
}
