import { mkdirSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";

/** Another process (or another store in this one) holds the database. */
export class DatabaseInUseError extends Error {
  override name = "DatabaseInUseError";
}

export interface ProcessLock {
  release(): void;
}

/**
 * Holds `<path>.lock` exclusively for as long as the process runs (an OS file lock taken by
 * SQLite, so the kernel releases it when the process dies, kill -9 included). A second holder,
 * in another process or this one, is refused with {@link DatabaseInUseError}.
 *
 * @example
 * const lock = holdProcessLock("data/relayer/relayer.sqlite"); … lock.release();
 */
export function holdProcessLock(path: string, what: string): ProcessLock {
  if (path === ":memory:") return { release() {} };
  const lockPath = `${path}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(lockPath);
  try {
    db.exec("PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;");
  } catch {
    db.close();
    throw new DatabaseInUseError(
      `${what} ${path} is in use by another process (it holds ${lockPath}): one process owns a SQLite database; stop the other one, or run several instances on PostgreSQL (DATABASE_URL)`,
    );
  }
  return {
    release() {
      if (!db.isOpen) return;
      db.exec("ROLLBACK");
      db.close();
    },
  };
}
