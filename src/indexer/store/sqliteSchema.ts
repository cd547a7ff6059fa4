/**
 * The SQLite schema. Ids that are uint64 on-chain (post, batch) and wei amounts are TEXT
 * decimals (SQLite integers are signed 64-bit and REAL would round); addresses are lower-case
 * hex. Rows that come from logs carry their checkpoint (block_number, tx_index, log_index) so a
 * rollback deletes by block number.
 */
export const SCHEMA_VERSION = 2;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rule_sets (
  version INTEGER PRIMARY KEY, amounts TEXT NOT NULL,
  block_number INTEGER NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS rule_sets_block ON rule_sets (block_number, tx_index, log_index);
CREATE TABLE IF NOT EXISTS batches (
  batch_id TEXT PRIMARY KEY, site_id INTEGER NOT NULL, evidence_root TEXT NOT NULL,
  rule_set_version INTEGER NOT NULL, minted TEXT NOT NULL, burned TEXT NOT NULL,
  actions BLOB NOT NULL, action_count INTEGER NOT NULL,
  block_number INTEGER NOT NULL, block_hash TEXT NOT NULL, tx_index INTEGER NOT NULL,
  log_index INTEGER NOT NULL, tx_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS batches_block ON batches (block_number, tx_index, log_index);
CREATE TABLE IF NOT EXISTS shortfalls (
  batch_id TEXT NOT NULL, action_index INTEGER NOT NULL, account TEXT NOT NULL, kind INTEGER NOT NULL,
  post_id TEXT NOT NULL, amount TEXT NOT NULL, block_number INTEGER NOT NULL,
  PRIMARY KEY (batch_id, action_index)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS shortfalls_block ON shortfalls (block_number);
CREATE TABLE IF NOT EXISTS posts (
  post_id TEXT PRIMARY KEY, site_id INTEGER NOT NULL, author TEXT NOT NULL,
  batch_id TEXT NOT NULL, block_number INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS posts_block ON posts (block_number);
CREATE TABLE IF NOT EXISTS transfers (
  block_number INTEGER NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL,
  from_addr TEXT NOT NULL, to_addr TEXT NOT NULL, value TEXT NOT NULL, tx_hash TEXT NOT NULL,
  PRIMARY KEY (block_number, log_index)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS post_accounts (
  account_id INTEGER NOT NULL, post_key INTEGER NOT NULL, lines TEXT NOT NULL,
  PRIMARY KEY (account_id, post_key)) WITHOUT ROWID;
-- No index by post: a post's totals and participant count live in post_totals, kept up to date.
CREATE TABLE IF NOT EXISTS post_totals (
  post_key INTEGER PRIMARY KEY, lines TEXT NOT NULL, participants INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS account_totals (account_id INTEGER PRIMARY KEY, lines TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS balances (account_id INTEGER PRIMARY KEY, balance TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS report_instances (
  id TEXT PRIMARY KEY, post_id TEXT NOT NULL, buyer TEXT NOT NULL, batch_id TEXT NOT NULL,
  action_index INTEGER NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
  content TEXT NOT NULL, content_hash TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS report_instances_post ON report_instances (post_id, block_number);
CREATE INDEX IF NOT EXISTS report_instances_buyer ON report_instances (buyer, block_number);
CREATE INDEX IF NOT EXISTS report_instances_block ON report_instances (block_number);
`;

/** A uint64 post id as SQLite's signed 64-bit integer (two's complement), and back. */
export const postKey = (postId: bigint): bigint => BigInt.asIntN(64, postId);
export const postIdOfKey = (key: bigint | number): bigint => BigInt.asUintN(64, BigInt(key));
