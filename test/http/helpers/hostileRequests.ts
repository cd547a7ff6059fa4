import fc from "fast-check";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import type { FuzzRoute } from "./routeTable.js";

/** What a hostile client controls in one request, before credentials and signing are applied. */
export interface HostileRequest {
  readonly method: string;
  /** The path with its parameters filled in, sent as is (it may hold a malformed `%` escape). */
  readonly path: string;
  readonly credential: "valid" | "none" | "foreign" | "malformed";
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  /** Whether the body really is in its Content-Encoding (false: the header lies). */
  readonly encodedTruly: boolean;
  readonly body: HostileBody;
}

export type HostileBody =
  | { readonly kind: "none" }
  | { readonly kind: "bytes"; readonly bytes: Uint8Array }
  | { readonly kind: "text"; readonly text: string }
  /** A JSON object of `size` characters, past every body limit (built when sent, so a report stays short). */
  | { readonly kind: "large"; readonly size: number }
  /** Signed by the site when the route takes a signed envelope; otherwise sent as JSON. */
  | { readonly kind: "events"; readonly events: readonly Record<string, unknown>[] };

const URL_SAFE = "abcdefxyzABCXYZ0123456789-._~!$&'()*+,;=:@%/";

/** A value in a path segment or a query: well-formed, malformed and borderline, never a raw space or CR/LF. */
const segment: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: fc.constantFrom(...URL_SAFE), maxLength: 60 }),
  fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }).map(String),
  fc.constantFrom(
    "0",
    "-1",
    "1.5",
    "1e400",
    "0x",
    `0x${"ab".repeat(20)}`,
    `0x${"ab".repeat(32)}`,
    "..",
    "%2e%2e",
    "%00",
    "%",
    "%zz",
    "%C0%80",
    "%E0%A4%A",
    "null",
    "__proto__",
    "constructor",
    "hostile-input",
    "x".repeat(3_000),
  ),
);

/** A JSON value of a hostile shape: deep, huge, prototype keys, numbers past 2^53. */
const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.bigInt({ min: -(2n ** 260n), max: 2n ** 260n }).map(String),
  fc.double(),
  fc.constantFrom("0x", `0x${"f".repeat(130)}`, `0x${"0".repeat(40)}`, -1, 1e308, 2 ** 53 + 1, "", " ", "plus", "like"),
);

function bodyFor(route: FuzzRoute): fc.Arbitrary<HostileBody> {
  const keys = fc.constantFrom(...(route.fields ?? []), "__proto__", "constructor", "extra");
  const shaped = fc.dictionary(keys, hostileScalar, { maxKeys: 5 }).map((o) => JSON.stringify(o));
  const bodies: fc.Arbitrary<HostileBody>[] = [
    fc.constant({ kind: "none" as const }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: "text" as const, text: JSON.stringify(v) ?? "null" })),
    shaped.map((text) => ({ kind: "text" as const, text })),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ kind: "bytes" as const, bytes })),
    fc.string({ maxLength: 300 }).map((text) => ({ kind: "text" as const, text })),
    fc.integer({ min: 1, max: 20_000 }).map((n) => ({ kind: "text" as const, text: "[".repeat(n) + "]".repeat(n) })),
    fc.constantFrom(17_000, 300_000, 2_000_000).map((size) => ({ kind: "large" as const, size })),
  ];
  if (route.signedEnvelope)
    bodies.push(
      fc.array(hostileEvent, { minLength: 0, maxLength: 5 }).map((events) => ({ kind: "events" as const, events })),
    );
  return fc.oneof(...bodies);
}

const eventIdChars = "abcxyzABC019._:/@-";
const siteIdText = fc.string({ unit: fc.constantFrom(...eventIdChars), minLength: 1, maxLength: 128 });
const address = fc.oneof(
  fc.constantFrom(`0x${"0".repeat(40)}`, `0x${"f".repeat(40)}`, `0x${"AB".repeat(20)}`),
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString("hex")}`),
);
const count32 = fc.oneof(fc.constantFrom(0, 1, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));

/** A site event its schema accepts, with hostile values: unknown posts, huge counts, odd ids. */
export const hostileEvent: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    eventId: siteIdText,
    occurredAt: fc.oneof(fc.constantFrom(0, 0xffffffffff), fc.integer({ min: 0, max: 0xffffffffff })),
    user: address,
    postId: fc.oneof(siteIdText, fc.constant("hostile-input")),
    type: fc.constantFrom(
      "post_published",
      "post_read",
      "post_plus",
      "post_minus",
      "comment_created",
      "comment_liked",
      "comment_disliked",
      "report_purchased",
    ),
    secondsRead: count32,
    wordCount: count32.map((n) => Math.max(1, n)),
    commentId: siteIdText,
    length: count32,
  })
  .map(({ secondsRead, wordCount, commentId, length, ...base }) => {
    if (base.type === "post_read") return { ...base, secondsRead };
    if (base.type === "post_published") return { ...base, wordCount };
    if (base.type === "comment_created") return { ...base, commentId, length };
    if (base.type === "comment_liked" || base.type === "comment_disliked") return { ...base, commentId };
    return base;
  });

/**
 * Requests a hostile client could send to `route`: its own method most of the time, its path
 * with fuzzed parameters and query, any credential, any content type and encoding (true or
 * lying), and bodies from well-shaped-but-wrong to bytes.
 *
 * @example
 * fc.assert(fc.asyncProperty(hostileRequest(route), async (request) => { … }))
 */
export function hostileRequest(route: FuzzRoute): fc.Arbitrary<HostileRequest> {
  const params = route.path.match(/:[A-Za-z]+/g) ?? [];
  const queryKeys = fc.constantFrom(...(route.query ?? []), "x", "__proto__");
  return fc.record({
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constant(route.method) },
      { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS") },
    ),
    path: fc
      .tuple(
        fc.array(segment, { minLength: params.length, maxLength: params.length }),
        fc.array(fc.tuple(queryKeys, segment), { maxLength: 4 }),
        fc.constantFrom("", "", "/"),
      )
      .map(([values, query, tail]) => {
        let i = 0;
        const path = route.path.replace(/:[A-Za-z]+/g, () => values[i++] ?? "");
        const search = query.map(([k, v]) => `${k}=${v}`).join("&");
        return `${path}${tail}${search ? `?${search}` : ""}`;
      }),
    credential: fc.constantFrom("valid", "valid", "none", "foreign", "malformed"),
    contentType: fc.constantFrom(
      "application/json",
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/octet-stream",
      "multipart/form-data; boundary=x",
      "application/json; charset=utf-16",
      "application/json; charset=latin1",
      undefined,
    ),
    contentEncoding: fc.constantFrom(undefined, undefined, undefined, "gzip", "br", "deflate", "identity", "x-unknown"),
    encodedTruly: fc.boolean(),
    body: bodyFor(route),
  });
}

/** The body's bytes as sent, encoded as its Content-Encoding says when `encodedTruly`. */
export function encodeBody(bytes: Buffer, encoding: string | undefined, truly: boolean): Buffer {
  if (!truly) return bytes;
  if (encoding === "gzip") return gzipSync(bytes);
  if (encoding === "br") return brotliCompressSync(bytes);
  if (encoding === "deflate") return deflateSync(bytes);
  return bytes;
}
