import type { DatabaseSync } from "node:sqlite";

/**
 * Runs `work` in one write transaction (`BEGIN IMMEDIATE`): committed when it returns, rolled
 * back when it throws (after `onRollback`, for caches that must forget what it wrote).
 *
 * @example
 * const id = sqliteTransaction(db, () => insert.run(…).lastInsertRowid)
 */
export function sqliteTransaction<T>(db: DatabaseSync, work: () => T, onRollback?: () => void): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    db.exec("ROLLBACK");
    onRollback?.();
    throw error;
  }
}
