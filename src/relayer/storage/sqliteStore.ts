import { createAccountTotalsCache } from "./accountTotalsCache.js";
import type { RelayerStore } from "./relayerStore.js";
import { createSqliteAcceptance } from "./sqliteAcceptance.js";
import { createSqliteBatches } from "./sqliteBatches.js";
import { createSqliteCapWaits } from "./sqliteCapWaits.js";
import { createSqliteDatabase } from "./sqliteDatabase.js";
import { createSqliteEventOutcomes } from "./sqliteEventOutcomes.js";
import { createSqliteQueries } from "./sqliteQueries.js";
import { createSqliteSites } from "./sqliteSites.js";
import { createSqliteWebhooks } from "./sqliteWebhooks.js";
import { holdProcessLock } from "../../storage/sqliteProcessLock.js";

/**
 * Opens (creating if need be) the relayer's SQLite database: WAL with full synchronous
 * commits, so an event acknowledged by the API survives a crash or power loss.
 *
 * @example
 * const store = createSqliteStore({ path: "data/relayer/relayer.sqlite", exclusive: true })
 *
 * `exclusive` (the relayer service): pending totals live in this process's memory, so the
 * store refuses to open while another process (or store) holds the database exclusively, and
 * holds it until closed. Tools that only add sites open it without.
 */
export function createSqliteStore(options: { path: string; exclusive?: boolean }): RelayerStore {
  const lock = options.exclusive ? holdProcessLock(options.path, "the relayer database") : undefined;
  let database;
  try {
    database = createSqliteDatabase(options);
  } catch (error) {
    lock?.release();
    throw error;
  }
  const { db, q } = database;
  const accounts = createAccountTotalsCache(database);
  const acceptance = createSqliteAcceptance(database, accounts);
  const store: RelayerStore = {
    ...createSqliteSites(database),
    acceptEnvelope: acceptance.acceptEnvelope,
    ...createSqliteQueries(database, accounts),
    ...createSqliteBatches(database, accounts),
    ...createSqliteEventOutcomes(database, accounts, acceptance.forgetPosts),
    ...createSqliteWebhooks(database),
    ...createSqliteCapWaits(database),

    async ping() {
      q("SELECT 1").get();
    },
    async close() {
      // Envelopes still waiting for their group are written (and answered) first.
      if (db.isOpen) acceptance.flush();
      if (db.isOpen) db.close();
      lock?.release();
    },
  };
  return store;
}
