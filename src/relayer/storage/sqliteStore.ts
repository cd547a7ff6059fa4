import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { bytesToHex, hexToBytes, type Address, type Hex } from "viem";
import { FIRST_BURN_KIND, type ActionKind } from "../../core/kinds.js";
import type { AccountAction, PostRegistration } from "../../core/packedActions.js";
import type { SiteEvent } from "../../evidence/siteEvent.js";
import { markersOf } from "../../rules/rulesState.js";
import { SCHEMA } from "./sqliteSchema.js";
import {
  NonceReusedError,
  type AccountTotals,
  type BatchAttempt,
  type BatchRecord,
  type BatchSettlement,
  type EnvelopeInput,
  type EventFate,
  type NewBatch,
  type NewSite,
  type RelayerStore,
  type SiteRecord,
  type StoredEnvelope,
  type StoredEvent,
  type StoreRulesView,
  type WebhookDelivery,
} from "./relayerStore.js";
import { sqliteTransaction } from "../../storage/sqliteTransaction.js";
import { createGroupCommitter } from "../../storage/groupCommit.js";

type Row = Record<string, unknown>;
type PackedAction = [string, number, number, string];
type Reservation = [string, string, string]; // account, minted, burned

const str = (row: Row, key: string) => row[key] as string;
const num = (row: Row, key: string) => Number(row[key]);

function packActions(actions: readonly AccountAction[]): string {
  return JSON.stringify(actions.map((a): PackedAction => [a.account, a.kind, a.units, a.postId.toString()]));
}

function unpackActions(json: string): AccountAction[] {
  return (JSON.parse(json) as PackedAction[]).map(([account, kind, units, postId]) => ({
    account: account as Address,
    kind: kind as ActionKind,
    units,
    postId: BigInt(postId),
  }));
}

/**
 * Opens (creating if need be) the relayer's SQLite database: WAL with full synchronous
 * commits, so an event acknowledged by the API survives a crash or power loss.
 *
 * @example
 * const store = createSqliteStore({ path: "data/relayer/relayer.sqlite" })
 */
