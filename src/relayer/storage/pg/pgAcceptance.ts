import type pg from "pg";
import { hexToBytes, type Address } from "viem";
import { postIdFor } from "../../../core/postId.js";
import { utcDayOf } from "../../../rules/policy.js";
import { countersOf, markersOf } from "../../../rules/rulesState.js";
import { createPgGroupCommitter } from "../../../storage/pgGroupCommit.js";
import {
  NonceReusedError,
  type EnvelopeInput,
  type EventFate,
  type RelayerStore,
  type StoreRulesView,
} from "../relayerStore.js";
import { chainPostIdKey } from "../sqliteDatabase.js";
import { packActions, packEffects, priorFate, reservationsOf } from "../sqliteRows.js";
import { accountLockKey, siteLockKey } from "./pgSchema.js";

/** Event types whose user may be charged a burn: their pending burns are read (and locked). */
const FREE_TYPES = new Set(["post_read", "post_plus"]);

// Everything the rules may ask of the store for one envelope, in one round trip. Event ids and
// markers are probed one index lookup each (LATERAL ... LIMIT 1 keeps the planner from flattening
// it into a join): on a table that grew faster than autovacuum analyses it, `= ANY(array)` and a
// plain join were planned as a scan of the whole site, 12 ms per envelope at 23k events.
// The accounts an envelope's events may pay (their users, the posts' and comments' authors): the
// rules ask for their levels and what they earned on the events' days.
const READ_SQL = `
WITH earners AS (SELECT unnest($8::text[]) AS account
  UNION SELECT author FROM posts WHERE site_id = $1 AND post_id = ANY($5::text[])
  UNION SELECT author FROM comments WHERE site_id = $1 AND comment_id = ANY($6::text[]))
SELECT 'env' AS k, events_hash AS a, NULL AS b FROM envelopes WHERE site_id = $1 AND nonce = $2
UNION ALL SELECT 'ev', e.event_id, e.event_hash FROM unnest($3::text[]) AS q(id)
  CROSS JOIN LATERAL (SELECT event_id, event_hash FROM events WHERE site_id = $1 AND event_id = q.id LIMIT 1) e
UNION ALL SELECT 'mk', m.marker, NULL FROM unnest($4::text[]) AS q(id)
  CROSS JOIN LATERAL (SELECT marker FROM markers WHERE site_id = $1 AND marker = q.id LIMIT 1) m
UNION ALL SELECT 'po', post_id, author || ':' || word_count FROM posts WHERE site_id = $1 AND post_id = ANY($5::text[])
UNION ALL SELECT 'co', comment_id, author || ':' || post_id FROM comments WHERE site_id = $1 AND comment_id = ANY($6::text[])
UNION ALL SELECT 'ct', counter, n::text FROM counters WHERE site_id = $1 AND counter = ANY($7::text[])
UNION ALL SELECT 'ea', account, earned::text FROM accounts WHERE account IN (SELECT account FROM earners)
UNION ALL SELECT 'tl', tally, amount::text FROM tallies WHERE site_id = $1
  AND tally IN (SELECT 'earn:' || d || ':' || account FROM earners CROSS JOIN unnest($12::int[]) AS d)
UNION ALL SELECT 'pb', account, sum(burns)::text FROM reservations
  WHERE account = ANY($9::text[]) AND (released_block IS NULL OR released_block > $10::bigint) GROUP BY account
UNION ALL SELECT 'pt', chain_post_id, site_id || ':' || post_id FROM posts WHERE chain_post_id = ANY($11::text[])`;

// Everything one envelope writes, in one statement (data-modifying CTEs all run to completion).
const WRITE_SQL = `
WITH
m AS (INSERT INTO markers (site_id, marker) SELECT $1, unnest($2::text[])),
t AS (INSERT INTO tallies (site_id, tally, amount) SELECT $1, k, sum(v) FROM unnest($32::text[], $33::numeric[]) AS x(k, v)
      GROUP BY k ON CONFLICT (site_id, tally) DO UPDATE SET amount = tallies.amount + excluded.amount),
c AS (INSERT INTO counters (site_id, counter, n) SELECT $1, k, count(*) FROM unnest($3::text[]) AS k GROUP BY k
      ON CONFLICT (site_id, counter) DO UPDATE SET n = counters.n + excluded.n),
p AS (INSERT INTO posts (site_id, post_id, author, word_count, chain_post_id)
      SELECT $1, * FROM unnest($4::text[], $5::text[], $6::int[], $7::text[])),
co AS (INSERT INTO comments (site_id, comment_id, author, post_id) SELECT $1, * FROM unnest($8::text[], $9::text[], $10::text[])),
e AS (INSERT INTO events (site_id, event_id, event_hash, event_json, envelope_index, actions_json, registers_json,
        reserve_json, effects_json, attestation, envelope_nonce, envelope_digest, received_at, rule_set_version)
      SELECT $1, x.*, $19, $20, $21, $31 FROM unnest($11::text[], $12::text[], $13::text[], $14::int[], $15::text[], $16::text[],
        $17::text[], $18::text[], $34::text[]) AS x
      RETURNING seq, event_id),
r AS (INSERT INTO reservations (seq, account, mints, burns)
      SELECT e.seq, y.account, y.mints, y.burns FROM unnest($22::text[], $23::text[], $24::numeric[], $25::numeric[])
        AS y(event_id, account, mints, burns) JOIN e USING (event_id)),
n AS (INSERT INTO envelopes (site_id, nonce, events_hash, digest, signature, event_hashes, received_at, accepted_block)
      SELECT $1, $19, $26, $20, $27, $28, $21, $29 WHERE $30::boolean)
SELECT count(*) AS n FROM e`;

