import { randomUUID } from "node:crypto";
import { createPgPool } from "../../../storage/createPgPool.js";
import { bytesToHex, type Address, type Hex } from "viem";
import type { RelayerStore, SiteRecord, StoredEnvelope, WebhookDelivery } from "../relayerStore.js";
import { eventOf } from "../sqliteQueries.js";
import type { Row } from "../sqliteRows.js";
import { createPgAcceptance } from "./pgAcceptance.js";
import { createPgBatches, fencedWrites } from "./pgBatches.js";
import { createPgCapWaits } from "./pgCapWaits.js";
import { migratePg } from "./pgDatabase.js";
import { createPgLease, DEFAULT_LEASE_DEADLINE_MS } from "./pgLease.js";

const siteOf = (row: Row | undefined): SiteRecord | undefined =>
  row && {
    siteId: Number(row.site_id),
    apiKeyHash: row.api_key_hash as Hex,
    webhookUrl: (row.webhook_url as string | null) ?? null,
    webhookSecret: (row.webhook_secret as string | null) ?? null,
    signer: (row.signer as Address | null) ?? null,
    active: Number(row.active) === 1,
    checkedAt: Number(row.checked_at),
    checkedBlock: typeof row.checked_block === "string" ? BigInt(row.checked_block) : null,
  };

/**
 * The relayer's store on PostgreSQL (`DATABASE_URL`), shared by any number of relayer
 * instances: migrations applied at open (pgDatabase.ts), acceptance under advisory locks with
 * group commit (pgAcceptance.ts), settlement writes fenced by the submitter lease (pgBatches.ts,
 * pgLease.ts). Commits are synchronous (`synchronous_commit` as the server has it, on by default).
 *
 * @example
 * const store = createPgStore({ url: "postgres://twei@db/twei", instance: "relayer-1" })
 */
