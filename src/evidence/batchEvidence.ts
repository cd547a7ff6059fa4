import { isAddressEqual, type Address, type Hex } from "viem";
import { z } from "zod";
import { hashEvents, hashSiteEvent } from "./encodeSiteEvent.js";
import { ENVELOPE_DOMAIN_NAME, ENVELOPE_DOMAIN_VERSION, hashEnvelope, recoverDigestSigner } from "./envelope.js";
import { buildEvidenceTree } from "./evidenceTree.js";
import { siteEventSchema } from "./siteEvent.js";

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/i) as unknown as z.ZodType<Hex>;
const hex = z.string().regex(/^0x[0-9a-f]*$/i) as unknown as z.ZodType<Hex>;
const uint = z.string().regex(/^\d+$/);

/**
 * A batch's published evidence, as `GET /v1/batches/:batchId` serves it: every event in
 * leaf order with the envelope it came in, and every envelope with all the event hashes it
 * signed. With the chain (the site's signer, the BatchSettled root) it proves each leaf.
 */
export const batchEvidenceSchema = z.object({
  batchId: uint,
  siteId: z.number().int().nonnegative(),
  evidenceRoot: hex32,
  /** The packed actions sent to `settle`. */
  actions: hex,
  domain: z.object({
    name: z.literal(ENVELOPE_DOMAIN_NAME),
    version: z.literal(ENVELOPE_DOMAIN_VERSION),
    chainId: z.number().int().positive(),
    verifyingContract: z.string().regex(/^0x[0-9a-fA-F]{40}$/) as unknown as z.ZodType<Address>,
  }),
  envelopes: z.array(
    z.object({
      nonce: uint,
      eventsHash: hex32,
      digest: hex32,
      signature: hex,
      eventHashes: z.array(hex32),
    }),
  ),
  events: z.array(
    z.object({
      leafIndex: z.number().int().nonnegative(),
      envelopeNonce: uint,
      envelopeIndex: z.number().int().nonnegative(),
      eventHash: hex32,
      event: siteEventSchema,
    }),
  ),
});

export type BatchEvidence = z.output<typeof batchEvidenceSchema>;

/** One discrepancy found in a batch's evidence. */
export interface EvidenceProblem {
  readonly where: string;
  readonly message: string;
}

export interface VerifyBatchEvidenceParameters {
  readonly evidence: BatchEvidence;
  /** The site's signer key as the chain registers it. */
  readonly siteSigner: Address;
  /** The root the ledger recorded in BatchSettled (the evidence's own root when omitted). */
  readonly onChainRoot?: Hex;
}

/**
 * Re-checks a batch's evidence from scratch: each event's canonical hash, each envelope's
 * events hash, EIP-712 digest and signature (by the site's signer), and the merkle root.
 * Returns every discrepancy (empty when the evidence holds).
 *
 * @example
 * const problems = await verifyBatchEvidence({ evidence, siteSigner, onChainRoot })
 */
export async function verifyBatchEvidence(parameters: VerifyBatchEvidenceParameters): Promise<EvidenceProblem[]> {
  const { evidence, siteSigner } = parameters;
  const problems: EvidenceProblem[] = [];
  const domain = { chainId: evidence.domain.chainId, ledger: evidence.domain.verifyingContract };
  const envelopes = new Map<string, BatchEvidence["envelopes"][number]>();
  for (const envelope of evidence.envelopes) {
    const where = `envelope ${envelope.nonce}`;
    envelopes.set(envelope.nonce, envelope);
    if (hashEvents(envelope.eventHashes) !== envelope.eventsHash.toLowerCase())
      problems.push({ where, message: "eventsHash is not the hash of its event hashes" });
    const digest = hashEnvelope(domain, {
      siteId: evidence.siteId,
      nonce: BigInt(envelope.nonce),
      eventsHash: envelope.eventsHash,
    });
    if (digest !== envelope.digest.toLowerCase())
      problems.push({ where, message: "digest does not match the envelope" });
    try {
      const signer = await recoverDigestSigner(digest, envelope.signature);
      if (!isAddressEqual(signer, siteSigner))
        problems.push({ where, message: `signed by ${signer}, not by the site's signer ${siteSigner}` });
    } catch {
      problems.push({ where, message: "the signature is malformed" });
    }
  }
  const leaves = evidence.events.map((item, position) => {
    const where = `event ${item.event.eventId} (leaf ${position})`;
    if (item.leafIndex !== position) problems.push({ where, message: `leafIndex is ${item.leafIndex}` });
    const eventHash = hashSiteEvent(item.event);
    if (eventHash !== item.eventHash.toLowerCase())
      problems.push({ where, message: "eventHash does not match the event" });
    const envelope = envelopes.get(item.envelopeNonce);
    if (!envelope) problems.push({ where, message: `envelope ${item.envelopeNonce} is missing` });
    else if (envelope.eventHashes[item.envelopeIndex]?.toLowerCase() !== eventHash)
      problems.push({ where, message: `the envelope did not sign this event at index ${item.envelopeIndex}` });
    return {
      eventHash,
      envelopeDigest: envelope?.digest ?? (("0x" + "00".repeat(32)) as Hex),
      index: item.envelopeIndex,
    };
  });
  if (leaves.length === 0) problems.push({ where: "batch", message: "the batch has no events" });
  else {
    const root = buildEvidenceTree(leaves).root;
    if (root !== evidence.evidenceRoot.toLowerCase())
      problems.push({
        where: "batch",
        message: `the events' merkle root is ${root}, the evidence says ${evidence.evidenceRoot}`,
      });
    if (parameters.onChainRoot && root !== parameters.onChainRoot.toLowerCase())
      problems.push({
        where: "batch",
        message: `the events' merkle root is ${root}, the chain says ${parameters.onChainRoot}`,
      });
  }
  return problems;
}
