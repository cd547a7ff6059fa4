import { sqliteTransaction } from "../../storage/sqliteTransaction.js";
import type { AccountTotalsCache, Totals } from "./accountTotalsCache.js";
import type { EventFailure, RelayerStore, StoredEvent } from "./relayerStore.js";
import type { SqliteDatabase } from "./sqliteDatabase.js";
import { eventOf } from "./sqliteQueries.js";
import { reservationsOf, str, unpackActions, unpackEffects, type Reservation, type Row } from "./sqliteRows.js";

export type SqliteEventOutcomes = Pick<RelayerStore, "holdSite" | "releaseSite" | "failEvents" | "repriceEvents">;

/** The failure of an event on a post or comment whose own event failed. */
export const DEPENDENCY_FAILED = "dependency_failed";

/**
 * The SQLite store's events that do not (yet) go out: held while their site is deactivated,
 * failed for good when the ledger refuses them. A failure undoes what the event's acceptance
 * wrote into the rules' tables, so the rules (and an auditor replaying the settled evidence)
 * see the site's history without it.
 *
 * @example
 * const { failEvents } = createSqliteEventOutcomes(database, accounts, () => acceptance.forgetPosts())
 */
export function createSqliteEventOutcomes(
  database: SqliteDatabase,
  accounts: AccountTotalsCache,
  onPostsDeleted: () => void,
): SqliteEventOutcomes {
  const { db, q } = database;

  /** Undoes an event's effects on the rules' state; returns the post and comment it had created. */
  const undoEffects = (row: Row): { post?: string; comment?: string } => {
    const siteId = Number(row.site_id);
    const effects = unpackEffects((row.effects_json as string | null) ?? null);
    if (!effects) return {};
    for (const marker of effects.markers) q("DELETE FROM markers WHERE site_id = ? AND marker = ?").run(siteId, marker);
    for (const counter of effects.counters)
      q("UPDATE counters SET n = max(0, n - 1) WHERE site_id = ? AND counter = ?").run(siteId, counter);
    for (const [key, amount] of effects.tallies ?? []) {
      const row = q("SELECT amount FROM tallies WHERE site_id = ? AND tally = ?").get(siteId, key);
      const left = (row ? BigInt(str(row, "amount")) : 0n) - BigInt(amount);
      q("UPDATE tallies SET amount = ? WHERE site_id = ? AND tally = ?").run(
        (left > 0n ? left : 0n).toString(),
        siteId,
        key,
      );
    }
    if (effects.post !== undefined) q("DELETE FROM posts WHERE site_id = ? AND post_id = ?").run(siteId, effects.post);
    if (effects.comment !== undefined)
      q("DELETE FROM comments WHERE site_id = ? AND comment_id = ?").run(siteId, effects.comment);
    return {
      ...(effects.post !== undefined ? { post: effects.post } : {}),
      ...(effects.comment !== undefined ? { comment: effects.comment } : {}),
    };
  };

  return {
    async repriceEvents(siteId, version, price) {
      const delta = new Map<string, Totals>();
      const add = (reservations: readonly Reservation[], sign: 1n | -1n) => {
        for (const [account, minted, burned] of reservations) {
          const entry = delta.get(account) ?? { mints: 0n, burns: 0n };
          entry.mints += sign * BigInt(minted);
          entry.burns += sign * BigInt(burned);
          delta.set(account, entry);
        }
      };
      const changed = sqliteTransaction(db, () => {
        const rows = q(
          `SELECT seq, actions_json, reserve_json FROM events WHERE site_id = ? AND status = 'pending'
           AND (rule_set_version IS NULL OR rule_set_version <> ?)`,
        ).all(siteId, version);
        for (const row of rows) {
          const priced = reservationsOf(unpackActions(str(row, "actions_json")), price);
          add(JSON.parse(str(row, "reserve_json")) as Reservation[], -1n);
          add(priced, 1n);
          q("UPDATE events SET reserve_json = ?, rule_set_version = ? WHERE seq = ?").run(
            JSON.stringify(priced),
            version,
            Number(row.seq),
          );
        }
        return rows.length;
      });
      for (const [account, { mints, burns }] of delta) accounts.addPending(account, mints, burns);
      return changed;
    },
    async holdSite(siteId) {
      const changed = q("UPDATE events SET status = 'held' WHERE site_id = ? AND status = 'pending'").run(siteId);
      return Number(changed.changes);
    },
    async releaseSite(siteId) {
      const changed = q("UPDATE events SET status = 'pending' WHERE site_id = ? AND status = 'held'").run(siteId);
      return Number(changed.changes);
    },
    async failEvents(siteId, failures, notice) {
      const released = new Map<string, Totals>();
      let postsDeleted = false;
      const failed = sqliteTransaction(db, () => {
        const out: { event: StoredEvent; failure: EventFailure }[] = [];
        const fail = (row: Row, failure: EventFailure) => {
          const changed = q(
            `UPDATE events SET status = 'failed', failure_code = ?, failure_message = ?
             WHERE seq = ? AND status IN ('pending', 'held')`,
          ).run(failure.code, failure.message, Number(row.seq));
          if (Number(changed.changes) !== 1) return;
          for (const [account, minted, burned] of JSON.parse(str(row, "reserve_json")) as Reservation[]) {
            const entry = released.get(account) ?? { mints: 0n, burns: 0n };
            entry.mints += BigInt(minted);
            entry.burns += BigInt(burned);
            released.set(account, entry);
          }
          const event = eventOf({
            ...row,
            status: "failed",
            failure_code: failure.code,
            failure_message: failure.message,
          });
          out.push({ event, failure });
          const payload = notice(event, failure);
          if (payload !== null)
            q("INSERT INTO webhook_deliveries (site_id, event_id, payload, next_at) VALUES (?, ?, ?, ?)").run(
              siteId,
              event.eventId,
              payload,
              Date.now(),
            );
          const created = undoEffects(row);
          // What was said on a post or comment that never came to be cannot settle either.
          const dependents = (field: "postId" | "commentId", id: string, what: string) => {
            for (const dependent of q(
              `SELECT * FROM events WHERE site_id = ? AND status IN ('pending', 'held')
               AND json_extract(event_json, '$.${field}') = ? ORDER BY seq`,
            ).all(siteId, id))
              fail(dependent, {
                code: DEPENDENCY_FAILED,
                message: `${what} failed (event ${event.eventId}: ${failure.code}), so this event cannot settle`,
              });
          };
          if (created.post !== undefined) {
            postsDeleted = true;
            dependents("postId", created.post, `the publication of post ${created.post}`);
          }
          if (created.comment !== undefined) dependents("commentId", created.comment, `comment ${created.comment}`);
        };
        for (const { seq, code, message } of failures) {
          const row = q("SELECT * FROM events WHERE seq = ? AND site_id = ?").get(seq, siteId);
          if (row) fail(row, { code, message });
        }
        return out;
      });
      for (const [account, { mints, burns }] of released) accounts.addPending(account, -mints, -burns);
      if (postsDeleted) onPostsDeleted();
      return failed;
    },
  };
}
