import { nextBatchId } from "../nextBatchId.js";
import type { EvidenceVersion } from "../../../evidence/evidenceTree.js";
import type pg from "pg";
import type { Hex } from "viem";
import type {
  BatchAttempt,
  BatchRecord,
  EventFailure,
  EventNotice,
  RelayerStore,
  StoredEvent,
} from "../relayerStore.js";
import { DEPENDENCY_FAILED } from "../sqliteEventOutcomes.js";
import { eventOf } from "../sqliteQueries.js";
import { reservationsOf, unpackActions, unpackEffects, type Row } from "../sqliteRows.js";
import { pgTransaction } from "../../../storage/pgTransaction.js";
import { accountLockKey, siteLockKey } from "./pgSchema.js";

/** A settlement write by an instance that no longer holds the submitter lease (fencing). */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
}

export type PgBatches = Pick<
  RelayerStore,
  | "recordBatch"
  | "recordAttempt"
  | "openBatches"
  | "trackedBatches"
  | "batch"
  | "markIncluded"
  | "markSettled"
  | "revertInclusion"
  | "abandonBatch"
  | "holdSite"
  | "releaseSite"
  | "failEvents"
  | "repriceEvents"
>;

const optional = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** Runs a settlement write in a transaction, fenced by the submitter lease (see createPgBatches). */
export type FencedWrite = <T>(work: (client: pg.PoolClient, epoch: bigint) => Promise<T>) => Promise<T>;

/**
 * Settlement writes of the lease holder only: each transaction first checks, under a share lock
 * of the lease row, that the lease's epoch is still `epoch()`; LeaseLostError otherwise.
 *
 * @example
 * const fenced = fencedWrites(pool, () => lease.epoch); await fenced((client) => client.query(…))
 */
export function fencedWrites(pool: pg.Pool, epoch: () => bigint | undefined): FencedWrite {
  return async (work) =>
    pgTransaction(pool, async (client) => {
      const mine = epoch();
      const row = (await client.query<{ epoch: string }>("SELECT epoch FROM submitter_lease WHERE id = 1 FOR SHARE"))
        .rows[0];
      if (mine === undefined || row?.epoch !== mine.toString())
        throw new LeaseLostError(
          `this instance does not hold the submitter lease (epoch ${row?.epoch ?? "?"}, ours ${mine ?? "none"})`,
        );
      return work(client, mine);
    });
}

/**
 * Batches and event outcomes in the PostgreSQL store. Every write here is the submitter's, and
 * checks in its transaction that the lease's epoch is still the one this instance acquired
 * (`epoch()`), under a share lock of the lease row that a new leader's acquisition waits for:
 * once another instance has taken over, a former leader's write fails with LeaseLostError.
 *
 * @example
 * const batches = createPgBatches(pool, () => lease.epoch)
 */
