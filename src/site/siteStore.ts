import type { Address } from "viem";
import type { SeedComment } from "./siteConfig.js";

/** What the site sent for one user action, and what the relayer answered. */
export interface SentEvent {
  readonly eventId: string;
  readonly sentAt: number;
  /** `accepted` (then settlement is asked of the relayer), or `rejected` with the rules' code. */
  readonly answer: "accepted" | "rejected";
  /** plus or minus, like or dislike. */
  readonly detail?: string;
  readonly code?: string;
  readonly message?: string;
}

export interface SiteComment {
  readonly commentId: string;
  readonly slug: string;
  readonly author: Address;
  readonly text: string;
  readonly createdAt: number;
  likes: number;
  dislikes: number;
  /** The comment_created event, or undefined for comments the site started with. */
  eventId?: string;
  notes?: readonly string[];
}

/**
 * The demo site's own state, in memory: its comments, and the events it sent per user. A real
 * site keeps these in its database; the relayer and the chain hold everything about Twei.
 */
export function createSiteStore(seed: readonly SeedComment[] = []) {
  // The comments the site starts with were written before it started: a minute apart, the last a minute ago.
  const startedAt = Date.now();
  const comments: SiteComment[] = seed.map((c, i) => ({
    commentId: c.commentId,
    slug: c.slug,
    author: c.author,
    text: c.text,
    createdAt: startedAt - (seed.length - i) * 60_000,
    likes: c.likes ?? 0,
    dislikes: c.dislikes ?? 0,
  }));
  const sent = new Map<string, SentEvent>();
  let counter = 0;
  return {
    comments: (slug: string) => comments.filter((c) => c.slug === slug),
    comment: (commentId: string) => comments.find((c) => c.commentId === commentId),
    addComment(comment: SiteComment) {
      comments.push(comment);
    },
    sent: (eventId: string) => sent.get(eventId),
    record(event: SentEvent) {
      sent.set(event.eventId, event);
    },
    /** Events whose id starts with `prefix`, oldest first. */
    sentWithPrefix: (prefix: string) => [...sent.values()].filter((e) => e.eventId.startsWith(prefix)),
    nextId: () => (++counter).toString(36),
  };
}

export type SiteStore = ReturnType<typeof createSiteStore>;

/** The event ids the site uses: one per user action, so a retry is a duplicate, never a second payment. */
export const eventIds = {
  read: (slug: string, user: Address) => `read:${slug}:${user}`,
  vote: (slug: string, user: Address) => `vote:${slug}:${user}`,
  comment: (commentId: string) => `comment:${commentId}`,
  reaction: (commentId: string, user: Address) => `react:${commentId}:${user}`,
  report: (slug: string, user: Address, n: string) => `report:${slug}:${user}:${n}`,
};
