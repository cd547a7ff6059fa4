import { expect } from "chai";
import { describe, it } from "mocha";
import { encodePacked, hexToBytes, keccak256, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  batchEvidenceSchema,
  checkBatchEvidence,
  jsonPathOf,
  verifyBatchEvidence,
  type BatchEvidence,
} from "../../src/evidence/batchEvidence.js";
import {
  SITE_EVENT_PACKED_TYPES,
  encodeSiteEvent,
  hashEvents,
  hashSiteEvent,
  siteEventValues,
} from "../../src/evidence/encodeSiteEvent.js";
import { hashEnvelope, recoverEnvelopeSigner, signEnvelope } from "../../src/evidence/envelope.js";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { checkEvidenceOrder } from "../../src/evidence/evidenceOrder.js";
import {
  EVIDENCE_LEAF_ENCODINGS,
  buildEvidenceTree,
  verifyEvidenceProof,
  type EvidenceVersion,
} from "../../src/evidence/evidenceTree.js";
import { createSignerVerifier } from "../../src/evidence/signerVerifier.js";
import { siteEventSchema, type SiteEvent, type SiteEventInput } from "../../src/evidence/siteEvent.js";

const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const USER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const parse = (input: SiteEventInput): SiteEvent => siteEventSchema.parse(input);

const samples: SiteEvent[] = [
  parse({ eventId: "p-1", type: "post_published", occurredAt: 1, user: USER, postId: "post-1", wordCount: 900 }),
  parse({ eventId: "r-1", type: "post_read", occurredAt: 2, user: USER, postId: "post-1", secondsRead: 45 }),
  parse({
    eventId: "c-1",
    type: "comment_created",
    occurredAt: 3,
    user: USER,
    postId: "post-1",
    commentId: "c/1",
    length: 40,
  }),
  parse({ eventId: "l-1", type: "comment_liked", occurredAt: 4, user: USER, postId: "post-1", commentId: "c/1" }),
  parse({ eventId: "b-1", type: "report_purchased", occurredAt: 2 ** 39, user: USER, postId: "post-1" }),
];

