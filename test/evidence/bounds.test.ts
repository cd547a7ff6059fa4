import { expect } from "chai";
import { describe, it } from "mocha";
import type { Hex } from "viem";
import { batchEvidenceSchema } from "../../src/evidence/batchEvidence.js";
import { parseCanonicalSignature } from "../../src/evidence/canonicalSignature.js";
import { encodeSiteEvent, hashEvents } from "../../src/evidence/encodeSiteEvent.js";
import { buildEvidenceTree, evidenceLeafHash, type EvidenceLeaf } from "../../src/evidence/evidenceTree.js";
import { siteEventSchema, type SiteEvent } from "../../src/evidence/siteEvent.js";

// The limits of the evidence's encodings, each at its edge: what a hand-made or tampered file
// could carry past the schema.
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const word = (value: bigint) => value.toString(16).padStart(64, "0");
const signature = (r: bigint, s: bigint, v = 27) => `0x${word(r)}${word(s)}${v.toString(16).padStart(2, "0")}`;
const leaf = (index: number, eventHash: Hex = `0x${"11".repeat(32)}`): EvidenceLeaf => ({
  eventHash,
  envelopeDigest: `0x${"22".repeat(32)}`,
  index,
});

describe("evidence encodings at their bounds", function () {
  it("takes r in 1..n-1 and s in 1..n/2 of a signature, and nothing but 65 bytes of hex", function () {
    const problem = (sig: string) => {
      const parsed = parseCanonicalSignature(sig);
      return parsed.ok ? "ok" : parsed.problem;
    };
    expect(problem(signature(1n, 1n))).to.equal("ok");
    expect(problem(signature(N - 1n, N / 2n))).to.equal("ok");
    expect(problem(signature(0n, 1n))).to.match(/^r is not in 1..n-1/);
    expect(problem(signature(N, 1n))).to.match(/^r is not in 1..n-1/);
    expect(problem(signature(1n, 0n))).to.match(/^s is not in 1..n-1/);
    expect(problem(signature(1n, N))).to.match(/^s is not in 1..n-1/);
    expect(problem(signature(1n, N / 2n + 1n))).to.match(/upper half/);
    expect(problem(`${signature(1n, 1n)}00`)).to.match(/not 65 bytes/);
    expect(problem(`00${signature(1n, 1n).slice(2)}`)).to.match(/not 65 bytes/);
    const parsed = parseCanonicalSignature(signature(1n, 1n, 1));
    expect(parsed.ok && [parsed.signature.r, parsed.signature.s, parsed.signature.yParity]).to.deep.equal([1n, 1n, 1]);
  });

  it("takes a 20-byte hex address and nothing around it", function () {
    const event = (user: string) =>
      siteEventSchema.safeParse({ type: "post_plus", eventId: "e", occurredAt: 0, user, postId: "p" }).success;
    expect(event(`0x${"ab".repeat(20)}`)).to.equal(true);
    expect(event(`0x${"ab".repeat(20)}00`)).to.equal(false);
    expect(event(`00x${"ab".repeat(20)}`)).to.equal(false);
  });

  it("encodes ids of up to 255 bytes, and refuses a longer one or a malformed address", function () {
    const event = (eventId: string, user = `0x${"ab".repeat(20)}`) =>
      ({ type: "comment_liked", eventId, occurredAt: 0, user, postId: "p", commentId: "c" }) as SiteEvent;
    expect(encodeSiteEvent(event("x".repeat(255)))).to.have.length(37 + 255 + 1 + 1);
    expect(encodeSiteEvent({ ...event("e"), postId: "p".repeat(255) })).to.have.length(37 + 1 + 255 + 1);
    expect(encodeSiteEvent({ ...event("e"), commentId: "c".repeat(255) } as SiteEvent)).to.have.length(
      37 + 1 + 1 + 255,
    );
    expect(() => encodeSiteEvent(event("x".repeat(256)))).to.throw(RangeError, /at most 255 bytes/);
    expect(() => encodeSiteEvent({ ...event("e"), postId: "p".repeat(256) })).to.throw(RangeError, /255 bytes/);
    expect(() => encodeSiteEvent({ ...event("e"), commentId: "c".repeat(256) } as SiteEvent)).to.throw(
      RangeError,
      /255 bytes/,
    );
    expect(() => encodeSiteEvent(event("e", "0x1234"))).to.throw(RangeError, /bad address 0x1234/);
    expect(() => hashEvents([`0x${"11".repeat(31)}`])).to.throw(RangeError, /bad hash/);
  });

  it("encodes a comment's length, a read's seconds and a post's word count as the event's uint32 value", function () {
    const base = { eventId: "e", occurredAt: 0, user: `0x${"ab".repeat(20)}`, postId: "p" };
    const value = (event: object) => Buffer.from(encodeSiteEvent(siteEventSchema.parse(event))).readUInt32BE(30);
    expect(value({ ...base, type: "comment_created", commentId: "c", length: 7 })).to.equal(7);
    expect(value({ ...base, type: "post_read", secondsRead: 8 })).to.equal(8);
    expect(value({ ...base, type: "post_published", wordCount: 9 })).to.equal(9);
    expect(value({ ...base, type: "post_plus" })).to.equal(0);
  });

  it("hashes leaves with a uint16 index and a uint32 position of bytes32 hashes, and proves only leaves it has", function () {
    expect(() => evidenceLeafHash(leaf(0xffff), 0xffffffff)).not.to.throw();
    for (const index of [0x10000, -1, 1.5])
      expect(() => evidenceLeafHash(leaf(index), 0), String(index)).to.throw(RangeError, /index is a uint16/);
    for (const position of [0x100000000, -1, 1.5])
      expect(() => evidenceLeafHash(leaf(0), position), String(position)).to.throw(RangeError, /position is a uint32/);
    expect(() => evidenceLeafHash(leaf(0, "0x11"), 0)).to.throw(RangeError, /eventHash is not bytes32/);
    expect(() => evidenceLeafHash({ ...leaf(0), envelopeDigest: "0x22" }, 0)).to.throw(
      RangeError,
      /envelopeDigest is not bytes32/,
    );
    expect(() => buildEvidenceTree([])).to.throw(RangeError, /at least one leaf/);
    const tree = buildEvidenceTree([leaf(0), leaf(1)]);
    expect(tree.proof(1)).to.have.length(1);
    for (const index of [2, -1, 0.5]) expect(() => tree.proof(index), String(index)).to.throw(RangeError, /no leaf/);
  });

  it("takes a batch id of decimal digits only, and names any other as a problem (it threw a SyntaxError)", function () {
    const batchId = (value: string) => batchEvidenceSchema.shape.batchId.safeParse(value).success;
    expect(batchId("18446744073709551615")).to.equal(true);
    expect(batchId("18446744073709551616")).to.equal(false);
    expect(batchId("12a")).to.equal(false);
    expect(batchId("a12")).to.equal(false);
  });
});