type Fates = EventFate[];

/**
 * The PostgreSQL store's hot path. Each envelope runs under transaction-scoped advisory locks on
 * its site (once-per markers, counters, posts, nonces, event ids) and on the accounts it may
 * charge (their reservations), taken by the group in one sorted pass: so two instances never
 * decide from the same snapshot, and a spend check always counts every reservation committed
 * before it. Envelopes arriving together share one transaction (group commit, savepoints).
 *
 * @example
 * const { acceptEnvelope } = createPgAcceptance(pool)
 */
export function createPgAcceptance(pool: pg.Pool): Pick<RelayerStore, "acceptEnvelope"> & { flush(): Promise<void> } {
  const committer = createPgGroupCommitter<Fates>(pool, { delayMs: 2, maxJobs: 64 });

  const acceptIn = async (
    client: pg.PoolClient,
    input: EnvelopeInput,
    evaluate: Parameters<RelayerStore["acceptEnvelope"]>[1],
    price: Parameters<RelayerStore["acceptEnvelope"]>[2],
    spenders: readonly string[],
  ): Promise<Fates> => {
    const { siteId } = input;
    const nonce = input.nonce.toString();
    const events = input.events.map(({ event }) => event);
    const postIds = [...new Set(events.map((e) => e.postId))];
    const commentIds = [...new Set(events.flatMap((e) => ("commentId" in e ? [e.commentId] : [])))];
    // Every counter the rules may read (the daily budgets, the comment reward counts).
    const counters = [...new Set(events.flatMap((e) => countersOf(e)))];
    const published = events.filter((e) => e.type === "post_published").map((e) => e.postId);
    const chainIds = [...new Set(published.map((postId) => chainPostIdKey(postIdFor(siteId, postId))))];
    const read = await client.query<{ k: string; a: string; b: string | null }>(READ_SQL, [
      siteId,
      nonce,
      [...new Set(events.map((e) => e.eventId))],
      [...new Set(events.flatMap((e) => markersOf(e)))],
      postIds,
      commentIds,
      counters,
      [...new Set(events.map((e) => e.user.toLowerCase()))],
      spenders,
      (input.fundsBlock ?? 0n).toString(),
      chainIds,
      [...new Set(events.map((e) => utcDayOf(e.occurredAt)))],
    ]);
    let existing: string | undefined;
    const known = new Map<string, string>();
    const markers = new Set<string>();
    const posts = new Map<string, { author: Address; wordCount: number }>();
    const comments = new Map<string, { author: Address; postId: string }>();
    const counts = new Map<string, number>();
    const tallies = new Map<string, bigint>();
    const earned = new Map<string, bigint>();
    const burns = new Map<string, bigint>();
    const chainOwners = new Map<string, string>();
    const split = (value: string | null): [string, string] => {
      const at = (value ?? "").indexOf(":");
      return [(value ?? "").slice(0, at), (value ?? "").slice(at + 1)];
    };
    for (const { k, a, b } of read.rows) {
      if (k === "env") existing = a;
      else if (k === "ev") known.set(a, b ?? "");
      else if (k === "mk") markers.add(a);
      else if (k === "po") {
        const [author, words] = split(b);
        posts.set(a, { author: author as Address, wordCount: Number(words) });
      } else if (k === "co") {
        const [author, postId] = split(b);
        comments.set(a, { author: author as Address, postId });
      } else if (k === "ct") counts.set(a, Number(b));
      else if (k === "tl") tallies.set(a, BigInt(b ?? "0"));
      else if (k === "ea") earned.set(a, BigInt(b ?? "0"));
      else if (k === "pb") burns.set(a, BigInt(b ?? "0"));
      else if (k === "pt") chainOwners.set(a, b ?? "");
    }
    if (existing !== undefined && existing !== input.eventsHash)
      throw new NonceReusedError(`site ${siteId} used nonce ${nonce} for other events`);
    const spending = new Set(spenders);

    const view: StoreRulesView = {
      post: (postId) => posts.get(postId),
      comment: (commentId) => comments.get(commentId),
      has: (marker) => markers.has(marker),
      count: (counter) => counts.get(counter) ?? 0,
      tally: (key) => tallies.get(key) ?? 0n,
      earned: (account) => earned.get(account.toLowerCase()) ?? 0n,
      pendingBurns(account) {
        const key = account.toLowerCase();
        // Only the accounts locked for this envelope are read: another's figure could move meanwhile.
        if (!spending.has(key)) throw new Error(`the store did not lock ${key}'s reservations for this envelope`);
        return burns.get(key) ?? 0n;
      },
      postIdTaken(chainPostId, postSiteId, postId) {
        const owner = chainOwners.get(chainPostIdKey(chainPostId));
        return owner !== undefined && owner !== `${postSiteId}:${postId}`;
      },
    };

    const fates: Fates = [];
    const w = {
      markers: [] as string[],
      counters: [] as string[],
      tallies: [[], []] as [string[], string[]],
      posts: [[], [], [], []] as [string[], string[], number[], string[]],
      comments: [[], [], []] as [string[], string[], string[]],
      events: [[], [], [], [], [], [], [], []] as [
        string[],
        string[],
        string[],
        number[],
        string[],
        (string | null)[],
        string[],
        string[],
      ],
      reservations: [[], [], [], []] as [string[], string[], string[], string[]],
      attestations: [] as (string | null)[],
    };
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
        w.markers.push(marker);
        markers.add(marker);
      }
      for (const counter of effects.counters) {
        w.counters.push(counter);
        counts.set(counter, (counts.get(counter) ?? 0) + 1);
      }
      for (const { key, amount } of effects.tallies ?? []) {
        w.tallies[0].push(key);
        w.tallies[1].push(amount.toString());
        tallies.set(key, (tallies.get(key) ?? 0n) + amount);
      }
      if (effects.post) {
        const chainId = chainPostIdKey(postIdFor(siteId, effects.post.postId));
        w.posts[0].push(effects.post.postId);
        w.posts[1].push(effects.post.author);
        w.posts[2].push(effects.post.wordCount);
        w.posts[3].push(chainId);
        posts.set(effects.post.postId, { author: effects.post.author, wordCount: effects.post.wordCount });
        chainOwners.set(chainId, `${siteId}:${effects.post.postId}`);
      }
      if (effects.comment) {
        w.comments[0].push(effects.comment.commentId);
        w.comments[1].push(effects.comment.author);
        w.comments[2].push(effects.comment.postId);
        comments.set(effects.comment.commentId, { author: effects.comment.author, postId: effects.comment.postId });
      }
      const reservations = reservationsOf(outcome.actions, price);
      for (const [account, mints, burned] of reservations) {
        if (burned !== "0") burns.set(account, (burns.get(account) ?? 0n) + BigInt(burned));
        if (mints === "0" && burned === "0") continue;
        w.reservations[0].push(eventId);
        w.reservations[1].push(account);
        w.reservations[2].push(mints);
        w.reservations[3].push(burned);
      }
      const row = w.events;
      row[0].push(eventId);
      row[1].push(eventHash);
      row[2].push(JSON.stringify(event));
      row[3].push(index);
      row[4].push(packActions(outcome.actions));
      row[5].push(
        outcome.registers ? JSON.stringify([outcome.registers.postId.toString(), outcome.registers.author]) : null,
      );
      row[6].push(JSON.stringify(reservations));
      row[7].push(packEffects(effects));
      w.attestations.push(outcome.attestation ?? null);
      known.set(eventId, eventHash);
      fates.push(
        outcome.notes.length > 0
          ? { eventId, status: "accepted", actions: outcome.actions.length, notes: outcome.notes }
          : { eventId, status: "accepted", actions: outcome.actions.length },
      );
    });
    const accepted = w.events[0].length;
    if (accepted === 0) return fates;
    const hashes = new Uint8Array(input.events.length * 32);
    input.events.forEach(({ eventHash }, i) => hashes.set(hexToBytes(eventHash), i * 32));
    await client.query(WRITE_SQL, [
      siteId,
      w.markers,
      w.counters,
      ...w.posts,
      ...w.comments,
      ...w.events,
      nonce,
      input.digest,
      input.receivedAt,
      ...w.reservations,
      input.eventsHash,
      input.signature,
      Buffer.from(hashes),
      input.acceptedAtBlock.toString(),
      existing === undefined,
      input.ruleSetVersion,
      ...w.tallies,
      w.attestations,
    ]);
    return fates;
  };

  return {
    async acceptEnvelope(input, evaluate, price) {
      const spenders = [
        ...new Set(input.events.filter(({ event }) => !FREE_TYPES.has(event.type)).map(({ event }) => event.user)),
      ].map((user) => user.toLowerCase());
      const locks = [siteLockKey(input.siteId), ...spenders.map(accountLockKey)];
      return committer.submit(locks, (client) => acceptIn(client, input, evaluate, price, spenders));
    },
    flush: () => committer.flush(),
  };
}
