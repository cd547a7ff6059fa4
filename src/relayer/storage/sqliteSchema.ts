/**
 * The relayer's SQLite schema. Amounts are TEXT (decimal wei; they overflow SQLite's
 * 64-bit integers); addresses are lowercase hex. `meta.schema_version` says which version a
 * database has; sqliteDatabase.ts brings older ones up to this one (MIGRATIONS).
 */
export const SCHEMA_VERSION = 8;

/** Sites waiting for room under a cap of the ledger's (schema 7); see CapWait. */
const CAP_WAITS = `
CREATE TABLE IF NOT EXISTS cap_waits (
  site_id INTEGER PRIMARY KEY,
  cap TEXT NOT NULL,
  reason TEXT NOT NULL,
  since INTEGER NOT NULL,
  -- When room returns, unix seconds of the chain (decimal; NULL: not under the caps known).
  room_at TEXT,
  -- The last event seq told of this wait by webhook.
  notified_seq INTEGER NOT NULL DEFAULT 0
);
`;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The policy documents the relayer has applied (canonical JSON by its keccak256; schema 8).
CREATE TABLE IF NOT EXISTS policies (hash TEXT PRIMARY KEY, document TEXT NOT NULL, saved_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sites (
  site_id INTEGER PRIMARY KEY,
  api_key_hash TEXT NOT NULL UNIQUE,
  webhook_url TEXT,
  webhook_secret TEXT,
  signer TEXT,
  active INTEGER NOT NULL DEFAULT 0,
  checked_at INTEGER NOT NULL DEFAULT 0,
  -- The block the signer and activation were read at (decimal).
  checked_block TEXT
);
CREATE TABLE IF NOT EXISTS envelopes (
  site_id INTEGER NOT NULL,
  nonce TEXT NOT NULL,
  events_hash TEXT NOT NULL,
  digest TEXT NOT NULL,
  signature TEXT NOT NULL,
  event_hashes BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  -- The block whose registry state (signer, active) it was accepted under (decimal).
  accepted_block TEXT,
  PRIMARY KEY (site_id, nonce)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  -- The rowid: increasing in acceptance order (events are never deleted).
  seq INTEGER PRIMARY KEY,
  site_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  event_hash TEXT NOT NULL,
  event_json TEXT NOT NULL,
  envelope_nonce TEXT NOT NULL,
  envelope_index INTEGER NOT NULL,
  envelope_digest TEXT NOT NULL,
  actions_json TEXT NOT NULL,
  registers_json TEXT,
  reserve_json TEXT NOT NULL,
  -- What accepting it changed in the rules' state ({ markers, counters, post, comment }), to undo on failure.
  effects_json TEXT,
  -- pending, held, batched, included, settled, failed (see EventStatus).
  status TEXT NOT NULL DEFAULT 'pending',
  batch_id INTEGER,
  leaf_index INTEGER,
  received_at INTEGER NOT NULL,
  -- The rule-set version reserve_json was priced under (NULL: accepted before schema 4).
  rule_set_version INTEGER,
  failure_code TEXT,
  failure_message TEXT,
  -- The personhood attestation (EAS UID) its mints relied on (policy personhood; schema 6).
  attestation TEXT,
  UNIQUE (site_id, event_id)
);
CREATE INDEX IF NOT EXISTS events_pending ON events (site_id, seq) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS events_held ON events (site_id, seq) WHERE status = 'held';
CREATE INDEX IF NOT EXISTS events_batch ON events (batch_id, leaf_index) WHERE batch_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS posts (
  site_id INTEGER NOT NULL, post_id TEXT NOT NULL, author TEXT NOT NULL, word_count INTEGER NOT NULL,
  -- The ledger's post id (src/core/postId.ts, hex): one per post across every site.
  chain_post_id TEXT,
  PRIMARY KEY (site_id, post_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS posts_chain_post_id ON posts (chain_post_id);
CREATE TABLE IF NOT EXISTS comments (
  site_id INTEGER NOT NULL, comment_id TEXT NOT NULL, author TEXT NOT NULL, post_id TEXT NOT NULL,
  PRIMARY KEY (site_id, comment_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS markers (site_id INTEGER NOT NULL, marker TEXT NOT NULL, PRIMARY KEY (site_id, marker)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
  site_id INTEGER NOT NULL, counter TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (site_id, counter)
) WITHOUT ROWID;
-- Running sums of wei (decimal): what an account earned on a UTC day (rules version 3).
CREATE TABLE IF NOT EXISTS tallies (
  site_id INTEGER NOT NULL, tally TEXT NOT NULL, amount TEXT NOT NULL, PRIMARY KEY (site_id, tally)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (
  account TEXT PRIMARY KEY,
  earned TEXT NOT NULL DEFAULT '0'
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
  batch_id INTEGER PRIMARY KEY,
  site_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  evidence_root TEXT NOT NULL,
  -- The evidence tree's leaf encoding (src/evidence/evidenceTree.ts): 1 before leaves committed to their positions.
  evidence_version INTEGER NOT NULL DEFAULT 1,
  actions TEXT NOT NULL,
  -- The rule-set version settle names (NULL: cut before schema 4; the one in force is named).
  rule_set_version INTEGER,
  event_count INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  -- The inclusion: set when mined, cleared when a reorg removes it.
  tx_hash TEXT,
  block_number TEXT,
  block_hash TEXT,
  gas_used TEXT,
  included_at INTEGER,
  settled_at INTEGER,
  note TEXT
);
CREATE INDEX IF NOT EXISTS batches_open ON batches (batch_id) WHERE status IN ('recorded', 'included');
CREATE TABLE IF NOT EXISTS batch_attempts (
  batch_id INTEGER NOT NULL,
  nonce INTEGER NOT NULL,
  max_fee TEXT NOT NULL,
  priority_fee TEXT NOT NULL,
  tx_hash TEXT,
  sent_at INTEGER NOT NULL,
  UNIQUE (batch_id, nonce, max_fee)
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'due',
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS webhook_due ON webhook_deliveries (next_at) WHERE status = 'due';
${CAP_WAITS}`;

/**
 * Steps from each older schema version to the next: the SQL, then (optionally) a fill of the
 * new columns that SQL cannot compute.
 */
export const MIGRATIONS: readonly { readonly to: number; readonly sql: string }[] = [
  {
    to: 2,
    sql: `
ALTER TABLE sites ADD COLUMN checked_block TEXT;
ALTER TABLE envelopes ADD COLUMN accepted_block TEXT;
ALTER TABLE events ADD COLUMN effects_json TEXT;
ALTER TABLE events ADD COLUMN failure_code TEXT;
ALTER TABLE events ADD COLUMN failure_message TEXT;
ALTER TABLE posts ADD COLUMN chain_post_id TEXT;
ALTER TABLE batches ADD COLUMN block_hash TEXT;
ALTER TABLE batches ADD COLUMN included_at INTEGER;
`,
  },
  {
    // Batches cut before version 3 keep evidence version 1 (their roots were built so).
    to: 3,
    sql: `
ALTER TABLE batches ADD COLUMN evidence_version INTEGER NOT NULL DEFAULT 1;
`,
  },
  {
    // Events and batches from before version 4 have no rule-set version: priced when cut, as before.
    to: 4,
    sql: `
ALTER TABLE events ADD COLUMN rule_set_version INTEGER;
ALTER TABLE batches ADD COLUMN rule_set_version INTEGER;
`,
  },
  {
    // The rules' running sums of wei (rules version 3's daily earning limits): none before.
    to: 5,
    sql: `
CREATE TABLE IF NOT EXISTS tallies (
  site_id INTEGER NOT NULL, tally TEXT NOT NULL, amount TEXT NOT NULL, PRIMARY KEY (site_id, tally)
) WITHOUT ROWID;
`,
  },
  {
    // The personhood attestation (EAS UID) an event's mints relied on (policy personhood): none before.
    to: 6,
    sql: `
ALTER TABLE events ADD COLUMN attestation TEXT;
`,
  },
  {
    // Sites waiting for room under a cap (kept in memory before, and lost at a restart): none before.
    to: 7,
    sql: CAP_WAITS,
  },
  {
    // The policy documents the relayer has applied, served at GET /v1/policies/:hash: none before.
    to: 8,
    sql: `
CREATE TABLE IF NOT EXISTS policies (hash TEXT PRIMARY KEY, document TEXT NOT NULL, saved_at INTEGER NOT NULL);
`,
  },
];