export function createPgBatches(pool: pg.Pool, epoch: () => bigint | undefined): PgBatches {
  const fenced = fencedWrites(pool, epoch);

  const batchOf = async (db: pg.Pool | pg.PoolClient, row: Row): Promise<BatchRecord> => {
    const attempts = (
      await db.query(
        "SELECT nonce, max_fee, priority_fee, tx_hash, sent_at FROM batch_attempts WHERE batch_id = $1 ORDER BY id",
        [row.batch_id],
      )
    ).rows.map((a: Row): BatchAttempt => ({
      nonce: Number(a.nonce),
      maxFeePerGas: BigInt(a.max_fee as string),
      maxPriorityFeePerGas: BigInt(a.priority_fee as string),
      txHash: (a.tx_hash as Hex | null) ?? null,
      sentAt: Number(a.sent_at),
    }));
    return {
      batchId: BigInt(row.batch_id as string),
      siteId: Number(row.site_id),
      status: row.status as BatchRecord["status"],
      evidenceRoot: row.evidence_root as Hex,
      evidenceVersion: Number(row.evidence_version) as EvidenceVersion,
      actions: row.actions as Hex,
      ruleSetVersion: row.rule_set_version === null ? null : Number(row.rule_set_version),
      eventCount: Number(row.event_count),
      createdAt: Number(row.created_at),
      attempts,
      txHash: (row.tx_hash as Hex | null) ?? null,
      blockNumber: row.block_number === null ? null : BigInt(row.block_number as string),
      blockHash: (row.block_hash as Hex | null) ?? null,
      gasUsed: row.gas_used === null ? null : BigInt(row.gas_used as string),
      includedAt: optional(row.included_at),
      settledAt: optional(row.settled_at),
      note: (row.note as string | null) ?? null,
    };
  };
  const batchesOf = async (rows: Row[]) => Promise.all(rows.map((row) => batchOf(pool, row)));

  /** Adds `sign` times the batch's mints to the accounts' recorded earnings. */
  const addEarnings = (client: pg.PoolClient, batchId: bigint, sign: 1 | -1) =>
    client.query(
      `INSERT INTO accounts (account, earned)
       SELECT r.account, $2::numeric * sum(r.mints) FROM reservations r JOIN events e ON e.seq = r.seq
       WHERE e.batch_id = $1 GROUP BY r.account HAVING sum(r.mints) > 0
       ON CONFLICT (account) DO UPDATE SET earned = accounts.earned + excluded.earned`,
      [batchId.toString(), sign],
    );
  const queueNotices = async (client: pg.PoolClient, notices: readonly EventNotice[], at: number) => {
    if (notices.length === 0) return;
    await client.query(
      `INSERT INTO webhook_deliveries (site_id, event_id, payload, next_at)
       SELECT *, $4::bigint FROM unnest($1::int[], $2::text[], $3::text[])`,
      [notices.map((n) => n.siteId), notices.map((n) => n.eventId), notices.map((n) => n.payload), at],
    );
  };

  return {
    async recordBatch(batch) {
      return fenced(async (client, mine) => {
        // FOR UPDATE: sites settle side by side; their batches take the next id one at a time.
        const namespace = Number(
          (await client.query<{ value: string }>("SELECT value FROM meta WHERE key = 'batch_namespace' FOR UPDATE"))
            .rows[0]?.value,
        );
        const last = (await client.query<{ id: string | null }>("SELECT max(batch_id) AS id FROM batches")).rows[0]?.id;
        const next = nextBatchId(last === null || last === undefined ? null : Number(last), namespace);
        const inserted = await client.query(
          `INSERT INTO batches (batch_id, site_id, status, evidence_root, evidence_version, actions, rule_set_version,
             event_count, created_at, epoch) VALUES ($1, $2, 'recorded', $3, $4, $5, $9, $6, $7, $8) RETURNING *`,
          [
            next,
            batch.siteId,
            batch.evidenceRoot,
            batch.evidenceVersion,
            batch.actions,
            batch.seqs.length,
            batch.createdAt,
            mine.toString(),
            batch.ruleSetVersion,
          ],
        );
        const changed = await client.query(
          `UPDATE events SET status = 'batched', batch_id = $1, leaf_index = x.leaf - 1
           FROM unnest($2::bigint[]) WITH ORDINALITY AS x(seq, leaf)
           WHERE events.seq = x.seq AND events.status = 'pending'`, // ORDINALITY counts from 1, leaves from 0
          [next, batch.seqs.map(String)],
        );
        if (changed.rowCount !== batch.seqs.length) throw new Error("some of the batch's events are not pending");
        return batchOf(client, inserted.rows[0] as Row);
      });
    },
    async recordAttempt(batchId, attempt) {
      await fenced((client, mine) =>
        client.query(
          `INSERT INTO batch_attempts (batch_id, nonce, max_fee, priority_fee, tx_hash, sent_at, epoch)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (batch_id, nonce, max_fee) DO UPDATE SET tx_hash = coalesce(excluded.tx_hash, batch_attempts.tx_hash)`,
          [
            batchId.toString(),
            attempt.nonce,
            attempt.maxFeePerGas.toString(),
            attempt.maxPriorityFeePerGas.toString(),
            attempt.txHash,
            attempt.sentAt,
            mine.toString(),
          ],
        ),
      );
    },
    async openBatches() {
      return batchesOf((await pool.query("SELECT * FROM batches WHERE status = 'recorded' ORDER BY batch_id")).rows);
    },
    async batch(batchId) {
      const row = (await pool.query("SELECT * FROM batches WHERE batch_id = $1", [batchId.toString()])).rows[0] as
        Row | undefined;
      return row && batchOf(pool, row);
    },
    async trackedBatches(settledSince) {
      return batchesOf(
        (
          await pool.query(
            `SELECT * FROM batches WHERE status IN ('recorded', 'included')
               OR (status = 'settled' AND block_number >= $1) ORDER BY batch_id`,
            [settledSince.toString()],
          )
        ).rows,
      );
    },
    async markIncluded(batchId, inclusion) {
      await fenced(async (client) => {
        const id = batchId.toString();
        const status = (await client.query<{ status: string }>("SELECT status FROM batches WHERE batch_id = $1", [id]))
          .rows[0]?.status;
        if (status !== "recorded" && status !== "included" && status !== "settled") return;
        await client.query(
          `UPDATE batches SET status = CASE status WHEN 'settled' THEN 'settled' ELSE 'included' END,
             tx_hash = $2, block_number = $3, block_hash = $4, gas_used = $5, included_at = coalesce(included_at, $6)
           WHERE batch_id = $1`,
          [
            id,
            inclusion.txHash,
            inclusion.blockNumber.toString(),
            inclusion.blockHash,
            inclusion.gasUsed === null ? null : inclusion.gasUsed.toString(),
            inclusion.includedAt,
          ],
        );
        // The chain's balances hold the batch's burns from its block on (also when a reorg moved it).
        await client.query(
          "UPDATE reservations SET released_block = $2 WHERE seq IN (SELECT seq FROM events WHERE batch_id = $1)",
          [id, inclusion.blockNumber.toString()],
        );
        if (status === "recorded")
          await client.query("UPDATE events SET status = 'included' WHERE batch_id = $1", [id]);
      });
    },
    async markSettled(batchId, settlement) {
      await fenced(async (client) => {
        const id = batchId.toString();
        const row = (
          await client.query<{ status: string; block_number: string | null }>(
            "SELECT status, block_number FROM batches WHERE batch_id = $1",
            [id],
          )
        ).rows[0];
        if (row?.status !== "included") return;
        await client.query("UPDATE batches SET status = 'settled', settled_at = $2 WHERE batch_id = $1", [
          id,
          settlement.settledAt,
        ]);
        await addEarnings(client, batchId, 1);
        await client.query("UPDATE events SET status = 'settled' WHERE batch_id = $1", [id]);
        await queueNotices(client, settlement.notifications, settlement.settledAt);
      });
    },
    async revertInclusion(batchId, reason, notices) {
      await fenced(async (client) => {
        const id = batchId.toString();
        const status = (await client.query<{ status: string }>("SELECT status FROM batches WHERE batch_id = $1", [id]))
          .rows[0]?.status;
        if (status !== "included" && status !== "settled") return;
        await client.query(
          `UPDATE batches SET status = 'recorded', tx_hash = NULL, block_number = NULL, block_hash = NULL,
             gas_used = NULL, included_at = NULL, settled_at = NULL, note = $2 WHERE batch_id = $1`,
          [id, reason],
        );
        await client.query("UPDATE events SET status = 'batched' WHERE batch_id = $1", [id]);
        await client.query(
          "UPDATE reservations SET released_block = NULL WHERE seq IN (SELECT seq FROM events WHERE batch_id = $1)",
          [id],
        );
        if (status === "settled") await addEarnings(client, batchId, -1);
        await queueNotices(client, notices, Date.now());
      });
    },
    async abandonBatch(batchId, reason) {
      await fenced(async (client) => {
        const id = batchId.toString();
        const abandoned = await client.query(
          "UPDATE batches SET status = 'abandoned', note = $2 WHERE batch_id = $1 AND status = 'recorded'",
          [id, reason],
        );
        // Only a batch still recorded gives its events back: an included or settled one's are the chain's.
        if (abandoned.rowCount !== 1) return;
        await client.query(
          "UPDATE events SET status = 'pending', batch_id = NULL, leaf_index = NULL WHERE batch_id = $1 AND status = 'batched'",
          [id],
        );
      });
    },
    async repriceEvents(siteId, version, price) {
      return fenced(async (client) => {
        // The site's lock, then its accounts' (acceptance's order): a spend check counts the
        // reservations as they were or as they are now, never half of each.
        await client.query("SELECT pg_advisory_xact_lock($1)", [siteLockKey(siteId).toString()]);
        const rows = (
          await client.query<{ seq: string; actions_json: string }>(
            `SELECT seq, actions_json FROM events WHERE site_id = $1 AND status = 'pending'
             AND rule_set_version IS DISTINCT FROM $2 ORDER BY seq`,
            [siteId, version],
          )
        ).rows;
        if (rows.length === 0) return 0;
        const priced = rows.map((row) => ({
          seq: row.seq,
          reservations: reservationsOf(unpackActions(row.actions_json), price),
        }));
        const locks = [...new Set(priced.flatMap((p) => p.reservations.map(([account]) => accountLockKey(account))))];
        await client.query("SELECT twei_lock_all($1::bigint[])", [
          locks.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String),
        ]);
        const seqs = priced.map((p) => p.seq);
        await client.query("DELETE FROM reservations WHERE seq = ANY($1::bigint[])", [seqs]);
        const kept = priced.flatMap(({ seq, reservations }) =>
          reservations.filter(([, mints, burns]) => mints !== "0" || burns !== "0").map((r) => [seq, ...r] as const),
        );
        await client.query(
          `INSERT INTO reservations (seq, account, mints, burns)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::numeric[], $4::numeric[])`,
          [kept.map((r) => r[0]), kept.map((r) => r[1]), kept.map((r) => r[2]), kept.map((r) => r[3])],
        );
        await client.query(
          `UPDATE events SET reserve_json = x.json, rule_set_version = $3
           FROM unnest($1::bigint[], $2::text[]) AS x(seq, json) WHERE events.seq = x.seq`,
          [seqs, priced.map((p) => JSON.stringify(p.reservations)), version],
        );
        return rows.length;
      });
    },
    async holdSite(siteId) {
      return fenced(
        async (client) =>
          (await client.query("UPDATE events SET status = 'held' WHERE site_id = $1 AND status = 'pending'", [siteId]))
            .rowCount ?? 0,
      );
    },
    async releaseSite(siteId) {
      return fenced(
        async (client) =>
          (await client.query("UPDATE events SET status = 'pending' WHERE site_id = $1 AND status = 'held'", [siteId]))
            .rowCount ?? 0,
      );
    },
    async failEvents(siteId, failures, notice) {
      return fenced(async (client) => {
        // The site's lock: acceptance reads the markers and posts this undoes.
        await client.query("SELECT pg_advisory_xact_lock($1)", [siteLockKey(siteId).toString()]);
        const out: { event: StoredEvent; failure: EventFailure }[] = [];
        const fail = async (row: Row, failure: EventFailure): Promise<void> => {
          const changed = await client.query(
            `UPDATE events SET status = 'failed', failure_code = $2, failure_message = $3
             WHERE seq = $1 AND status IN ('pending', 'held')`,
            [row.seq, failure.code, failure.message],
          );
          if (changed.rowCount !== 1) return;
          await client.query("DELETE FROM reservations WHERE seq = $1", [row.seq]);
          const event = eventOf({
            ...row,
            status: "failed",
            failure_code: failure.code,
            failure_message: failure.message,
          });
          out.push({ event, failure });
          const payload = notice(event, failure);
          if (payload !== null)
            await client.query(
              "INSERT INTO webhook_deliveries (site_id, event_id, payload, next_at) VALUES ($1, $2, $3, $4)",
              [siteId, event.eventId, payload, Date.now()],
            );
          const effects = unpackEffects((row.effects_json as string | null) ?? null);
          if (!effects) return;
          if (effects.markers.length > 0)
            await client.query("DELETE FROM markers WHERE site_id = $1 AND marker = ANY($2::text[])", [
              siteId,
              effects.markers,
            ]);
          for (const counter of effects.counters)
            await client.query("UPDATE counters SET n = greatest(0, n - 1) WHERE site_id = $1 AND counter = $2", [
              siteId,
              counter,
            ]);
          for (const [key, amount] of effects.tallies ?? [])
            await client.query(
              "UPDATE tallies SET amount = greatest(0, amount - $3::numeric) WHERE site_id = $1 AND tally = $2",
              [siteId, key, amount],
            );
          const dependents = async (field: "postId" | "commentId", id: string, what: string) => {
            const rows = (
              await client.query(
                `SELECT * FROM events WHERE site_id = $1 AND status IN ('pending', 'held')
                 AND event_json::jsonb ->> '${field}' = $2 ORDER BY seq`,
                [siteId, id],
              )
            ).rows as Row[];
            for (const dependent of rows)
              await fail(dependent, {
                code: DEPENDENCY_FAILED,
                message: `${what} failed (event ${event.eventId}: ${failure.code}), so this event cannot settle`,
              });
          };
          if (effects.post !== undefined) {
            await client.query("DELETE FROM posts WHERE site_id = $1 AND post_id = $2", [siteId, effects.post]);
            await dependents("postId", effects.post, `the publication of post ${effects.post}`);
          }
          if (effects.comment !== undefined) {
            await client.query("DELETE FROM comments WHERE site_id = $1 AND comment_id = $2", [
              siteId,
              effects.comment,
            ]);
            await dependents("commentId", effects.comment, `comment ${effects.comment}`);
          }
        };
        for (const { seq, code, message } of failures) {
          const row = (await client.query("SELECT * FROM events WHERE seq = $1 AND site_id = $2", [seq, siteId]))
            .rows[0] as Row | undefined;
          if (row) await fail(row, { code, message });
        }
        return out;
      });
    },
  };
}
