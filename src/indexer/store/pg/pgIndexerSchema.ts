import type { PgMigration } from "../../../storage/pgMigrations.js";

/**
 * The indexer's tables live in their own PostgreSQL schema, so one database can hold them
 * beside the relayer's (whose tables share some names) or alone.
 */
export const PG_INDEXER_SCHEMA = "twei_indexer";

/**
 * The indexer's PostgreSQL schema as numbered migrations (applied at start, see
 * openPgIndexerPool.ts). Wei amounts are NUMERIC(78) (uint256) and uint64 ids NUMERIC(20):
 * exact, never floating point. Post keys are the ids as signed 64-bit integers, as in SQLite
 * (sqliteSchema.ts `postKey`), so both stores order an account's posts alike. Rows that come
 * from logs carry their checkpoint (block_number, tx_index, log_index), indexed, so a rollback
 * is one DELETE per table.
 */
export const PG_INDEXER_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blocks (number BIGINT PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE rule_sets (
  version INTEGER PRIMARY KEY, amounts TEXT NOT NULL,
  block_number BIGINT NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL);
CREATE INDEX rule_sets_block ON rule_sets (block_number, tx_index, log_index);
CREATE TABLE batches (
  batch_id NUMERIC(20) PRIMARY KEY, site_id BIGINT NOT NULL, evidence_root TEXT NOT NULL,
  rule_set_version INTEGER NOT NULL, minted NUMERIC(78) NOT NULL, burned NUMERIC(78) NOT NULL,
  actions BYTEA NOT NULL, action_count INTEGER NOT NULL,
  block_number BIGINT NOT NULL, block_hash TEXT NOT NULL, tx_index INTEGER NOT NULL,
  log_index INTEGER NOT NULL, tx_hash TEXT NOT NULL);
CREATE INDEX batches_block ON batches (block_number, tx_index, log_index);
CREATE TABLE shortfalls (
  batch_id NUMERIC(20) NOT NULL, action_index INTEGER NOT NULL, account TEXT NOT NULL, kind SMALLINT NOT NULL,
  post_id NUMERIC(20) NOT NULL, amount NUMERIC(78) NOT NULL, block_number BIGINT NOT NULL,
  PRIMARY KEY (batch_id, action_index));
CREATE INDEX shortfalls_block ON shortfalls (block_number);
CREATE TABLE posts (
  post_id NUMERIC(20) PRIMARY KEY, site_id BIGINT NOT NULL, author TEXT NOT NULL,
  batch_id NUMERIC(20) NOT NULL, block_number BIGINT NOT NULL);
CREATE INDEX posts_block ON posts (block_number);
CREATE TABLE transfers (
  block_number BIGINT NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL,
  from_addr TEXT NOT NULL, to_addr TEXT NOT NULL, value NUMERIC(78) NOT NULL, tx_hash TEXT NOT NULL,
  PRIMARY KEY (block_number, log_index));
CREATE TABLE accounts (id BIGSERIAL PRIMARY KEY, address TEXT NOT NULL UNIQUE);
CREATE TABLE post_accounts (
  account_id BIGINT NOT NULL, post_key BIGINT NOT NULL, lines TEXT NOT NULL,
  PRIMARY KEY (account_id, post_key));
-- No index by post: a post's totals and participant count live in post_totals, kept up to date.
CREATE TABLE post_totals (post_key BIGINT PRIMARY KEY, lines TEXT NOT NULL, participants INTEGER NOT NULL);
CREATE TABLE account_totals (account_id BIGINT PRIMARY KEY, lines TEXT NOT NULL);
CREATE TABLE balances (account_id BIGINT PRIMARY KEY, balance NUMERIC(78) NOT NULL);
CREATE TABLE report_instances (
  id TEXT PRIMARY KEY, post_id NUMERIC(20) NOT NULL, buyer TEXT NOT NULL, batch_id NUMERIC(20) NOT NULL,
  action_index INTEGER NOT NULL, block_number BIGINT NOT NULL, block_hash TEXT NOT NULL,
  content TEXT NOT NULL, content_hash TEXT NOT NULL);
CREATE INDEX report_instances_post ON report_instances (post_id, block_number);
CREATE INDEX report_instances_buyer ON report_instances (buyer, block_number);
CREATE INDEX report_instances_block ON report_instances (block_number);
`,
  },
];

/** Advisory lock keys (the database's one bigint space, apart from the relayer's 0x74776569_0000 range). */
export const LOCK_INDEXER_MIGRATE = 0x7477_6569_1001n;
/** Held for its whole life by the one process that syncs (writes) the index. */
export const LOCK_INDEXER_WRITER = 0x7477_6569_1002n;
