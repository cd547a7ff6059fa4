import type { Hex } from "viem";
import { sqliteTransaction } from "../../storage/sqliteTransaction.js";
import type { AccountTotalsCache, Totals } from "./accountTotalsCache.js";
import type { BatchAttempt, BatchRecord, BatchSettlement, NewBatch, RelayerStore } from "./relayerStore.js";
import type { SqliteDatabase } from "./sqliteDatabase.js";
import { num, str, type Reservation, type Row } from "./sqliteRows.js";

export type SqliteBatches = Pick<
  RelayerStore,
  "recordBatch" | "recordAttempt" | "openBatches" | "batch" | "markSettled" | "abandonBatch"
>;

/**
 * Batches in the SQLite store, from recorded (with their send attempts) to settled or
 * abandoned; settling one releases its events' reservations and queues their webhooks.
 *
 * @example
 * const { recordBatch, markSettled } = createSqliteBatches(database, accounts)
 */
export function createSqliteBatches(database: SqliteDatabase, accounts: AccountTotalsCache): SqliteBatches {
  const { db, q } = database;
  const { addPending, earnedOf, setEarned } = accounts;

  // Batch ids are <namespace> * 2^32 + n, with a random namespace per database, so two
  // relayer databases on one ledger do not take each other's ids (the batcher also checks a
  // settled id's content). Below 2^52, so ids stay exact as JS numbers.
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('batch_namespace', ?)").run(
    String(1 + Math.floor(Math.random() * (2 ** 20 - 1))),
  );
  const namespace = Number(
    (db.prepare("SELECT value FROM meta WHERE key = 'batch_namespace'").get() as Row | undefined)?.value,
  );
  const firstBatchId = namespace * 2 ** 32 + 1;
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
      actions: str(row, "actions") as Hex,
      eventCount: num(row, "event_count"),
      createdAt: num(row, "created_at"),
      attempts,
      txHash: (row.tx_hash as Hex | null) ?? null,
      blockNumber: row.block_number ? BigInt(str(row, "block_number")) : null,
      gasUsed: row.gas_used ? BigInt(str(row, "gas_used")) : null,
      settledAt: row.settled_at === null ? null : num(row, "settled_at"),
      note: (row.note as string | null) ?? null,
    };
  };

  return {
    async recordBatch(batch: NewBatch) {
      return transaction(() => {
        const next = num(
          q("SELECT coalesce(max(batch_id) + 1, ?) AS id FROM batches").get(firstBatchId) ?? { id: firstBatchId },
          "id",
        );
        q(
          `INSERT INTO batches (batch_id, site_id, status, evidence_root, actions, event_count, created_at)
           VALUES (?, ?, 'recorded', ?, ?, ?, ?)`,
        ).run(next, batch.siteId, batch.evidenceRoot, batch.actions, batch.seqs.length, batch.createdAt);
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
    async markSettled(batchId, settlement: BatchSettlement) {
      const settled = transaction(() => {
        const row = q("SELECT status FROM batches WHERE batch_id = ?").get(Number(batchId));
        if (!row || str(row, "status") !== "recorded") return undefined;
        q(
          "UPDATE batches SET status = 'settled', tx_hash = ?, block_number = ?, gas_used = ?, settled_at = ? WHERE batch_id = ?",
        ).run(
          settlement.txHash,
          settlement.blockNumber.toString(),
          settlement.gasUsed === null ? null : settlement.gasUsed.toString(),
          settlement.settledAt,
          Number(batchId),
        );
        const released = new Map<string, Totals>();
        for (const event of q("SELECT reserve_json FROM events WHERE batch_id = ?").all(Number(batchId)))
          for (const [account, minted, burned] of JSON.parse(str(event, "reserve_json")) as Reservation[]) {
            const entry = released.get(account) ?? { mints: 0n, burns: 0n };
            entry.mints += BigInt(minted);
            entry.burns += BigInt(burned);
            released.set(account, entry);
          }
        const earned = new Map<string, bigint>();
        for (const [account, { mints }] of released) {
          if (mints === 0n) continue;
          const total = earnedOf(account) + mints;
          q(
            "INSERT INTO accounts (account, earned) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET earned = excluded.earned",
          ).run(account, total.toString());
          earned.set(account, total);
        }
        q("UPDATE events SET status = 'settled' WHERE batch_id = ?").run(Number(batchId));
        for (const { siteId, eventId, payload } of settlement.notifications)
          q("INSERT INTO webhook_deliveries (site_id, event_id, payload, next_at) VALUES (?, ?, ?, ?)").run(
            siteId,
            eventId,
            payload,
            settlement.settledAt,
          );
        return { released, earned };
      });
      if (!settled) return;
      for (const [account, { mints, burns }] of settled.released) addPending(account, -mints, -burns);
      for (const [account, total] of settled.earned) setEarned(account, total);
    },
    async abandonBatch(batchId, reason) {
      transaction(() => {
        q("UPDATE batches SET status = 'abandoned', note = ? WHERE batch_id = ? AND status = 'recorded'").run(
          reason,
          Number(batchId),
        );
        q("UPDATE events SET status = 'pending', batch_id = NULL, leaf_index = NULL WHERE batch_id = ?").run(
          Number(batchId),
        );
      });
    },
  };
}
