import type { Router } from "express";
import type { Address } from "viem";
import { z } from "zod";
import { HttpProblem, parseInput } from "../../http/problem.js";
import type { Article } from "../siteConfig.js";
import { sendSiteEvent } from "../sendSiteEvent.js";
import type { SiteContext } from "../siteContext.js";
import { eventIds } from "../eventIds.js";

const beatBody = z.strictObject({ visible: z.boolean(), focused: z.boolean(), active: z.boolean() });

/** Sends the reader's one `post_read` with the time the site measured (at most once per reader and post). */
async function sendRead(ctx: SiteContext, article: Article, user: Address, seconds: number): Promise<void> {
  const eventId = eventIds.read(article.slug, user);
  if (seconds <= 0 || (await ctx.store.sentEvent(eventId))) return;
  // A heartbeat that comes while an earlier one is still sending the read has nothing to do.
  await sendSiteEvent(
    ctx.config.twei,
    ctx.store,
    {
      eventId,
      type: "post_read",
      occurredAt: Math.floor(Date.now() / 1000),
      user,
      postId: article.sitePostId,
      secondsRead: seconds,
    },
    { kind: "read", slug: article.slug },
  ).catch((error: unknown) => {
    if (!(error instanceof HttpProblem && error.code === "event_in_flight")) throw error;
  });
}

/**
 * Engagement heartbeats: the reading time is what the site's meter credits from them
 * (src/site/readingMeter.ts), never a figure from the browser. One `post_read` goes to the
 * relayer when the credited time reaches the time to read, or when the reader leaves.
 */
export function readingRoutes(router: Router, ctx: SiteContext): void {
  router.post("/posts/:slug/heartbeat", async (req, res) => {
    const user = await ctx.sessions.require(req);
    ctx.limit(req, user);
    const article = ctx.article(req.params.slug as string);
    const beat = parseInput(beatBody, req.body, "body");
    const key = eventIds.read(article.slug, user);
    const reading = (await ctx.store.sentEvent(key))
      ? ((await ctx.meter.peek(user, article.slug)) ?? {
          seconds: 0,
          secondsToRead: ctx.secondsToRead(article),
          complete: false,
        })
      : await ctx.meter.beat(user, article.slug, ctx.secondsToRead(article), beat);
    if (reading.complete) await sendRead(ctx, article, user, reading.seconds);
    res.json({ ...reading, sent: (await ctx.store.sentEvent(key)) !== undefined });
  });

  router.post("/posts/:slug/leave", async (req, res) => {
    const user = await ctx.sessions.require(req);
    ctx.limit(req, user);
    const article = ctx.article(req.params.slug as string);
    const reading = await ctx.meter.peek(user, article.slug);
    if (reading) await sendRead(ctx, article, user, reading.seconds);
    res.json({ sent: (await ctx.store.sentEvent(eventIds.read(article.slug, user))) !== undefined });
  });
}