describe("evidence", function () {
  describe("site events", function () {
    it("lowercases addresses and refuses unknown fields, types and malformed ids", function () {
      expect(samples[0]?.user).to.equal(USER.toLowerCase());
      const bad = siteEventSchema.safeParse({
        eventId: "x y",
        type: "post_read",
        occurredAt: -1,
        user: "0x12",
        postId: "p",
        secondsRead: 1,
        extra: true,
      });
      expect(bad.success).to.equal(false);
      const paths = bad.error?.issues.map((issue) => issue.path.join(".")) ?? [];
      expect(paths).to.include.members(["eventId", "occurredAt", "user"]);
      expect(siteEventSchema.safeParse({ ...samples[0], type: "post_shared" }).success).to.equal(false);
    });

    it("encodes each type exactly as viem's encodePacked of the documented types", function () {
      for (const event of samples) {
        const reference = encodePacked(SITE_EVENT_PACKED_TYPES, siteEventValues(event) as never);
        expect(encodeSiteEvent(event)).to.deep.equal(hexToBytes(reference));
        expect(hashSiteEvent(event)).to.equal(keccak256(reference));
      }
    });

    it("gives different hashes to events that differ in any field", function () {
      const base = samples[1] as SiteEvent & { type: "post_read" };
      const variants = [
        { ...base, eventId: "r-2" },
        { ...base, occurredAt: 3 },
        { ...base, secondsRead: 46 },
        { ...base, postId: "post-2" },
        { ...base, user: "0x0000000000000000000000000000000000000001" as Hex },
      ];
      const hashes = new Set([base, ...variants].map(hashSiteEvent));
      expect(hashes.size).to.equal(variants.length + 1);
    });
  });

  describe("envelopes", function () {
    const signer = privateKeyToAccount(generatePrivateKey());
    const eventsHash = hashEvents(samples.map(hashSiteEvent));
    const envelope = { siteId: 7, nonce: 42n, eventsHash };

    it("recovers the signer of an envelope bound to its chain and ledger", async function () {
      const domain = { chainId: 31337, ledger: LEDGER } as const;
      const signature = await signEnvelope(signer, domain, envelope);
      expect(await recoverEnvelopeSigner(domain, envelope, signature)).to.equal(signer.address);
      // The same signature checked for another chain, ledger, nonce or events names someone else.
      for (const [otherDomain, otherEnvelope] of [
        [{ ...domain, chainId: 1 }, envelope],
        [{ ...domain, ledger: USER }, envelope],
        [domain, { ...envelope, nonce: 43n }],
        [domain, { ...envelope, eventsHash: hashEvents(samples.slice(1).map(hashSiteEvent)) }],
      ] as const)
        expect(await recoverEnvelopeSigner(otherDomain, otherEnvelope, signature)).to.not.equal(signer.address);
    });

    it("hashes events in order: reordering them changes the envelope", function () {
      const hashes = samples.map(hashSiteEvent);
      expect(hashEvents([...hashes].reverse())).to.not.equal(hashEvents(hashes));
    });
  });

  describe("signer verification", function () {
    it("agrees with signature recovery: the signer's signatures pass, any other fails", async function () {
      const verifier = createSignerVerifier();
      const signer = privateKeyToAccount(generatePrivateKey());
      const other = privateKeyToAccount(generatePrivateKey());
      for (let i = 0; i < 20; i++) {
        const digest = keccak256(`0x${i.toString(16).padStart(4, "0")}`);
        const signature = await signer.sign({ hash: digest });
        // The first check recovers the key; the later ones verify against the cached key.
        expect(await verifier.isSignedBy(digest, signature, signer.address)).to.equal(true);
        expect(await verifier.isSignedBy(digest, signature, other.address)).to.equal(false);
        expect(await verifier.isSignedBy(keccak256(digest), signature, signer.address)).to.equal(false);
        expect(await verifier.isSignedBy(digest, await other.sign({ hash: digest }), signer.address)).to.equal(false);
      }
      const digest = keccak256("0x01");
      expect(await verifier.isSignedBy(digest, `0x${"00".repeat(65)}`, signer.address)).to.equal(false);
      expect(await verifier.isSignedBy(digest, `0x${"ff".repeat(65)}`, signer.address)).to.equal(false);
      expect(await verifier.isSignedBy(digest, "0x1234", signer.address)).to.equal(false);
    });
  });

  describe("evidence trees and batch evidence", function () {
    async function evidenceFixture(version: EvidenceVersion = 2) {
      const signer = privateKeyToAccount(generatePrivateKey());
      const domain = { chainId: 31337, ledger: LEDGER } as const;
      const eventHashes = samples.map(hashSiteEvent);
      const eventsHash = hashEvents(eventHashes);
      const envelope = { siteId: 7, nonce: 5n, eventsHash };
      const digest = hashEnvelope(domain, envelope);
      const signature = await signEnvelope(signer, domain, envelope);
      // The batch settles events 1, 3 and 4 of the envelope (the others were rejected).
      const chosen = [1, 3, 4];
      const leaves = chosen.map((index) => ({ eventHash: eventHashes[index] as Hex, envelopeDigest: digest, index }));
      const tree = buildEvidenceTree(leaves, version);
      const evidence: BatchEvidence = {
        version,
        batchId: "1",
        siteId: 7,
        evidenceRoot: tree.root,
        actions: "0x",
        domain: { name: "Twei Relayer", version: "1", chainId: 31337, verifyingContract: LEDGER },
        envelopes: [{ nonce: "5", eventsHash, digest, signature, eventHashes }],
        events: chosen.map((index, leafIndex) => ({
          leafIndex,
          envelopeNonce: "5",
          envelopeIndex: index,
          eventHash: eventHashes[index] as Hex,
          event: samples[index] as SiteEvent,
        })),
      };
      return { signer, tree, leaves, evidence };
    }

    for (const size of [1, 2, 3, 37])
      it(`builds exactly OpenZeppelin's StandardMerkleTree of ${size} leaves, in batch order, for each version`, function () {
        const leaves = Array.from({ length: size }, (_, i) => ({
          eventHash: keccak256(`0x${i.toString(16).padStart(4, "0")}`),
          envelopeDigest: keccak256(`0x${(i % 5).toString(16).padStart(4, "0")}`),
          index: i * 1_000,
        }));
        const tuples = {
          1: leaves.map((l) => [l.eventHash, l.envelopeDigest, l.index]),
          2: leaves.map((l, position) => [position, l.eventHash, l.envelopeDigest, l.index]),
        };
        for (const version of [1, 2] as const) {
          const tree = buildEvidenceTree(leaves, version);
          const standard = StandardMerkleTree.of(tuples[version], [...EVIDENCE_LEAF_ENCODINGS[version]], {
            sortLeaves: false,
          });
          expect(tree.root).to.equal(standard.root);
          leaves.forEach((_, i) => expect(tree.proof(i)).to.deep.equal(standard.getProof(i)));
        }
      });

    it("proves every leaf at its position against the root, and no altered or moved leaf", async function () {
      const { tree, leaves } = await evidenceFixture();
      leaves.forEach((leaf, i) => {
        expect(verifyEvidenceProof(tree.root, leaf, tree.proof(i), { position: i })).to.equal(true);
        expect(
          verifyEvidenceProof(tree.root, { ...leaf, index: leaf.index + 1 }, tree.proof(i), { position: i }),
        ).to.equal(false);
        expect(verifyEvidenceProof(tree.root, leaf, tree.proof(i), { position: i + 1 })).to.equal(false);
      });
    });

    it("commits to the leaves' order in version 2: a sibling swap changes the root, and is named", async function () {
      const { signer, evidence, tree } = await evidenceFixture(2);
      const swapped = structuredClone(evidence);
      swapped.events = [swapped.events[1], swapped.events[0], swapped.events[2]].map((e, leafIndex) => ({
        ...(e as BatchEvidence["events"][number]),
        leafIndex,
      }));
      const { problems, order } = await checkBatchEvidence({
        evidence: swapped,
        siteSigner: signer.address,
        onChainRoot: tree.root,
      });
      expect(problems.map((p) => p.code).sort()).to.deep.equal([
        "evidence_reordered",
        "root_mismatch",
        "root_mismatch",
      ]);
      expect(order.trusted).to.equal(false);
      expect(order.replayOrder).to.deep.equal([1, 0, 2]);
      expect(order.reordered?.positions).to.deep.equal([0, 1]);
      // The chain's root is that of the envelopes' order: the evidence, not the chain, was reordered.
      expect(order.reordered?.what).to.include("the evidence was reordered").and.include("leaf 0 holds l-1");
    });

    it("names a reordering of version 1 leaves, whose root does not commit to the order", async function () {
      const { signer, evidence, tree } = await evidenceFixture(1);
      const swapped = structuredClone(evidence);
      swapped.events = [swapped.events[1], swapped.events[0], swapped.events[2]].map((e, leafIndex) => ({
        ...(e as BatchEvidence["events"][number]),
        leafIndex,
      }));
      // Sorted pairs: the swapped siblings keep the version 1 root.
      const leaves = swapped.events.map((e) => ({
        eventHash: e.eventHash,
        envelopeDigest: evidence.envelopes[0]?.digest as Hex,
        index: e.envelopeIndex,
      }));
      expect(buildEvidenceTree(leaves, 1).root).to.equal(tree.root);
      const problems = await verifyBatchEvidence({
        evidence: swapped,
        siteSigner: signer.address,
        onChainRoot: tree.root,
      });
      expect(problems.map((p) => [p.code, p.where])).to.deep.equal([["evidence_reordered", "leaves 0, 1"]]);
      // The evidence in order is trusted as it is.
      const clean = checkEvidenceOrder({
        leaves: evidence.events.map((e) => ({
          ...(leaves[0] as (typeof leaves)[0]),
          envelopeNonce: "5",
          eventId: e.event.eventId,
          index: e.envelopeIndex,
        })),
        envelopeNonces: ["5"],
        version: 1,
      });
      expect(clean).to.deep.equal({ trusted: true, replayOrder: [0, 1, 2] });
    });

    it("bounds every number of the evidence and names each problem's JSON path", async function () {
      const { evidence } = await evidenceFixture();
      const bad = structuredClone(evidence) as unknown as Record<string, unknown> & typeof evidence;
      (bad.events[0] as { envelopeIndex: number }).envelopeIndex = 70_000;
      (bad.envelopes[0] as { nonce: string }).nonce = (2n ** 64n).toString();
      (bad.envelopes[0] as { signature: string }).signature = "0x1234";
      bad.version = 9 as never;
      const parsed = batchEvidenceSchema.safeParse(bad);
      expect(parsed.success).to.equal(false);
      expect(parsed.error?.issues.map((issue) => jsonPathOf(issue.path)).sort()).to.deep.equal([
        "$.envelopes[0].nonce",
        "$.envelopes[0].signature",
        "$.events[0].envelopeIndex",
        "$.version",
      ]);
      expect(jsonPathOf(["a-b", 0, "c"])).to.equal('$["a-b"][0].c');
    });

    it("verifies genuine batch evidence with no problem", async function () {
      const { signer, evidence, tree } = await evidenceFixture();
      expect(await verifyBatchEvidence({ evidence, siteSigner: signer.address, onChainRoot: tree.root })).to.deep.equal(
        [],
      );
    });

    it("names each kind of tampering", async function () {
      const { signer, evidence, tree } = await evidenceFixture();
      const edited = structuredClone(evidence);
      const first = edited.events[0];
      if (first?.event.type !== "post_read") throw new Error("fixture changed");
      first.event.secondsRead = 9_999;
      const problems = await verifyBatchEvidence({
        evidence: edited,
        siteSigner: signer.address,
        onChainRoot: tree.root,
      });
      expect(problems.map((p) => p.message)).to.include("eventHash does not match the event");

      const otherSigner = privateKeyToAccount(generatePrivateKey()).address;
      const forged = await verifyBatchEvidence({ evidence, siteSigner: otherSigner });
      expect(forged.map((p) => p.message).join()).to.match(/not by the site's signer/);

      const wrongRoot = await verifyBatchEvidence({
        evidence,
        siteSigner: signer.address,
        onChainRoot: keccak256("0x01"),
      });
      expect(wrongRoot.map((p) => p.message).join()).to.match(/the chain says/);
    });
  });
});
