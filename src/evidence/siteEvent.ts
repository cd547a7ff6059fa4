import { z } from "zod";

/**
 * The site event schema: what a site reports, never an amount. Version 1. Addresses are
 * carried lowercase so the canonical encoding has one spelling of each; the API accepts any
 * case and lowercases them.
 */
export const SITE_EVENT_SCHEMA_VERSION = 1;

/** Event types and their codes in the canonical encoding (never renumber: evidence depends on them). */
export const EVENT_TYPE_CODES = {
  post_published: 1,
  post_read: 2,
  post_plus: 3,
  post_minus: 4,
  comment_created: 5,
  comment_liked: 6,
  comment_disliked: 7,
  report_purchased: 8,
} as const;

export type SiteEventType = keyof typeof EVENT_TYPE_CODES;
export const SITE_EVENT_TYPES = Object.keys(EVENT_TYPE_CODES) as SiteEventType[];

/** A site-chosen identifier: the event id (idempotency key), a post id or a comment id. */
const siteId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:/@-]+$/, "letters, digits and . _ : / @ - only");

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "not a 20-byte hex address")
  .transform((value) => value.toLowerCase() as `0x${string}`);

/** Unix seconds, as the site's clock saw it (an input to the rules; the relayer has no clock of its own in them). */
const occurredAt = z.number().int().min(0).max(0xffffffffff);
const count32 = z.number().int().min(0).max(0xffffffff);

const base = { eventId: siteId, occurredAt, user: address, postId: siteId };

export const postPublishedEvent = z.strictObject({
  ...base,
  type: z.literal("post_published"),
  /** The post's word count, from which the time to read it comes. */
  wordCount: count32.min(1),
});
export const postReadEvent = z.strictObject({
  ...base,
  type: z.literal("post_read"),
  /** How long the reader spent on the post. */
  secondsRead: count32,
});
export const postPlusEvent = z.strictObject({ ...base, type: z.literal("post_plus") });
export const postMinusEvent = z.strictObject({ ...base, type: z.literal("post_minus") });
export const commentCreatedEvent = z.strictObject({
  ...base,
  type: z.literal("comment_created"),
  commentId: siteId,
  /** The comment's length in characters. */
  length: count32,
});
export const commentLikedEvent = z.strictObject({ ...base, type: z.literal("comment_liked"), commentId: siteId });
export const commentDislikedEvent = z.strictObject({
  ...base,
  type: z.literal("comment_disliked"),
  commentId: siteId,
});
export const reportPurchasedEvent = z.strictObject({ ...base, type: z.literal("report_purchased") });

/** One site event. `user` is the actor: the author, reader, voter, commenter, liker or buyer. */
export const siteEventSchema = z.discriminatedUnion("type", [
  postPublishedEvent,
  postReadEvent,
  postPlusEvent,
  postMinusEvent,
  commentCreatedEvent,
  commentLikedEvent,
  commentDislikedEvent,
  reportPurchasedEvent,
]);

export type SiteEvent = z.output<typeof siteEventSchema>;
/** A site event as a site writes it (addresses in any case). */
export type SiteEventInput = z.input<typeof siteEventSchema>;
