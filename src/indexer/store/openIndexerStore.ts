import type { IndexerStore } from "./IndexerStore.js";
import { createSqliteStore } from "./createSqliteStore.js";
import { openPgIndexerStore } from "./pg/openPgIndexerStore.js";
import type { WriterLockEvent } from "./pg/reacquiringWriterSession.js";

/**
 * The store the configuration asks for: PostgreSQL when `databaseUrl` is set (a writer takes
 * the writer lock, and a second one is refused with IndexerWriterBusyError), SQLite at `dbPath`
 * otherwise (a reader opens the file read-only).
 *
 * @example
 * const store = await openIndexerStore({ dbPath: config.dbPath, databaseUrl: config.databaseUrl, writer: config.sync })
 */
export async function openIndexerStore(parameters: {
  dbPath: string;
  databaseUrl?: string | undefined;
  writer: boolean;
  /** PostgreSQL: the writer lock lost, taken again, or refused, for the log. */
  onWriterLock?: (event: WriterLockEvent) => void;
}): Promise<IndexerStore> {
  if (parameters.databaseUrl !== undefined)
    return openPgIndexerStore({
      url: parameters.databaseUrl,
      writer: parameters.writer,
      ...(parameters.onWriterLock === undefined ? {} : { onWriterLock: parameters.onWriterLock }),
    });
  return createSqliteStore({ path: parameters.dbPath, readOnly: !parameters.writer });
}

/** Where the store is, for people (logs): a PostgreSQL URL's host and database, never its password. */
export function describeIndexerStore(parameters: { dbPath: string; databaseUrl?: string | undefined }): string {
  if (parameters.databaseUrl === undefined) return parameters.dbPath;
  try {
    const url = new URL(parameters.databaseUrl);
    return `postgres://${url.host}${url.pathname}`;
  } catch {
    return "postgres://…";
  }
}
