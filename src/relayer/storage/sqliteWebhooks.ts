import type { RelayerStore, WebhookDelivery } from "./relayerStore.js";
import type { SqliteDatabase } from "./sqliteDatabase.js";
import { num, str } from "./sqliteRows.js";

export type SqliteWebhooks = Pick<RelayerStore, "dueDeliveries" | "markDelivered" | "rescheduleDelivery">;

/**
 * The SQLite store's webhook outbox: deliveries due (queued when their batch settles) and
 * their outcomes.
 *
 * @example
 * const { dueDeliveries, markDelivered } = createSqliteWebhooks(database)
 */
export function createSqliteWebhooks({ q }: SqliteDatabase): SqliteWebhooks {
  return {
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
  };
}