export function createPgStore(options: {
  url: string;
  instance?: string;
  poolSize?: number;
  /** A lease holder that has not renewed for this long is taken over (pgLease.ts). */
  leaseDeadlineMs?: number;
}): RelayerStore {
  const deadlineMs = options.leaseDeadlineMs ?? DEFAULT_LEASE_DEADLINE_MS;
  const pool = createPgPool({
    connectionString: options.url,
    max: options.poolSize ?? 8,
    keepAlive: true,
    // A process stopped inside a transaction (SIGSTOP, a hung event loop) keeps its TCP session
    // and, without this, its row and advisory locks for ever: every other instance's acceptance
    // and a new leader's acquisition would wait on them. None of our transactions idles this long.
    idle_in_transaction_session_timeout: deadlineMs,
  });
  const ready = migratePg(pool);
  ready.catch(() => undefined);
  const lease = createPgLease({
    url: options.url,
    pool,
    holder: options.instance ?? `relayer-${randomUUID()}`,
    deadlineMs,
  });
  const acceptance = createPgAcceptance(pool);
  const batches = createPgBatches(pool, () => lease.epoch);
  const capWaits = createPgCapWaits(
    pool,
    fencedWrites(pool, () => lease.epoch),
    ready,
  );
  const query = async (sql: string, values: unknown[] = []): Promise<Row[]> => {
    await ready;
    return (await pool.query(sql, values)).rows as Row[];
  };
  const after =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await ready;
      return fn(...args);
    };
  const count = async (sql: string) => Number((await query(sql))[0]?.n ?? 0);

  return {
    // ---- sites
    async createSite(site) {
      await query("INSERT INTO sites (site_id, api_key_hash, webhook_url, webhook_secret) VALUES ($1, $2, $3, $4)", [
        site.siteId,
        site.apiKeyHash,
        site.webhookUrl,
        site.webhookSecret,
      ]);
    },
    async siteByApiKeyHash(apiKeyHash) {
      return siteOf((await query("SELECT * FROM sites WHERE api_key_hash = $1", [apiKeyHash]))[0]);
    },
    async site(siteId) {
      return siteOf((await query("SELECT * FROM sites WHERE site_id = $1", [siteId]))[0]);
    },
    async savePolicy(hash, document) {
      await query("INSERT INTO policies (hash, document, saved_at) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING", [
        hash.toLowerCase(),
        document,
        Date.now(),
      ]);
    },
    async policyDocument(hash) {
      const row = (await query("SELECT document FROM policies WHERE hash = $1", [hash.toLowerCase()]))[0];
      return row === undefined ? undefined : String(row.document);
    },
    async siteIds() {
      return (await query("SELECT site_id FROM sites ORDER BY site_id")).map((row) => Number(row.site_id));
    },
    async updateSiteChainState(siteId, { signer, active, checkedAt, checkedBlock }) {
      await query("UPDATE sites SET signer = $1, active = $2, checked_at = $3, checked_block = $4 WHERE site_id = $5", [
        signer.toLowerCase(),
        active ? 1 : 0,
        checkedAt,
        checkedBlock.toString(),
        siteId,
      ]);
    },
    async setWebhook(siteId, url, secret) {
      await query("UPDATE sites SET webhook_url = $1, webhook_secret = $2 WHERE site_id = $3", [url, secret, siteId]);
    },

    acceptEnvelope: after(acceptance.acceptEnvelope),

    // ---- queries
    async event(siteId, eventId) {
      const row = (await query("SELECT * FROM events WHERE site_id = $1 AND event_id = $2", [siteId, eventId]))[0];
      return row && eventOf(row);
    },
    async accountTotals(account) {
      const key = account.toLowerCase();
      const row = (
        await query(
          `SELECT (SELECT coalesce(sum(mints), 0)::text FROM reservations WHERE account = $1 AND released_block IS NULL) AS m,
                  (SELECT coalesce(sum(burns), 0)::text FROM reservations WHERE account = $1 AND released_block IS NULL) AS b,
                  (SELECT earned::text FROM accounts WHERE account = $1) AS e`,
          [key],
        )
      )[0];
      return {
        pendingMints: BigInt((row?.m as string) ?? "0"),
        pendingBurns: BigInt((row?.b as string) ?? "0"),
        earned: BigInt((row?.e as string | null) ?? "0"),
      };
    },
    pendingCount: () => count("SELECT count(*) AS n FROM events WHERE status = 'pending'"),
    async pendingSites() {
      return (
        await query(
          `SELECT site_id, count(*) AS n, min(received_at) AS oldest FROM events WHERE status = 'pending'
           GROUP BY site_id ORDER BY site_id`,
        )
      ).map((row) => ({ siteId: Number(row.site_id), count: Number(row.n), oldestReceivedAt: Number(row.oldest) }));
    },
    async pendingEvents(siteId, limit) {
      return (
        await query("SELECT * FROM events WHERE site_id = $1 AND status = 'pending' ORDER BY seq LIMIT $2", [
          siteId,
          limit,
        ])
      ).map(eventOf);
    },
    async heldSites() {
      return (await query("SELECT DISTINCT site_id FROM events WHERE status = 'held' ORDER BY site_id")).map((row) =>
        Number(row.site_id),
      );
    },
    heldCount: () => count("SELECT count(*) AS n FROM events WHERE status = 'held'"),
    async batchEvents(batchId) {
      return (await query("SELECT * FROM events WHERE batch_id = $1 ORDER BY leaf_index", [batchId.toString()])).map(
        eventOf,
      );
    },
    async envelopes(keys) {
      const out: StoredEnvelope[] = [];
      for (const { siteId, nonce } of keys) {
        const row = (
          await query("SELECT * FROM envelopes WHERE site_id = $1 AND nonce = $2", [siteId, nonce.toString()])
        )[0];
        if (!row) continue;
        const blob = row.event_hashes as Buffer;
        const eventHashes: Hex[] = [];
        for (let i = 0; i < blob.length; i += 32) eventHashes.push(bytesToHex(blob.subarray(i, i + 32)));
        out.push({
          siteId,
          nonce,
          eventsHash: row.events_hash as Hex,
          digest: row.digest as Hex,
          signature: row.signature as Hex,
          eventHashes,
          acceptedAtBlock: typeof row.accepted_block === "string" ? BigInt(row.accepted_block) : null,
          receivedAt: Number(row.received_at),
        });
      }
      return out;
    },

    // ---- settlement (the lease holder's)
    ...capWaits,
    recordBatch: after(batches.recordBatch),
    recordAttempt: after(batches.recordAttempt),
    openBatches: after(batches.openBatches),
    trackedBatches: after(batches.trackedBatches),
    batch: after(batches.batch),
    markIncluded: after(batches.markIncluded),
    markSettled: after(batches.markSettled),
    revertInclusion: after(batches.revertInclusion),
    abandonBatch: after(batches.abandonBatch),
    holdSite: after(batches.holdSite),
    releaseSite: after(batches.releaseSite),
    failEvents: after(batches.failEvents),
    repriceEvents: after(batches.repriceEvents),

    // ---- webhooks (sent by the lease holder)
    async dueDeliveries(now, limit) {
      return (
        await query(
          `SELECT d.id, d.site_id, d.event_id, d.payload, d.attempts, s.webhook_url, s.webhook_secret
           FROM webhook_deliveries d JOIN sites s ON s.site_id = d.site_id
           WHERE d.status = 'due' AND d.next_at <= $1 ORDER BY d.next_at LIMIT $2`,
          [now, limit],
        )
      ).map((row): WebhookDelivery => ({
        id: Number(row.id),
        siteId: Number(row.site_id),
        eventId: row.event_id as string,
        payload: row.payload as string,
        attempts: Number(row.attempts),
        url: (row.webhook_url as string | null) ?? null,
        secret: (row.webhook_secret as string | null) ?? null,
      }));
    },
    async markDelivered(id) {
      await query("UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1 WHERE id = $1", [id]);
    },
    async rescheduleDelivery(id, nextAt, error, giveUp) {
      await query(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, next_at = $1, last_error = $2, status = $3 WHERE id = $4",
        [nextAt, error.slice(0, 500), giveUp ? "failed" : "due", id],
      );
    },

    lease: {
      tryAcquire: after(() => lease.tryAcquire()),
      get epoch() {
        return lease.epoch;
      },
      holder: after(() => lease.holder()),
      release: () => lease.release(),
    },

    async ping() {
      await query("SELECT 1");
    },
    async close() {
      await acceptance.flush();
      await lease.release();
      await ready.catch(() => undefined);
      await pool.end();
    },
  };
}
