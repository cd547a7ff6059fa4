import type { Address } from "viem";
import type { SiteEventInput } from "../../../src/evidence/siteEvent.js";

/** A publication of `postId` by `user` (100 words). */
export const publishEvent = (eventId: string, user: Address, postId: string): SiteEventInput => ({
  eventId,
  type: "post_published",
  occurredAt: 1,
  user,
  postId,
  wordCount: 100,
});

/** A full read of `postId` by `user` (10,000 basis points: one Read-to-Earn unit's whole amount). */
export const readEvent = (eventId: string, user: Address, postId: string): SiteEventInput => ({
  eventId,
  type: "post_read",
  occurredAt: 2,
  user,
  postId,
  secondsRead: 10_000,
});
