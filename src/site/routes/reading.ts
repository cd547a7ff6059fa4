import type { Router } from "express";
import { z } from "zod";
import { parseInput } from "../../http/problem.js";
import { hourWindow, meterRoomOnIp, runningSince } from "../core/ipLimits.js";
import { applyReaderBeat, readingOf } from "../core/readingMeter.js";
import { eventIds } from "../eventIds.js";
import { ipLimitProblem } from "../ipLimitProblem.js";
import { sendRead } from "../sendRead.js";
import type { SiteContext } from "../siteContext.js";

const beatBody = z.strictObject({ visible: z.boolean(), focused: z.boolean(), active: z.boolean() });

/**
 * Engagement heartbeats: the reading time is what the site's meter credits from them
 * (src/site/core/readingMeter.ts), never a figure from the browser. The meter of a reader on a
 * post lives in the site's store and resumes on any later visit; the reader's one clock keeps
 * two tabs or devices from earning at once. One `post_read` goes to the relayer when the
 * credited time reaches the time to read (a reader who does not come back gets the time
 * measured, sent by the sweep: src/site/sweepIdleReads.ts). Refusals of the per-IP limits:
 * 429 `ip_meter_limit` (too many readers on the IP at once; the beat credits nothing) and
 * `ip_read_limit` (the IP's reads this hour are spent; the read is kept and sent later). A
 * complete read of a reader without the proof of personhood the policy requires is kept and
 * answered `held: "personhood_required"` (sent once they hold one); a newcomer's (the newcomer
 * hold, src/site/core/newcomerHold.ts) `held: "newcomer_hold"` (sent once they come back on
 * another day).
 */
export function readingRoutes(router: Router, ctx: SiteContext): void {
  router.post("/posts/:slug/heartbeat", async (req, res) => {
    const user = await ctx.sessions.require(req);
    ctx.limit(req, user);
    const article = ctx.article(req.params.slug as string);
    const beat = parseInput(beatBody, req.body, "body");
    const ip = req.ip ?? "?";
    const at = Date.now();
    const toRead = ctx.secondsToRead(article);
    let crowded = false;
    const result = await ctx.store.beat(
      { reader: user, slug: article.slug, ip, at, runningSince: runningSince(at, ctx.heartbeatMs) },
      (view) => {
        if (meterRoomOnIp(view.othersRunningOnIp, ctx.ipLimits))
          return applyReaderBeat(view, article.slug, beat, at, toRead, ctx.meterOptions);
        crowded = true;
        return undefined;
      },
    );
    if (crowded) throw ipLimitProblem.meters((3 * ctx.heartbeatMs) / 1000);
    const reading = result.meter ? readingOf(result.meter) : { seconds: 0, secondsToRead: toRead, complete: false };
    // The days a reader's meter credits time on are what lifts the newcomer hold.
    if (reading.seconds > 0 && !result.closed) await ctx.newcomers.noteReading(user, at);
    let held: string | undefined;
    if (reading.complete && !result.closed) {
      const outcome = await sendRead(ctx, { article, user, ip, seconds: reading.seconds, at });
      if (outcome === "ip_limit") throw ipLimitProblem.reads((hourWindow(at) + 3_600_000 - at) / 1000);
      if (outcome === "unattested") held = "personhood_required";
      if (outcome === "newcomer") held = "newcomer_hold";
    }
    const sent = await ctx.store.sentEvent(eventIds.read(article.slug, user));
    // A read refused while the relayer could not read the reader's attestations is sent again by
    // a later beat: not sent yet, for the widget.
    const retried = sent?.answer === "rejected" && sent.code === "personhood_unknown";
    // held: the read is complete and kept until the reader holds proof of personhood, or comes back another day.
    res.json({ ...reading, sent: sent !== undefined && !retried, ...(held ? { held } : {}) });
  });
}
