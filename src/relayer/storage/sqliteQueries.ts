import { bytesToHex, type Address, type Hex } from "viem";
import type { PostRegistration } from "../../core/packedActions.js";
import type { SiteEvent } from "../../evidence/siteEvent.js";
import type { AccountTotalsCache } from "./accountTotalsCache.js";
import type { AccountTotals, RelayerStore, StoredEnvelope, StoredEvent } from "./relayerStore.js";
import type { SqliteDatabase } from "./sqliteDatabase.js";
import { num, str, unpackActions, type Row } from "./sqliteRows.js";

export type SqliteQueries = Pick<
  RelayerStore,
  | "event"
  | "accountTotals"
  | "pendingCount"
  | "pendingSites"
  | "pendingEvents"
  | "heldSites"
  | "heldCount"
  | "batchEvents"
  | "envelopes"
>;

/** An events row as a StoredEvent. */
export function eventOf(row: Row): StoredEvent {
  return {
    seq: num(row, "seq"),
    siteId: num(row, "site_id"),
    eventId: str(row, "event_id"),
    eventHash: str(row, "event_hash") as Hex,
    event: JSON.parse(str(row, "event_json")) as SiteEvent,
    envelopeNonce: BigInt(str(row, "envelope_nonce")),
    envelopeIndex: num(row, "envelope_index"),
    envelopeDigest: str(row, "envelope_digest") as Hex,
    actions: unpackActions(str(row, "actions_json")),
    registers: row.registers_json
      ? ((([postId, author]) => ({ postId: BigInt(postId), author: author as Address }))(
          JSON.parse(str(row, "registers_json")) as [string, string],
        ) satisfies PostRegistration)
      : null,
    status: str(row, "status") as StoredEvent["status"],
    batchId: row.batch_id === null || row.batch_id === undefined ? null : BigInt(num(row, "batch_id")),
    leafIndex: row.leaf_index === null || row.leaf_index === undefined ? null : num(row, "leaf_index"),
    receivedAt: num(row, "received_at"),
    ruleSetVersion:
      row.rule_set_version === null || row.rule_set_version === undefined ? null : num(row, "rule_set_version"),
    attestation: typeof row.attestation === "string" ? (row.attestation as Hex) : null,
    failure:
      typeof row.failure_code === "string"
        ? { code: row.failure_code, message: (row.failure_message as string | null) ?? "" }
        : null,
  };
}

/**
 * The SQLite store's reads of events, envelopes and account totals.
 *
 * @example
 * const { event, pendingEvents } = createSqliteQueries(database, accounts)
 */
export function createSqliteQueries(database: SqliteDatabase, accounts: AccountTotalsCache): SqliteQueries {
  const { q } = database;
  const { pending, earnedOf } = accounts;

  return {
    async event(siteId, eventId) {
      const row = q("SELECT * FROM events WHERE site_id = ? AND event_id = ?").get(siteId, eventId);
      return row && eventOf(row);
    },
    async accountTotals(account): Promise<AccountTotals> {
      const key = account.toLowerCase();
      const totals = pending.get(key);
      return { pendingMints: totals?.mints ?? 0n, pendingBurns: totals?.burns ?? 0n, earned: earnedOf(key) };
    },
    async pendingCount() {
      return num(q("SELECT count(*) AS n FROM events WHERE status = 'pending'").get() ?? { n: 0 }, "n");
    },

    async pendingSites() {
      return q(
        `SELECT site_id, count(*) AS n, min(received_at) AS oldest FROM events WHERE status = 'pending' GROUP BY site_id ORDER BY site_id`,
      )
        .all()
        .map((row) => ({ siteId: num(row, "site_id"), count: num(row, "n"), oldestReceivedAt: num(row, "oldest") }));
    },
    async pendingEvents(siteId, limit) {
      return q("SELECT * FROM events WHERE site_id = ? AND status = 'pending' ORDER BY seq LIMIT ?")
        .all(siteId, limit)
        .map(eventOf);
    },
    async heldSites() {
      return q("SELECT DISTINCT site_id FROM events WHERE status = 'held' ORDER BY site_id")
        .all()
        .map((row) => num(row, "site_id"));
    },
    async heldCount() {
      return num(q("SELECT count(*) AS n FROM events WHERE status = 'held'").get() ?? { n: 0 }, "n");
    },
    async batchEvents(batchId) {
      return q("SELECT * FROM events WHERE batch_id = ? ORDER BY leaf_index").all(Number(batchId)).map(eventOf);
    },
    async envelopes(keys) {
      const out: StoredEnvelope[] = [];
      for (const { siteId, nonce } of keys) {
        const row = q("SELECT * FROM envelopes WHERE site_id = ? AND nonce = ?").get(siteId, nonce.toString());
        if (!row) continue;
        const blob = row.event_hashes as Uint8Array;
        const eventHashes: Hex[] = [];
        for (let i = 0; i < blob.length; i += 32) eventHashes.push(bytesToHex(blob.subarray(i, i + 32)));
        out.push({
          siteId,
          nonce,
          eventsHash: str(row, "events_hash") as Hex,
          digest: str(row, "digest") as Hex,
          signature: str(row, "signature") as Hex,
          eventHashes,
          acceptedAtBlock: typeof row.accepted_block === "string" ? BigInt(row.accepted_block) : null,
          receivedAt: num(row, "received_at"),
        });
      }
      return out;
    },
  };
}
