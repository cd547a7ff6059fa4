import type { Hex } from "viem";
import { keccakHex } from "./keccak.js";
import { EVENT_TYPE_CODES, type SiteEvent } from "./siteEvent.js";

/**
 * The canonical encoding of a site event, version 1: Solidity's packed encoding of
 * `(uint8 version, uint8 type, uint64 occurredAt, address user, uint32 value,
 *   uint8 len, string eventId, uint8 len, string postId, uint8 len, string commentId)`
 * where `value` is the word count (post_published), the seconds read (post_read), the comment
 * length (comment_created) or 0, `commentId` is "" when the type has none, and each string is
 * preceded by its byte length (the schema caps them at 128 ASCII characters), so the
 * encoding is unambiguous. Anyone reproduces it with viem's
 * `encodePacked(SITE_EVENT_PACKED_TYPES, siteEventValues(event))`; this module writes the
 * same bytes by hand because it runs for every event on the hot path, and it keeps a typical
 * event within one keccak block (136 bytes).
 */
export const SITE_EVENT_ENCODING_VERSION = 1;

export const SITE_EVENT_PACKED_TYPES = [
  "uint8",
  "uint8",
  "uint64",
  "address",
  "uint32",
  "uint8",
  "string",
  "uint8",
  "string",
  "uint8",
  "string",
] as const;

export type SiteEventValues = readonly [
  number,
  number,
  bigint,
  Hex,
  number,
  number,
  string,
  number,
  string,
  number,
  string,
];

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

const commentIdOf = (event: SiteEvent): string => ("commentId" in event ? event.commentId : "");

/** The values of {@link SITE_EVENT_PACKED_TYPES} for an event. */
export function siteEventValues(event: SiteEvent): SiteEventValues {
  const commentId = commentIdOf(event);
  return [
    SITE_EVENT_ENCODING_VERSION,
    EVENT_TYPE_CODES[event.type],
    BigInt(event.occurredAt),
    event.user,
    valueOf(event),
    Buffer.byteLength(event.eventId),
    event.eventId,
    Buffer.byteLength(event.postId),
    event.postId,
    Buffer.byteLength(commentId),
    commentId,
  ];
}

/**
 * The canonical bytes of an event (see the module's documentation).
 *
 * @example
 * encodeSiteEvent(event) // equals hexToBytes(encodePacked(SITE_EVENT_PACKED_TYPES, siteEventValues(event)))
 */
export function encodeSiteEvent(event: SiteEvent): Uint8Array {
  const eventId = Buffer.from(event.eventId, "utf8");
  const postId = Buffer.from(event.postId, "utf8");
  const commentId = Buffer.from(commentIdOf(event), "utf8");
  if (eventId.length > 255 || postId.length > 255 || commentId.length > 255)
    throw new RangeError("an event's ids are at most 255 bytes");
  const out = Buffer.allocUnsafe(37 + eventId.length + postId.length + commentId.length);
  out[0] = SITE_EVENT_ENCODING_VERSION;
  out[1] = EVENT_TYPE_CODES[event.type];
  out.writeBigUInt64BE(BigInt(event.occurredAt), 2);
  if (out.write(event.user.slice(2), 10, 20, "hex") !== 20) throw new RangeError(`bad address ${event.user}`);
  out.writeUInt32BE(valueOf(event), 30);
  let offset = 34;
  for (const bytes of [eventId, postId, commentId]) {
    out[offset] = bytes.length;
    bytes.copy(out, offset + 1);
    offset += 1 + bytes.length;
  }
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
  return keccakHex(encodeSiteEvent(event));
}

/**
 * The hash an envelope signs over: keccak256 of the concatenated 32-byte event hashes, in the
 * order of the request (the canonical order is the order the site signed).
 *
 * @example
 * const eventsHash = hashEvents(events.map(hashSiteEvent))
 */
export function hashEvents(eventHashes: readonly Hex[]): Hex {
  const out = Buffer.allocUnsafe(eventHashes.length * 32);
  eventHashes.forEach((hash, i) => {
    if (out.write(hash.slice(2), i * 32, 32, "hex") !== 32) throw new RangeError(`bad hash ${hash}`);
  });
  return keccakHex(out);
}
