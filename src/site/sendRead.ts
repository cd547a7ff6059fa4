import type { Address } from "viem";
import { hourWindow } from "./core/ipLimits.js";
import { relayEvent } from "./relayEvent.js";
import type { Article } from "./siteConfig.js";
import type { SiteContext } from "./siteContext.js";
import { eventIds } from "./eventIds.js";

/** A claim on a read whose sender never answered (a crashed process) may be taken over after this. */
const CLAIM_STALE_MS = 60_000;

/** sent: the relayer answered (accepted or rejected); busy: another sender holds it; ip_limit: the IP's reads this hour are spent. */
export type SendReadOutcome = "sent" | "busy" | "ip_limit";

/**
 * Sends a reader's one `post_read` on a post with the seconds the site measured: claimed in the
 * site's store first (so of several site processes, or a heartbeat and the sweep, one sends),
 * counted against the IP's reads this hour, then sent; the answer is recorded and the meter
 * closed. Throws the 503 `relayer_unreachable` problem (the claim released, a retry is safe).
 *
 * @example
 * await sendRead(ctx, { article, user, ip: req.ip, seconds: 64, at: Date.now() })
 */
export async function sendRead(
  ctx: SiteContext,
  read: { article: Article; user: Address; ip: string; seconds: number; at: number },
): Promise<SendReadOutcome> {
  const { article, user, at } = read;
  const store = ctx.store;
  const eventId = eventIds.read(article.slug, user);
  const claim = { eventId, user, kind: "read" as const, slug: article.slug, claimedAt: at };
  if (!(await store.claimEvent(claim, at - CLAIM_STALE_MS))) return "busy";
  if (!(await store.takeIpAllowance(read.ip, "read", hourWindow(at), ctx.ipLimits.readsPerHour))) {
    await store.releaseClaim(eventId);
    return "ip_limit";
  }
  let answer;
  try {
    answer = await relayEvent(ctx.config.twei, {
      eventId,
      type: "post_read",
      occurredAt: Math.floor(at / 1000),
      user,
      postId: article.sitePostId,
      secondsRead: read.seconds,
    });
  } catch (error) {
    await store.releaseClaim(eventId);
    throw error;
  }
  await store.recordAnswer(eventId, { ...answer, sentAt: Date.now() });
  await store.closeMeter(user, article.slug, at);
  return "sent";
}
