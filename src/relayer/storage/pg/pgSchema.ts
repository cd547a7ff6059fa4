/**
 * The relayer's PostgreSQL schema, as numbered migrations applied in order at start (each in
 * its own transaction, recorded in `schema_migrations`). Amounts are NUMERIC(78) (uint256);
 * addresses lowercase hex text. Reservations (what each unsettled event mints and burns, per
 * account) are rows, so every instance's spend checks read the same figure.
 */
export const PG_MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sites (
  site_id INTEGER PRIMARY KEY,
  api_key_hash TEXT NOT NULL UNIQUE,
  webhook_url TEXT,
  webhook_secret TEXT,
  signer TEXT,
  active INTEGER NOT NULL DEFAULT 0,
  checked_at BIGINT NOT NULL DEFAULT 0,
  checked_block TEXT
);
CREATE TABLE envelopes (
  site_id INTEGER NOT NULL,
  nonce TEXT NOT NULL,
  events_hash TEXT NOT NULL,
  digest TEXT NOT NULL,
  signature TEXT NOT NULL,
  event_hashes BYTEA NOT NULL,
  received_at BIGINT NOT NULL,
  accepted_block TEXT,
  PRIMARY KEY (site_id, nonce)
);
CREATE TABLE events (
  seq BIGSERIAL PRIMARY KEY,
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
  effects_json TEXT,
  status TEXT NOT NULL DEFAULT 'pending',
  batch_id BIGINT,
  leaf_index INTEGER,
  received_at BIGINT NOT NULL,
  failure_code TEXT,
  failure_message TEXT,
  UNIQUE (site_id, event_id)
);
CREATE INDEX events_pending ON events (site_id, seq) WHERE status = 'pending';
CREATE INDEX events_held ON events (site_id, seq) WHERE status = 'held';
CREATE INDEX events_batch ON events (batch_id, leaf_index) WHERE batch_id IS NOT NULL;
CREATE TABLE posts (
  site_id INTEGER NOT NULL, post_id TEXT NOT NULL, author TEXT NOT NULL, word_count INTEGER NOT NULL,
  chain_post_id TEXT NOT NULL UNIQUE,
  PRIMARY KEY (site_id, post_id)
);
CREATE TABLE comments (
  site_id INTEGER NOT NULL, comment_id TEXT NOT NULL, author TEXT NOT NULL, post_id TEXT NOT NULL,
  PRIMARY KEY (site_id, comment_id)
);
CREATE TABLE markers (site_id INTEGER NOT NULL, marker TEXT NOT NULL, PRIMARY KEY (site_id, marker));
CREATE TABLE counters (site_id INTEGER NOT NULL, counter TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (site_id, counter));
CREATE TABLE accounts (account TEXT PRIMARY KEY, earned NUMERIC(78) NOT NULL DEFAULT 0);
-- One row per accepted event and account it mints to or burns from. released_block: NULL while
-- the event is on its way; the block that included it once mined (the chain's balances hold it
-- from that block on), NULL again when a reorg removes it.
CREATE TABLE reservations (
  seq BIGINT NOT NULL REFERENCES events (seq),
  account TEXT NOT NULL,
  mints NUMERIC(78) NOT NULL,
  burns NUMERIC(78) NOT NULL,
  released_block BIGINT,
  PRIMARY KEY (seq, account)
);
CREATE INDEX reservations_account ON reservations (account, released_block);
CREATE INDEX reservations_released ON reservations (released_block) WHERE released_block IS NOT NULL;
CREATE TABLE batches (
  batch_id BIGINT PRIMARY KEY,
  site_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  evidence_root TEXT NOT NULL,
  -- The evidence format the batch was cut under (src/evidence).
  evidence_version INTEGER NOT NULL DEFAULT 1,
  actions TEXT NOT NULL,
  event_count INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  tx_hash TEXT,
  block_number BIGINT,
  block_hash TEXT,
  gas_used TEXT,
  included_at BIGINT,
  settled_at BIGINT,
  note TEXT,
  -- The submitter lease's epoch under which it was recorded (fencing).
  epoch BIGINT NOT NULL
);
CREATE INDEX batches_open ON batches (batch_id) WHERE status IN ('recorded', 'included');
CREATE INDEX batches_settled ON batches (block_number) WHERE status = 'settled';
CREATE TABLE batch_attempts (
  id BIGSERIAL PRIMARY KEY,
  batch_id BIGINT NOT NULL REFERENCES batches (batch_id),
  nonce INTEGER NOT NULL,
  max_fee TEXT NOT NULL,
  priority_fee TEXT NOT NULL,
  tx_hash TEXT,
  sent_at BIGINT NOT NULL,
  epoch BIGINT NOT NULL,
  UNIQUE (batch_id, nonce, max_fee)
);
CREATE TABLE webhook_deliveries (
  id BIGSERIAL PRIMARY KEY,
  site_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'due',
  last_error TEXT
);
CREATE INDEX webhook_due ON webhook_deliveries (next_at) WHERE status = 'due';
-- The submitter lease: whoever holds the advisory lock bumps the epoch; every settlement write
-- checks it (fencing), so a former leader's late write fails.
CREATE TABLE submitter_lease (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch BIGINT NOT NULL,
  holder TEXT,
  acquired_at BIGINT
);
INSERT INTO submitter_lease (id, epoch) VALUES (1, 0);
-- Takes transaction-scoped advisory locks in the order given (sorted by the caller), so two
-- transactions never wait for each other in a cycle.
CREATE FUNCTION twei_lock_all(keys BIGINT[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE k BIGINT;
BEGIN
  FOREACH k IN ARRAY keys LOOP PERFORM pg_advisory_xact_lock(k); END LOOP;
END $$;
`,
  },
  {
    // The rule-set version each event was priced under and each batch names (NULL: from before).
    version: 2,
    sql: `
ALTER TABLE events ADD COLUMN rule_set_version INTEGER;
ALTER TABLE batches ADD COLUMN rule_set_version INTEGER;
`,
  },
  {
    // The rules' running sums of wei: what an account earned on a UTC day (rules version 3).
    version: 3,
    sql: `
CREATE TABLE tallies (site_id INTEGER NOT NULL, tally TEXT NOT NULL, amount NUMERIC(78) NOT NULL, PRIMARY KEY (site_id, tally));
`,
  },
  {
    // The lease holder's last renewal, by the database's clock: a holder that misses its deadline
    // (hung, stopped, cut off) is taken over (pgLease.ts). NULL: a holder that does not renew.
    version: 4,
    sql: `
ALTER TABLE submitter_lease ADD COLUMN renewed_at TIMESTAMPTZ;
`,
  },
  {
    // The personhood attestation (EAS UID) an event's mints relied on (policy personhood).
    version: 5,
    sql: `
ALTER TABLE events ADD COLUMN attestation TEXT;
`,
  },
  {
    // Sites waiting for room under a cap of the ledger's (see CapWait), shared by every instance.
    version: 6,
    sql: `
CREATE TABLE cap_waits (
  site_id INTEGER PRIMARY KEY,
  cap TEXT NOT NULL,
  reason TEXT NOT NULL,
  since BIGINT NOT NULL,
  room_at TEXT,
  notified_seq BIGINT NOT NULL DEFAULT 0
);
`,
  },
  {
    // The policy documents the relayer has applied (canonical JSON by its keccak256), served at
    // GET /v1/policies/:hash after a change of policy and a restart.
    version: 7,
    sql: `
CREATE TABLE policies (hash TEXT PRIMARY KEY, document TEXT NOT NULL, saved_at BIGINT NOT NULL);
`,
  },
];

/** Advisory lock keys (one bigint space): migrations, the submitter lease, sites, accounts. */
export const LOCK_MIGRATE = 0x7477_6569_0001n;
export const LOCK_LEASE = 0x7477_6569_0002n;
export const siteLockKey = (siteId: number) => (1n << 40n) + BigInt(siteId);
/** An account's key: the address's top 60 bits, above every site's. */
export const accountLockKey = (account: string) => (1n << 61n) + BigInt(`0x${account.slice(2, 17)}`);
