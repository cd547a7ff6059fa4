import { hexToBytes, type Address } from "viem";
import { postIdFor } from "../../core/postId.js";
import { markersOf } from "../../rules/rulesState.js";
import { createGroupCommitter } from "../../storage/groupCommit.js";
import type { AccountTotalsCache, Totals } from "./accountTotalsCache.js";
import {
  NonceReusedError,
  type EnvelopeInput,
  type EventFate,
  type RelayerStore,
  type StoreRulesView,
} from "./relayerStore.js";
import { chainPostIdKey, type SqliteDatabase } from "./sqliteDatabase.js";
import { num, packActions, packEffects, priorFate, reservationsOf, str } from "./sqliteRows.js";

export type SqliteAcceptance = Pick<RelayerStore, "acceptEnvelope"> & {
  /** Writes (and answers) the envelopes still waiting for their group. */
  flush(): void;
  /** Forgets the posts remembered across requests (some were deleted). */
  forgetPosts(): void;
};

/**
 * The SQLite store's hot path: envelopes accepted in group commits, with the rules reading
 * the store meanwhile.
 *
 * @example
 * const { acceptEnvelope, flush } = createSqliteAcceptance(database, accounts)
 */
export function createSqliteAcceptance(database: SqliteDatabase, accounts: AccountTotalsCache): SqliteAcceptance {
  const { db, q } = database;
  const { pending, addPending, earnedOf } = accounts;

  /** Inserts rows into `table (columns)`, up to 100 rows a statement (prepared once per size). */
  const insertRows = (table: string, rows: readonly (readonly (string | number | null)[])[]): void => {
    for (let i = 0; i < rows.length; i += 100) {
      const chunk = rows.slice(i, i + 100);
      const placeholders = `(${chunk[0]!.map(() => "?").join(", ")})`;
      q(`INSERT INTO ${table} VALUES ${chunk.map(() => placeholders).join(", ")}`).run(...chunk.flat());
    }
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
      tally(key) {
        const row = q("SELECT amount FROM tallies WHERE site_id = ? AND tally = ?").get(siteId, key);
        return row ? BigInt(str(row, "amount")) : 0n;
      },
      earned: (account) => earnedOf(account.toLowerCase()),
      postIdTaken(chainPostId, postSiteId, postId) {
        const row = q("SELECT site_id, post_id FROM posts WHERE chain_post_id = ?").get(chainPostIdKey(chainPostId));
        return row !== undefined && !(num(row, "site_id") === postSiteId && str(row, "post_id") === postId);
      },
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
        fates.push(priorFate(eventId, prior, eventHash));
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
      // Amounts overflow SQLite's integers: summed here, inside the transaction that reads them.
      for (const { key, amount } of effects.tallies ?? [])
        q(
          "INSERT INTO tallies (site_id, tally, amount) VALUES (?, ?, ?) ON CONFLICT (site_id, tally) DO UPDATE SET amount = excluded.amount",
        ).run(siteId, key, (view.tally(key) + amount).toString());
      if (effects.post) {
        q("INSERT INTO posts (site_id, post_id, author, word_count, chain_post_id) VALUES (?, ?, ?, ?, ?)").run(
          siteId,
          effects.post.postId,
          effects.post.author,
          effects.post.wordCount,
          chainPostIdKey(postIdFor(siteId, effects.post.postId)),
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
      const reservations = reservationsOf(outcome.actions, price);
      for (const [account, minted, burned] of reservations) {
        const total = deltas.get(account) ?? { mints: 0n, burns: 0n };
        total.mints += BigInt(minted);
        total.burns += BigInt(burned);
        deltas.set(account, total);
      }
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
        packEffects(effects),
        input.receivedAt,
        input.ruleSetVersion,
        outcome.attestation ?? null,
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
             envelope_digest, actions_json, registers_json, reserve_json, effects_json, received_at, rule_set_version, attestation)`,
      eventRows,
    );
    if (accepted > 0 && !existing) {
      const hashes = new Uint8Array(input.events.length * 32);
      input.events.forEach(({ eventHash }, i) => hashes.set(hexToBytes(eventHash), i * 32));
      q(
        `INSERT INTO envelopes (site_id, nonce, events_hash, digest, signature, event_hashes, received_at, accepted_block)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        siteId,
        nonce,
        input.eventsHash,
        input.digest,
        input.signature,
        hashes,
        input.receivedAt,
        input.acceptedAtBlock.toString(),
      );
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

  return {
    async acceptEnvelope(input: EnvelopeInput, evaluate, price) {
      // Answered only once its group is committed.
      return (await committer.submit(() => acceptInTransaction(input, evaluate, price))).fates;
    },
    flush: () => committer.flush(),
    forgetPosts: () => knownPosts.clear(),
  };
}