export function createSqliteStore(options: { path: string }): RelayerStore {
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
  db.exec(SCHEMA);

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

  const cache = new Map<string, StatementSync>();
  const q = (sql: string): StatementSync => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };

  /** Inserts rows into `table (columns)`, up to 100 rows a statement (prepared once per size). */
  const insertRows = (table: string, rows: readonly (readonly (string | number | null)[])[]): void => {
    for (let i = 0; i < rows.length; i += 100) {
      const chunk = rows.slice(i, i + 100);
      const placeholders = `(${chunk[0]!.map(() => "?").join(", ")})`;
      q(`INSERT INTO ${table} VALUES ${chunk.map(() => placeholders).join(", ")}`).run(...chunk.flat());
    }
  };
  const transaction = <T>(work: () => T): T => sqliteTransaction(db, work);

  const siteOf = (row: Row | undefined): SiteRecord | undefined =>
    row && {
      siteId: num(row, "site_id"),
      apiKeyHash: str(row, "api_key_hash") as Hex,
      webhookUrl: (row.webhook_url as string | null) ?? null,
      webhookSecret: (row.webhook_secret as string | null) ?? null,
      signer: (row.signer as Address | null) ?? null,
      active: num(row, "active") === 1,
      checkedAt: num(row, "checked_at"),
    };

  const eventOf = (row: Row): StoredEvent => ({
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
  });

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

  // Pending mints and burns per account live in memory, rebuilt at open from the events not
  // yet settled (each stores its reservations), so accepting events writes no account rows.
  // Only `earned` is stored, when a batch settles. Memory is updated only after commits.
  type Totals = { mints: bigint; burns: bigint };
  const pending = new Map<string, Totals>();
  const addPending = (account: string, mints: bigint, burns: bigint) => {
    const current = pending.get(account) ?? { mints: 0n, burns: 0n };
    const next = { mints: current.mints + mints, burns: current.burns + burns };
    if (next.mints === 0n && next.burns === 0n) pending.delete(account);
    else pending.set(account, next);
  };
  for (const row of db.prepare("SELECT reserve_json FROM events WHERE status != 'settled'").iterate())
    for (const [account, minted, burned] of JSON.parse(str(row as Row, "reserve_json")) as Reservation[])
      addPending(account, BigInt(minted), BigInt(burned));
  const earnedCache = new Map<string, bigint>();
  const earnedOf = (account: string): bigint => {
    const hit = earnedCache.get(account);
    if (hit !== undefined) return hit;
    const row = q("SELECT earned FROM accounts WHERE account = ?").get(account);
    const earned = row ? BigInt(str(row, "earned")) : 0n;
    if (earnedCache.size > 100_000) earnedCache.clear();
    earnedCache.set(account, earned);
    return earned;
  };

  /** Applies one envelope inside the open transaction; returns its fates and reservations. */
  const acceptInTransaction = (
    input: EnvelopeInput,
    evaluate: Parameters<RelayerStore["acceptEnvelope"]>[1],
    price: Parameters<RelayerStore["acceptEnvelope"]>[2],
  ): { fates: EventFate[]; totals: Map<string, Totals> } => {
    const { siteId } = input;
    const nonce = input.nonce.toString();

    const existing = q("SELECT events_hash FROM envelopes WHERE site_id = ? AND nonce = ?").get(siteId, nonce);
    if (existing && str(existing, "events_hash") !== input.eventsHash)
      throw new NonceReusedError(`site ${siteId} used nonce ${nonce} for other events`);
    // In-request reservations, written once per account at the end.
    const deltas = new Map<string, Totals>();
    const postCache = new Map<string, { author: Address; wordCount: number } | undefined>();
    // Markers and events are written at the end, many rows a statement: one call into
    // SQLite per hundred rows instead of one per row (the rules read `markers` meanwhile).
    const markerRows: string[] = [];
    const eventRows: (string | number | null)[][] = [];
    const view: StoreRulesView = {
      post(postId) {
        // A request's events mostly name a few posts: read each once.
        if (postCache.has(postId)) return postCache.get(postId);
        // Registered posts never change: remembered across requests once read.
        const knownKey = `${siteId}:${postId}`;
        const known = knownPosts.get(knownKey);
        if (known) return known;
        const row = q("SELECT author, word_count FROM posts WHERE site_id = ? AND post_id = ?").get(siteId, postId);
        const post = row && { author: str(row, "author") as Address, wordCount: num(row, "word_count") };
        postCache.set(postId, post);
        if (post) {
          if (knownPosts.size > 100_000) knownPosts.clear();
          knownPosts.set(knownKey, post);
        }
        return post;
      },
      comment(commentId) {
        const row = q("SELECT author, post_id FROM comments WHERE site_id = ? AND comment_id = ?").get(
          siteId,
          commentId,
        );
        return row && { author: str(row, "author") as Address, postId: str(row, "post_id") };
      },
      has: (marker) =>
        markers.has(marker) ||
        (!prefetched.has(marker) &&
          q("SELECT 1 FROM markers WHERE site_id = ? AND marker = ?").get(siteId, marker) !== undefined),
      count(counter) {
        const row = q("SELECT n FROM counters WHERE site_id = ? AND counter = ?").get(siteId, counter);
        return row ? num(row, "n") : 0;
      },
      earned: (account) => earnedOf(account.toLowerCase()),
      pendingBurns(account) {
        const key = account.toLowerCase();
        return (pending.get(key)?.burns ?? 0n) + (groupPending.get(key)?.burns ?? 0n) + (deltas.get(key)?.burns ?? 0n);
      },
    };
    const fates: EventFate[] = [];
    let accepted = 0;
    // One lookup for every event id of the request, then the ones accepted in it.
    // The markers the rules may ask about, in one lookup; `prefetched` are known absent
    // unless set since (in `markers`).
    const candidates = [...new Set(input.events.flatMap(({ event }) => markersOf(event)))];
    const markers = new Set<string>();
    const prefetched = new Set(candidates);
    for (let i = 0; i < candidates.length; i += 500) {
      const chunk = candidates.slice(i, i + 500);
      const sql = `SELECT marker FROM markers WHERE site_id = ? AND marker IN (${chunk.map(() => "?").join(",")})`;
      for (const row of q(sql).all(siteId, ...chunk)) markers.add(str(row, "marker"));
    }
    const known = new Map<string, string>();
    const ids = [...new Set(input.events.map(({ event }) => event.eventId))];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const sql = `SELECT event_id, event_hash FROM events WHERE site_id = ? AND event_id IN (${chunk.map(() => "?").join(",")})`;
      for (const row of q(sql).all(siteId, ...chunk)) known.set(str(row, "event_id"), str(row, "event_hash"));
    }
    input.events.forEach(({ event, eventHash }, index) => {
      const { eventId } = event;
      const prior = known.get(eventId);
      if (prior !== undefined) {
        fates.push(
          prior === eventHash
            ? { eventId, status: "duplicate", code: "duplicate", message: "this event was accepted before" }
            : {
                eventId,
                status: "conflict",
                code: "event_id_conflict",
                message: "an event with this id and other content was accepted before",
              },
        );
        return;
      }
      const outcome = evaluate(event, view);
      if (!outcome.accepted) {
        fates.push({ eventId, status: "rejected", code: outcome.code, message: outcome.message });
        return;
      }
      const { effects } = outcome;
      for (const marker of effects.markers) {
        markerRows.push(marker);
        markers.add(marker);
      }
      for (const counter of effects.counters)
        q(
          "INSERT INTO counters (site_id, counter, n) VALUES (?, ?, 1) ON CONFLICT (site_id, counter) DO UPDATE SET n = n + 1",
        ).run(siteId, counter);
      if (effects.post) {
        q("INSERT INTO posts (site_id, post_id, author, word_count) VALUES (?, ?, ?, ?)").run(
          siteId,
          effects.post.postId,
          effects.post.author,
          effects.post.wordCount,
        );
        postCache.delete(effects.post.postId);
      }
      if (effects.comment)
        q("INSERT INTO comments (site_id, comment_id, author, post_id) VALUES (?, ?, ?, ?)").run(
          siteId,
          effects.comment.commentId,
          effects.comment.author,
          effects.comment.postId,
        );
      const reserve = new Map<string, { mints: bigint; burns: bigint }>();
      for (const action of outcome.actions) {
        const key = action.account.toLowerCase();
        const amount = price(action);
        const entry = reserve.get(key) ?? { mints: 0n, burns: 0n };
        if (action.kind < FIRST_BURN_KIND) entry.mints += amount;
        else entry.burns += amount;
        reserve.set(key, entry);
        const total = deltas.get(key) ?? { mints: 0n, burns: 0n };
        if (action.kind < FIRST_BURN_KIND) total.mints += amount;
        else total.burns += amount;
        deltas.set(key, total);
      }
      const reservations = [...reserve].map(([account, { mints, burns }]): Reservation => [
        account,
        mints.toString(),
        burns.toString(),
      ]);
      eventRows.push([
        siteId,
        eventId,
        eventHash,
        JSON.stringify(event),
        nonce,
        index,
        input.digest,
        packActions(outcome.actions),
        outcome.registers ? JSON.stringify([outcome.registers.postId.toString(), outcome.registers.author]) : null,
        JSON.stringify(reservations),
        input.receivedAt,
      ]);
      accepted++;
      known.set(eventId, eventHash);
      fates.push(
        outcome.notes.length > 0
          ? { eventId, status: "accepted", actions: outcome.actions.length, notes: outcome.notes }
          : { eventId, status: "accepted", actions: outcome.actions.length },
      );
    });
    insertRows(
      "markers (site_id, marker)",
      markerRows.map((marker) => [siteId, marker]),
    );
    insertRows(
      `events (site_id, event_id, event_hash, event_json, envelope_nonce, envelope_index,
             envelope_digest, actions_json, registers_json, reserve_json, received_at)`,
      eventRows,
    );
    if (accepted > 0 && !existing) {
      const hashes = new Uint8Array(input.events.length * 32);
      input.events.forEach(({ eventHash }, i) => hashes.set(hexToBytes(eventHash), i * 32));
      q(
        `INSERT INTO envelopes (site_id, nonce, events_hash, digest, signature, event_hashes, received_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(siteId, nonce, input.eventsHash, input.digest, input.signature, hashes, input.receivedAt);
    }
    return { fates, totals: deltas };
  };

  // Posts read from the database (committed, or written earlier in the open group).
  const knownPosts = new Map<string, { author: Address; wordCount: number }>();
  // What the envelopes already written in the open group reserve: the next ones' spend checks
  // count it before it reaches `pending` at COMMIT.
  let groupPending = new Map<string, Totals>();
  // Envelopes arriving within 3 ms share one transaction (one fsync); see src/storage/groupCommit.ts.
  const committer = createGroupCommitter<{ fates: EventFate[]; totals: Map<string, Totals> }>(db, {
    delayMs: 3,
    onWritten({ totals }) {
      for (const [account, { mints, burns }] of totals) {
        const entry = groupPending.get(account) ?? { mints: 0n, burns: 0n };
        groupPending.set(account, { mints: entry.mints + mints, burns: entry.burns + burns });
      }
    },
    onCommitted({ totals }) {
      for (const [account, { mints, burns }] of totals) addPending(account, mints, burns);
    },
    // The group's posts may be among those remembered: forget them all.
    onAborted: () => knownPosts.clear(),
    onGroupEnd() {
      groupPending = new Map();
    },
  });

  const store: RelayerStore = {
    async createSite(site: NewSite) {
      q("INSERT INTO sites (site_id, api_key_hash, webhook_url, webhook_secret) VALUES (?, ?, ?, ?)").run(
        site.siteId,
        site.apiKeyHash,
        site.webhookUrl,
        site.webhookSecret,
      );
    },
    async siteByApiKeyHash(apiKeyHash) {
      return siteOf(q("SELECT * FROM sites WHERE api_key_hash = ?").get(apiKeyHash));
    },
    async site(siteId) {
      return siteOf(q("SELECT * FROM sites WHERE site_id = ?").get(siteId));
    },
    async updateSiteChainState(siteId, signer, active, checkedAt) {
      q("UPDATE sites SET signer = ?, active = ?, checked_at = ? WHERE site_id = ?").run(
        signer.toLowerCase(),
        active ? 1 : 0,
        checkedAt,
        siteId,
      );
    },
    async setWebhook(siteId, url, secret) {
      q("UPDATE sites SET webhook_url = ?, webhook_secret = ? WHERE site_id = ?").run(url, secret, siteId);
    },

    async acceptEnvelope(input: EnvelopeInput, evaluate, price) {
      // Answered only once its group is committed.
      return (await committer.submit(() => acceptInTransaction(input, evaluate, price))).fates;
    },

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
        });
      }
      return out;
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
      for (const [account, total] of settled.earned) earnedCache.set(account, total);
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

    async dueDeliveries(now, limit) {
      return q(
        `SELECT d.id, d.site_id, d.event_id, d.payload, d.attempts, s.webhook_url, s.webhook_secret
         FROM webhook_deliveries d JOIN sites s ON s.site_id = d.site_id
         WHERE d.status = 'due' AND d.next_at <= ? ORDER BY d.next_at LIMIT ?`,
      )
        .all(now, limit)
        .map((row): WebhookDelivery => ({
          id: num(row, "id"),
          siteId: num(row, "site_id"),
          eventId: str(row, "event_id"),
          payload: str(row, "payload"),
          attempts: num(row, "attempts"),
          url: (row.webhook_url as string | null) ?? null,
          secret: (row.webhook_secret as string | null) ?? null,
        }));
    },
    async markDelivered(id) {
      q("UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1 WHERE id = ?").run(id);
    },
    async rescheduleDelivery(id, nextAt, error, giveUp) {
      q(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, next_at = ?, last_error = ?, status = ? WHERE id = ?",
      ).run(nextAt, error.slice(0, 500), giveUp ? "failed" : "due", id);
    },

    async ping() {
      q("SELECT 1").get();
    },
    async close() {
      // Envelopes still waiting for their group are written (and answered) first.
      if (db.isOpen) committer.flush();
      if (db.isOpen) db.close();
    },
  };
  return store;
}
