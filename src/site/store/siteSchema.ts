/**
 * The site kit's tables, the same SQL on SQLite and PostgreSQL (portable types: TEXT, BIGINT,
 * INTEGER). Times are milliseconds since the epoch; addresses checksummed hex text.
 * Each step is applied once, in order (recorded in `schema_migrations`).
 */
export const SITE_MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE site_nonces (
  nonce TEXT PRIMARY KEY,
  address TEXT NOT NULL,
  message TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX site_nonces_expiry ON site_nonces (expires_at);
CREATE TABLE site_sessions (
  id_hash TEXT PRIMARY KEY,
  address TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX site_sessions_address ON site_sessions (address, created_at);
CREATE INDEX site_sessions_expiry ON site_sessions (expires_at);
CREATE TABLE site_meters (
  reader TEXT NOT NULL,
  slug TEXT NOT NULL,
  last_beat_at BIGINT NOT NULL,
  last_active_at BIGINT NOT NULL,
  credited_ms BIGINT NOT NULL,
  to_read_ms BIGINT NOT NULL,
  PRIMARY KEY (reader, slug)
);
CREATE INDEX site_meters_idle ON site_meters (last_beat_at);
CREATE TABLE site_events (
  event_id TEXT PRIMARY KEY,
  user_address TEXT NOT NULL,
  kind TEXT NOT NULL,
  slug TEXT NOT NULL,
  detail TEXT,
  state TEXT NOT NULL,
  claimed_at BIGINT NOT NULL,
  sent_at BIGINT,
  code TEXT,
  message TEXT
);
CREATE INDEX site_events_user ON site_events (user_address, kind, slug, sent_at);
CREATE TABLE site_comments (
  comment_id TEXT PRIMARY KEY,
  slug TEXT NOT NULL,
  author TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  status TEXT NOT NULL,
  likes INTEGER NOT NULL DEFAULT 0,
  dislikes INTEGER NOT NULL DEFAULT 0,
  event_id TEXT
);
CREATE INDEX site_comments_slug ON site_comments (slug, created_at);
CREATE INDEX site_comments_held ON site_comments (status, created_at);
CREATE TABLE site_reactions (
  comment_id TEXT NOT NULL,
  user_address TEXT NOT NULL,
  reaction TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (comment_id, user_address)
);
`,
  },
  {
    // Issue 22: one clock per reader (time credited to one post at most), meters kept open
    // across visits and closed once their read is answered, the IP of each beat, and the
    // per-IP limits a scripted client meets first.
    version: 2,
    sql: `
CREATE TABLE site_readers (
  reader TEXT PRIMARY KEY,
  credited_until BIGINT NOT NULL,
  slug TEXT NOT NULL,
  ip TEXT NOT NULL,
  last_beat_at BIGINT NOT NULL
);
CREATE INDEX site_readers_ip ON site_readers (ip, last_beat_at);
ALTER TABLE site_meters ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE site_meters ADD COLUMN closed_at BIGINT;
CREATE INDEX site_meters_open ON site_meters (closed_at, last_beat_at);
CREATE TABLE site_ips (
  ip TEXT PRIMARY KEY,
  touched_at BIGINT NOT NULL
);
CREATE TABLE site_ip_counts (
  ip TEXT NOT NULL,
  kind TEXT NOT NULL,
  window_start BIGINT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (ip, kind, window_start)
);
CREATE INDEX site_ip_counts_window ON site_ip_counts (window_start);
CREATE TABLE site_accounts (
  address TEXT PRIMARY KEY,
  first_ip TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
`,
  },
  {
    // Issue 22, part 3: the personhood attestations the site made for its readers (one each;
    // claimed before the transaction is sent, so of several site processes one attests).
    version: 3,
    sql: `
CREATE TABLE site_attestations (
  address TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  claimed_at BIGINT NOT NULL,
  uid TEXT,
  attested_at BIGINT
);
`,
  },
  {
    // Issue 22, part 5: the newcomer hold. The UTC days on which a reader's meter credited time
    // (written only until the hold lifts, so a few rows per reader; purged with idle meters), and a meter's next look by the
    // sweep when its read is held (so held reads do not crowd the sweep's oldest candidates).
    version: 4,
    sql: `
CREATE TABLE site_reading_days (
  reader TEXT NOT NULL,
  day INTEGER NOT NULL,
  first_at BIGINT NOT NULL,
  PRIMARY KEY (reader, day)
);
CREATE INDEX site_reading_days_age ON site_reading_days (first_at);
ALTER TABLE site_meters ADD COLUMN held_until BIGINT;
`,
  },
];

/** The newest schema version this code knows. */
export const SITE_SCHEMA_VERSION = Math.max(...SITE_MIGRATIONS.map((m) => m.version));

/** The database holds a newer schema than this site kit knows: run a newer one. */
export class SiteSchemaTooNewError extends Error {
  override name = "SiteSchemaTooNewError";
}
