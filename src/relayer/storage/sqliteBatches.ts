import { nextBatchId } from "./nextBatchId.js";
import type { EvidenceVersion } from "../../evidence/evidenceTree.js";
import type { Hex } from "viem";
import { sqliteTransaction } from "../../storage/sqliteTransaction.js";
import type { AccountTotalsCache, Totals } from "./accountTotalsCache.js";
import type {
  BatchAttempt,
  BatchInclusion,
  BatchRecord,
  BatchSettlement,
  EventNotice,
  NewBatch,
  RelayerStore,
} from "./relayerStore.js";
import type { SqliteDatabase } from "./sqliteDatabase.js";
import { num, str, type Reservation, type Row } from "./sqliteRows.js";

export type SqliteBatches = Pick<
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
>;

/**
 * Batches in the SQLite store, from recorded (with their send attempts) to included, settled
 * or abandoned, and back to recorded when a reorg removes them. Inclusion releases the events'
 * reservations (the chain's balances hold them now); settlement, final, records the earnings
 * and queues the webhooks.
 *
 * @example
 * const { recordBatch, markSettled } = createSqliteBatches(database, accounts)
 */
export function createSqliteBatches(database: SqliteDatabase, accounts: AccountTotalsCache): SqliteBatches {
  const { db, q } = database;
  const { addPending, earnedOf, setEarned } = accounts;

  // Batch ids start at <namespace> * 2^32, a random namespace per database, so two relayer
  // databases on one ledger do not take each other's ids (the batcher also checks a settled
  // id's content), and grow by a random step (./nextBatchId.ts), so no one can guess the next.
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('batch_namespace', ?)").run(
    String(1 + Math.floor(Math.random() * (2 ** 20 - 1))),
  );
  const namespace = Number(
    (db.prepare("SELECT value FROM meta WHERE key = 'batch_namespace'").get() as Row | undefined)?.value,
  );
  const transaction = <T>(work: () => T): T => sqliteTransaction(db, work);

  const batchOf = (row: Row): BatchRecord => {
    const batchId = num(row, "batch_id");
    const attempts = q(
      "SELECT nonce, max_fee, priority_fee, tx_hash, sent_at FROM batch_attempts WHERE batch_id = ? ORDER BY rowid",
    )
      .all(batchId)
      .map((a): BatchAttempt => ({
        nonce: num(a, "nonce"),
        maxFeePerGas: BigInt(str(a, "max_fee")),
        maxPriorityFeePerGas: BigInt(str(a, "priority_fee")),
        txHash: (a.tx_hash as Hex | null) ?? null,
        sentAt: num(a, "sent_at"),
      }));
    return {
      batchId: BigInt(batchId),
      siteId: num(row, "site_id"),
      status: str(row, "status") as BatchRecord["status"],
      evidenceRoot: str(row, "evidence_root") as Hex,
      evidenceVersion: num(row, "evidence_version") as EvidenceVersion,
      actions: str(row, "actions") as Hex,
      ruleSetVersion:
        row.rule_set_version === null || row.rule_set_version === undefined ? null : num(row, "rule_set_version"),
      eventCount: num(row, "event_count"),
      createdAt: num(row, "created_at"),
      attempts,
      txHash: (row.tx_hash as Hex | null) ?? null,
      blockNumber: row.block_number ? BigInt(str(row, "block_number")) : null,
      blockHash: (row.block_hash as Hex | null) ?? null,
      gasUsed: row.gas_used ? BigInt(str(row, "gas_used")) : null,
      includedAt: row.included_at === null || row.included_at === undefined ? null : num(row, "included_at"),
      settledAt: row.settled_at === null ? null : num(row, "settled_at"),
      note: (row.note as string | null) ?? null,
    };
  };

  /** What the batch's events reserve, per account. */
  const reservationsOf = (batchId: bigint): Map<string, Totals> => {
    const totals = new Map<string, Totals>();
    for (const event of q("SELECT reserve_json FROM events WHERE batch_id = ?").all(Number(batchId)))
      for (const [account, minted, burned] of JSON.parse(str(event, "reserve_json")) as Reservation[]) {
        const entry = totals.get(account) ?? { mints: 0n, burns: 0n };
        entry.mints += BigInt(minted);
        entry.burns += BigInt(burned);
        totals.set(account, entry);
      }
    return totals;
  };

  /** Adds `sign` times the batch's mints to the accounts' recorded earnings; returns the new totals. */
  const addEarnings = (totals: Map<string, Totals>, sign: 1n | -1n): Map<string, bigint> => {
    const earned = new Map<string, bigint>();
    for (const [account, { mints }] of totals) {
      if (mints === 0n) continue;
      const total = earnedOf(account) + sign * mints;
      q(
        "INSERT INTO accounts (account, earned) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET earned = excluded.earned",
      ).run(account, total.toString());
      earned.set(account, total);
    }
    return earned;
  };

  const queueNotices = (notices: readonly EventNotice[], at: number) => {
    for (const { siteId, eventId, payload } of notices)
      q("INSERT INTO webhook_deliveries (site_id, event_id, payload, next_at) VALUES (?, ?, ?, ?)").run(
        siteId,
        eventId,
        payload,
        at,
      );
  };

  return {
    async recordBatch(batch: NewBatch) {
      return transaction(() => {
        const last = q("SELECT max(batch_id) AS id FROM batches").get() as Row | undefined;
        const next = nextBatchId(last?.id === null || last?.id === undefined ? null : num(last, "id"), namespace);
        q(
          `INSERT INTO batches (batch_id, site_id, status, evidence_root, evidence_version, actions, rule_set_version,
             event_count, created_at) VALUES (?, ?, 'recorded', ?, ?, ?, ?, ?, ?)`,
        ).run(
          next,
          batch.siteId,
          batch.evidenceRoot,
          batch.evidenceVersion,
          batch.actions,
          batch.ruleSetVersion,
          batch.seqs.length,
          batch.createdAt,
        );
        batch.seqs.forEach((seq, leaf) => {
          const changed = q(
            "UPDATE events SET status = 'batched', batch_id = ?, leaf_index = ? WHERE seq = ? AND status = 'pending'",
          ).run(next, leaf, seq);
          if (Number(changed.changes) !== 1) throw new Error(`event ${seq} is not pending`);
        });
        return batchOf(q("SELECT * FROM batches WHERE batch_id = ?").get(next) as Row);
      });
    },
    async recordAttempt(batchId, attempt) {
      q(
        `INSERT INTO batch_attempts (batch_id, nonce, max_fee, priority_fee, tx_hash, sent_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (batch_id, nonce, max_fee) DO UPDATE SET tx_hash = coalesce(excluded.tx_hash, tx_hash)`,
      ).run(
        Number(batchId),
        attempt.nonce,
        attempt.maxFeePerGas.toString(),
        attempt.maxPriorityFeePerGas.toString(),
        attempt.txHash,
        attempt.sentAt,
      );
    },
    async openBatches() {
      return q("SELECT * FROM batches WHERE status = 'recorded' ORDER BY batch_id").all().map(batchOf);
    },
    async batch(batchId) {
      const row = q("SELECT * FROM batches WHERE batch_id = ?").get(Number(batchId));
      return row && batchOf(row);
    },
    async trackedBatches(settledSince) {
      return q(
        `SELECT * FROM batches WHERE status IN ('recorded', 'included')
           OR (status = 'settled' AND CAST(block_number AS INTEGER) >= ?) ORDER BY batch_id`,
      )
        .all(Number(settledSince))
        .map(batchOf);
    },
    async markIncluded(batchId, inclusion: BatchInclusion) {
      const released = transaction(() => {
        const row = q("SELECT status FROM batches WHERE batch_id = ?").get(Number(batchId));
        const status = row && str(row, "status");
        if (status !== "recorded" && status !== "included" && status !== "settled") return undefined;
        // A settled batch that a reorg moved keeps its status: only where it is changes.
        q(
          `UPDATE batches SET status = CASE status WHEN 'settled' THEN 'settled' ELSE 'included' END,
             tx_hash = ?, block_number = ?, block_hash = ?, gas_used = ?, included_at = coalesce(included_at, ?)
           WHERE batch_id = ?`,
        ).run(
          inclusion.txHash,
          inclusion.blockNumber.toString(),
          inclusion.blockHash,
          inclusion.gasUsed === null ? null : inclusion.gasUsed.toString(),
          inclusion.includedAt,
          Number(batchId),
        );
        if (status !== "recorded") return new Map<string, Totals>(); // moved by a reorg: reservations already released
        q("UPDATE events SET status = 'included' WHERE batch_id = ?").run(Number(batchId));
        return reservationsOf(batchId);
      });
      for (const [account, { mints, burns }] of released ?? []) addPending(account, -mints, -burns);
    },
    async markSettled(batchId, settlement: BatchSettlement) {
      const earned = transaction(() => {
        const row = q("SELECT status FROM batches WHERE batch_id = ?").get(Number(batchId));
        if (!row || str(row, "status") !== "included") return undefined;
        q("UPDATE batches SET status = 'settled', settled_at = ? WHERE batch_id = ?").run(
          settlement.settledAt,
          Number(batchId),
        );
        const totals = addEarnings(reservationsOf(batchId), 1n);
        q("UPDATE events SET status = 'settled' WHERE batch_id = ?").run(Number(batchId));
        queueNotices(settlement.notifications, settlement.settledAt);
        return totals;
      });
      for (const [account, total] of earned ?? []) setEarned(account, total);
    },
    async revertInclusion(batchId, reason, notices) {
      const changed = transaction(() => {
        const row = q("SELECT status FROM batches WHERE batch_id = ?").get(Number(batchId));
        const status = row && str(row, "status");
        if (status !== "included" && status !== "settled") return undefined;
        q(
          `UPDATE batches SET status = 'recorded', tx_hash = NULL, block_number = NULL, block_hash = NULL,
             gas_used = NULL, included_at = NULL, settled_at = NULL, note = ? WHERE batch_id = ?`,
        ).run(reason, Number(batchId));
        q("UPDATE events SET status = 'batched' WHERE batch_id = ?").run(Number(batchId));
        const reserved = reservationsOf(batchId);
        const earned = status === "settled" ? addEarnings(reserved, -1n) : new Map<string, bigint>();
        queueNotices(notices, Date.now());
        return { reserved, earned };
      });
      if (!changed) return;
      for (const [account, { mints, burns }] of changed.reserved) addPending(account, mints, burns);
      for (const [account, total] of changed.earned) setEarned(account, total);
    },
    async abandonBatch(batchId, reason) {
      transaction(() => {
        const abandoned = q(
          "UPDATE batches SET status = 'abandoned', note = ? WHERE batch_id = ? AND status = 'recorded'",
        ).run(reason, Number(batchId));
        // Only a batch still recorded gives its events back: an included or settled one's are the chain's.
        if (Number(abandoned.changes) !== 1) return;
        q(
          "UPDATE events SET status = 'pending', batch_id = NULL, leaf_index = NULL WHERE batch_id = ? AND status = 'batched'",
        ).run(Number(batchId));
      });
    },
  };
}
