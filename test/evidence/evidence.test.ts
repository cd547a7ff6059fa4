import { expect } from "chai";
import { describe, it } from "mocha";
import { encodePacked, hexToBytes, keccak256, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { verifyBatchEvidence, type BatchEvidence } from "../../src/evidence/batchEvidence.js";
import {
  SITE_EVENT_PACKED_TYPES,
  encodeSiteEvent,
  hashEvents,
  hashSiteEvent,
  siteEventValues,
} from "../../src/evidence/encodeSiteEvent.js";
import { hashEnvelope, recoverEnvelopeSigner, signEnvelope } from "../../src/evidence/envelope.js";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { EVIDENCE_LEAF_ENCODING, buildEvidenceTree, verifyEvidenceProof } from "../../src/evidence/evidenceTree.js";
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
    async function evidenceFixture() {
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
      const tree = buildEvidenceTree(leaves);
      const evidence: BatchEvidence = {
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

    it("builds exactly OpenZeppelin's StandardMerkleTree of the leaves, in batch order", function () {
      const leaves = Array.from({ length: 37 }, (_, i) => ({
        eventHash: keccak256(`0x${i.toString(16).padStart(4, "0")}`),
        envelopeDigest: keccak256(`0x${(i % 5).toString(16).padStart(4, "0")}`),
        index: i * 1_000,
      }));
      const tree = buildEvidenceTree(leaves);
      const standard = StandardMerkleTree.of(
        leaves.map((l) => [l.eventHash, l.envelopeDigest, l.index]),
        EVIDENCE_LEAF_ENCODING,
        { sortLeaves: false },
      );
      expect(tree.root).to.equal(standard.root);
      leaves.forEach((_, i) => expect(tree.proof(i)).to.deep.equal(standard.getProof(i)));
    });

    it("proves every leaf against the root, and no altered leaf", async function () {
      const { tree, leaves } = await evidenceFixture();
      leaves.forEach((leaf, i) => {
        expect(verifyEvidenceProof(tree.root, leaf, tree.proof(i))).to.equal(true);
        expect(verifyEvidenceProof(tree.root, { ...leaf, index: leaf.index + 1 }, tree.proof(i))).to.equal(false);
      });
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
