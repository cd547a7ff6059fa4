import { HttpProblem } from "../http/problem.js";
import { readingOf } from "./core/readingMeter.js";
import { sendRead } from "./sendRead.js";
import type { SiteContext } from "./siteContext.js";

/** A held read (a newcomer's, an unattested reader's) is looked at again after this, not every sweep. */
export const HELD_RECHECK_MS = 10 * 60_000;

/** What one sweep did. */
export interface SweepResult {
  /** Partial (or held full) reads sent to the relayer. */
  readonly sent: number;
  /**
   * Candidates another sender held, whose IP's reads this hour are spent (tried again next
   * sweep), or whose read is held (looked at again after HELD_RECHECK_MS).
   */
  readonly deferred: number;
}

/**
 * Sends the reads of readers who have not come back: every open meter with no beat for
 * `partialAfterMs` and at least the rules' minimum fraction of its time to read gets its
 * `post_read` with the time measured. A meter below the minimum stays open (the reader may come
 * back and finish; the rules would refuse it now). A read held for a newcomer or an unattested
 * reader is left alone for HELD_RECHECK_MS, so held reads never crowd out the others. Safe with several site processes: each read
 * is claimed in the store before it is sent, so one of them sends it. Stops at the first
 * `relayer_unreachable` (the next sweep tries again).
 *
 * @example
 * const { sent } = await sweepIdleReads(ctx, Date.now())
 */
export async function sweepIdleReads(ctx: SiteContext, now: number, limit = 100): Promise<SweepResult> {
  const idle = await ctx.store.idleMeters(now - ctx.partialAfterMs, ctx.config.policy.minReadBps, limit, now);
  let sent = 0;
  let deferred = 0;
  for (const meter of idle) {
    const article = ctx.config.articles.find((a) => a.slug === meter.slug);
    if (!article) continue;
    const read = { article, user: meter.reader, ip: meter.ip, seconds: readingOf(meter.meter).seconds, at: now };
    try {
      const outcome = await sendRead(ctx, read);
      if (outcome === "sent") sent += 1;
      else deferred += 1;
      if (outcome === "newcomer" || outcome === "unattested")
        await ctx.store.holdMeter(meter.reader, meter.slug, now + HELD_RECHECK_MS);
    } catch (error) {
      if (error instanceof HttpProblem && error.code === "relayer_unreachable") return { sent, deferred: deferred + 1 };
      throw error;
    }
  }
  return { sent, deferred };
}

/**
 * Runs `sweepIdleReads` every `ctx.sweepEveryMs` until the returned stop is called (which
 * waits for a sweep under way); a failed sweep is reported to `onError`, the next runs on time.
 *
 * @example
 * const stop = startReadSweep(ctx, console.error); … await stop()
 */
export function startReadSweep(ctx: SiteContext, onError: (error: unknown) => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= sweepIdleReads(ctx, Date.now()).then(
      () => void (running = undefined),
      (error: unknown) => {
        running = undefined;
        onError(error);
      },
    );
  }, ctx.sweepEveryMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
