import type { Router } from "express";
import type { Address } from "viem";
import { z } from "zod";
import { parseInput } from "../../http/problem.js";
import type { Article } from "../siteConfig.js";
import { sendSiteEvent } from "../sendSiteEvent.js";
import type { SiteContext } from "../siteContext.js";
import { eventIds } from "../siteStore.js";

const beatBody = z.strictObject({ visible: z.boolean(), focused: z.boolean(), active: z.boolean() });

/** Sends the reader's one `post_read` with the time the site measured (at most once per reader and post). */
async function sendRead(ctx: SiteContext, article: Article, user: Address, seconds: number): Promise<void> {
  const eventId = eventIds.read(article.slug, user);
  if (ctx.store.sent(eventId) || seconds <= 0) return;
  await sendSiteEvent(ctx.config.twei, ctx.store, {
    eventId,
    type: "post_read",
    occurredAt: Math.floor(Date.now() / 1000),
    user,
    postId: article.sitePostId,
    secondsRead: seconds,
  });
}

/**
 * Engagement heartbeats: the reading time is what the site's meter credits from them
 * (src/site/readingMeter.ts), never a figure from the browser. One `post_read` goes to the
 * relayer when the credited time reaches the time to read, or when the reader leaves.
 */
export function readingRoutes(router: Router, ctx: SiteContext): void {
  router.post("/posts/:slug/heartbeat", async (req, res) => {
    const user = ctx.sessions.require(req);
    ctx.limit(req, user);
    const article = ctx.article(req.params.slug as string);
    const beat = parseInput(beatBody, req.body, "body");
    const key = eventIds.read(article.slug, user);
    const reading = ctx.store.sent(key)
      ? (ctx.meter.peek(key) ?? { seconds: 0, secondsToRead: ctx.secondsToRead(article), complete: false })
      : ctx.meter.beat(key, ctx.secondsToRead(article), beat);
    if (reading.complete) await sendRead(ctx, article, user, reading.seconds);
    res.json({ ...reading, sent: ctx.store.sent(key) !== undefined });
  });

  router.post("/posts/:slug/leave", async (req, res) => {
    const user = ctx.sessions.require(req);
    ctx.limit(req, user);
    const article = ctx.article(req.params.slug as string);
    const reading = ctx.meter.peek(eventIds.read(article.slug, user));
    if (reading) await sendRead(ctx, article, user, reading.seconds);
    res.json({ sent: ctx.store.sent(eventIds.read(article.slug, user)) !== undefined });
  });
}
