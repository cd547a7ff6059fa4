/** A row as a driver returns it (PostgreSQL's BIGINT arrives as a string: callers convert). */
export type SqlRow = Record<string, unknown>;
export type SqlValue = string | number | bigint | null;

/** Statements with `?` placeholders, run on one engine. */
export interface SqlQueries {
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  get(sql: string, params?: readonly SqlValue[]): Promise<SqlRow | undefined>;
  /** Runs a write; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/**
 * The small async driver the site store's one statement set runs on (SQLite or PostgreSQL):
 * both engines take the same SQL (`ON CONFLICT`, `RETURNING`); `forUpdate` is what one engine
 * needs to lock a row it reads in a transaction (SQLite's transactions hold the write lock).
 */
export interface SqlDriver extends SqlQueries {
  readonly engine: "sqlite" | "postgres";
  /** Appended to a SELECT inside `tx` that is read then written (`FOR UPDATE` on PostgreSQL). */
  readonly forUpdate: string;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  tx<T>(work: (q: SqlQueries) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
