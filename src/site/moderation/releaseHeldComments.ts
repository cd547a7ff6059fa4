import { HttpProblem } from "../../http/problem.js";
import type { TweiClient } from "../../sdk/createTweiClient.js";
import type { Article } from "../siteConfig.js";
import { sendSiteEvent } from "../sendSiteEvent.js";
import type { SiteStore } from "../store/siteStore.js";

export interface ReleaseHeldCommentsParameters {
  readonly store: SiteStore;
  readonly twei: TweiClient;
  readonly articles: readonly Article[];
  /** The moderation window (ms): a comment held longer than this goes out. */
  readonly windowMs: number;
  readonly now?: number;
  /** At most this many per call. */
  readonly limit?: number;
}

/**
 * Sends the comment_created of every comment whose moderation window has passed and that no
 * moderator hid meanwhile (a hidden comment is not `held`, so it is never sent and never earns).
 * Accepted: the comment becomes visible. Rejected by the rules: it stays hidden, and its author
 * sees why. Relayer unreachable: it stays held for the next call. Any number of site processes
 * may run this at once: the store's claim on the event id lets one send it.
 *
 * @example
 * const released = await releaseHeldComments({ store, twei, articles, windowMs: 60_000 })
 */
export async function releaseHeldComments(parameters: ReleaseHeldCommentsParameters): Promise<number> {
  const { store, twei, windowMs } = parameters;
  const now = parameters.now ?? Date.now();
  let released = 0;
  for (const comment of await store.heldComments(now - windowMs, parameters.limit ?? 50)) {
    const article = parameters.articles.find((a) => a.slug === comment.slug);
    const eventId = comment.eventId;
    if (!article || !eventId) continue;
    try {
      const sent = await sendSiteEvent(
        twei,
        store,
        {
          eventId,
          type: "comment_created",
          occurredAt: Math.floor(now / 1000),
          user: comment.author,
          postId: article.sitePostId,
          commentId: comment.commentId,
          length: [...comment.text].length,
        },
        { kind: "comment", slug: comment.slug },
      );
      // A moderator may have hidden it while it was being sent: only a still-held comment shows.
      const current = await store.comment(comment.commentId);
      if (current?.status === "held")
        await store.setCommentStatus(comment.commentId, sent.answer === "accepted" ? "visible" : "hidden");
      released += 1;
    } catch (error) {
      // Unreachable relayer or another process sending it: left held for the next round.
      if (!(error instanceof HttpProblem)) throw error;
    }
  }
  return released;
}
