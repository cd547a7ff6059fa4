import type { Address } from "viem";
import { hourWindow } from "./core/ipLimits.js";
import { relayEvent } from "./relayEvent.js";
import type { Article } from "./siteConfig.js";
import type { SiteContext } from "./siteContext.js";
import { eventIds } from "./eventIds.js";

/** A claim on a read whose sender never answered (a crashed process) may be taken over after this. */
const CLAIM_STALE_MS = 60_000;

/**
 * sent: the relayer answered (accepted or rejected); busy: another sender holds it; ip_limit:
 * the IP's reads this hour are spent; unattested: the policy requires proof of personhood and
 * the reader holds none (the read is kept and sent once they do); newcomer: the newcomer hold
 * keeps it (src/site/core/newcomerHold.ts: sent once the reader has come back on another day).
 */
export type SendReadOutcome = "sent" | "busy" | "ip_limit" | "unattested" | "newcomer";

/**
 * Sends a reader's one `post_read` on a post with the seconds the site measured: claimed in the
 * site's store first (so of several site processes, or a heartbeat and the sweep, one sends),
 * counted against the IP's reads this hour, then sent; the answer is recorded and the meter
 * closed. Held while the policy requires personhood and the reader holds no attestation, and
 * while the reader is a newcomer. Throws the 503 `relayer_unreachable` problem (the claim released, a retry is safe).
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
  // The relayer would refuse it (personhood_required): keep it until the reader is attested.
  if (ctx.personhood.required && (await ctx.personhood.of(user)) === null) return "unattested";
  if (await ctx.newcomers.of(user, at)) return "newcomer";
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
  // Refused for want of an attestation the site thought valid (revoked since, an attester the
  // relayer does not name): the meter stays open, so the read is sent again once they hold one.
  // Refused because the relayer could not read the attestations (personhood_unknown): sent again
  // by the next beat or sweep.
  if (answer.code === "personhood_required") ctx.personhood.forget(user);
  else if (answer.code !== "personhood_unknown") await store.closeMeter(user, article.slug, at);
  return "sent";
}
