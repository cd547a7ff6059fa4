import { concatBytes, keccak256, type Hex } from "viem";
import { EVENT_TYPE_CODES, type SiteEvent } from "./siteEvent.js";

/**
 * The canonical encoding of a site event: the ABI encoding of
 * `(string eventId, uint8 type, uint64 occurredAt, address user, string postId, string commentId, uint32 value)`
 * where `value` is the word count (post_published), the seconds read (post_read), the comment
 * length (comment_created) or 0, and `commentId` is "" when the type has none.
 * Anyone can reproduce it with `encodeAbiParameters(SITE_EVENT_ABI, siteEventTuple(event))`;
 * this module writes the same bytes by hand because it runs for every event on the hot path.
 */
export const SITE_EVENT_ABI = [
  { name: "eventId", type: "string" },
  { name: "type", type: "uint8" },
  { name: "occurredAt", type: "uint64" },
  { name: "user", type: "address" },
  { name: "postId", type: "string" },
  { name: "commentId", type: "string" },
  { name: "value", type: "uint32" },
] as const;

export type SiteEventTuple = readonly [string, number, bigint, Hex, string, string, number];

/** The values of {@link SITE_EVENT_ABI} for an event. */
export function siteEventTuple(event: SiteEvent): SiteEventTuple {
  return [
    event.eventId,
    EVENT_TYPE_CODES[event.type],
    BigInt(event.occurredAt),
    event.user,
    event.postId,
    "commentId" in event ? event.commentId : "",
    valueOf(event),
  ];
}

function valueOf(event: SiteEvent): number {
  switch (event.type) {
    case "post_published":
      return event.wordCount;
    case "post_read":
      return event.secondsRead;
    case "comment_created":
      return event.length;
    default:
      return 0;
  }
}

const utf8 = new TextEncoder();
const HEAD_WORDS = 7;

function padded(length: number): number {
  return Math.ceil(length / 32) * 32;
}

/**
 * The canonical bytes of an event (see the module's documentation).
 *
 * @example
 * const bytes = encodeSiteEvent(event) // equals hexToBytes(encodeAbiParameters(SITE_EVENT_ABI, siteEventTuple(event)))
 */
export function encodeSiteEvent(event: SiteEvent): Uint8Array {
  const eventId = utf8.encode(event.eventId);
  const postId = utf8.encode(event.postId);
  const commentId = utf8.encode("commentId" in event ? event.commentId : "");
  const size =
    HEAD_WORDS * 32 + 32 + padded(eventId.length) + 32 + padded(postId.length) + 32 + padded(commentId.length);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let tail = HEAD_WORDS * 32;
  const writeString = (headWord: number, bytes: Uint8Array) => {
    view.setUint32(headWord * 32 + 28, tail);
    view.setUint32(tail + 28, bytes.length);
    out.set(bytes, tail + 32);
    tail += 32 + padded(bytes.length);
  };
  writeString(0, eventId);
  view.setUint8(1 * 32 + 31, EVENT_TYPE_CODES[event.type]);
  view.setBigUint64(2 * 32 + 24, BigInt(event.occurredAt));
  const user = event.user;
  for (let i = 0; i < 20; i++) out[3 * 32 + 12 + i] = Number.parseInt(user.slice(2 + 2 * i, 4 + 2 * i), 16);
  writeString(4, postId);
  writeString(5, commentId);
  view.setUint32(6 * 32 + 28, valueOf(event));
  return out;
}

/**
 * The event's hash: keccak256 of its canonical encoding. Two submissions of one event id
 * with the same hash are the same event (a duplicate); with another hash, a conflict.
 *
 * @example
 * const hash = hashSiteEvent(event)
 */
export function hashSiteEvent(event: SiteEvent): Hex {
  return keccak256(encodeSiteEvent(event));
}

/**
 * The hash an envelope signs over: keccak256 of the concatenated event hashes, in the
 * order of the request (the canonical order is the order the site signed).
 *
 * @example
 * const eventsHash = hashEvents(events.map(hashSiteEvent))
 */
export function hashEvents(eventHashes: readonly Hex[]): Hex {
  return keccak256(concatBytes(eventHashes.map((hash) => hexToBytes32(hash))));
}

function hexToBytes32(hash: Hex): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hash.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}
