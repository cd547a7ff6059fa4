import type { Logger } from "../../observability/logger.js";
import { scrubUrls } from "../../observability/logger.js";
import type { RelayerMetrics } from "../metrics.js";
import type { RelayerStore } from "../storage/relayerStore.js";
import { WEBHOOK_SIGNATURE_HEADER, signWebhook } from "./signWebhook.js";

export interface WebhookDispatcher {
  tick(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

export interface WebhookConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  /** The first retry's delay; each next one doubles, up to an hour. */
  readonly backoffMs: number;
}

/**
 * Delivers queued settlement notices to the sites' webhooks, signed with each site's secret,
 * at least once: a delivery is marked done only after a 2xx answer, and retried with
 * exponential backoff otherwise (the queue is in the database, so it survives restarts).
 *
 * @example
 * const webhooks = createWebhookDispatcher({ store, config, metrics, log }); webhooks.start()
 */
export function createWebhookDispatcher(options: {
  store: RelayerStore;
  config: WebhookConfig;
  metrics: RelayerMetrics;
  log: Logger;
}): WebhookDispatcher {
  const { store, config, metrics, log } = options;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current: Promise<void> = Promise.resolve();

  async function tick() {
    const due = await store.dueDeliveries(Date.now(), 100);
    await Promise.all(
      due.map(async (delivery) => {
        const retryAt = Date.now() + Math.min(3_600_000, config.backoffMs * 2 ** delivery.attempts);
        const giveUp = delivery.attempts + 1 >= config.maxAttempts;
        if (!delivery.url || !delivery.secret) {
          await store.rescheduleDelivery(delivery.id, retryAt, "the site has no webhook", true);
          return;
        }
        try {
          const response = await fetch(delivery.url, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              [WEBHOOK_SIGNATURE_HEADER]: signWebhook(delivery.secret, delivery.payload, Date.now()),
            },
            body: delivery.payload,
            signal: AbortSignal.timeout(config.timeoutMs),
            redirect: "error",
          });
          if (response.ok) {
            await store.markDelivered(delivery.id);
            metrics.webhooks.inc({ outcome: "delivered" });
            return;
          }
          await store.rescheduleDelivery(delivery.id, retryAt, `HTTP ${response.status}`, giveUp);
        } catch (error) {
          await store.rescheduleDelivery(
            delivery.id,
            retryAt,
            scrubUrls(error instanceof Error ? error.message : String(error)),
            giveUp,
          );
        }
        metrics.webhooks.inc({ outcome: giveUp ? "failed" : "retry" });
        log.warn(
          { siteId: delivery.siteId, eventId: delivery.eventId, attempt: delivery.attempts + 1 },
          "webhook not delivered",
        );
      }),
    );
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = tick()
        .catch((error: unknown) => log.warn({ error: String(error) }, "webhook pass failed"))
        .finally(schedule);
    }, config.intervalMs);
  };

  return {
    tick,
    start: schedule,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
