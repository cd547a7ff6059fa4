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
      /**
       * The block whose registry state (the site's signer) the relayer accepted it under; its
       * signature is checked against the signer in force at that block. Absent in evidence
       * published before relayers recorded it: then checked against the signer at settlement.
       */
      acceptedAtBlock: uint.optional(),
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

/** What is wrong with a piece of evidence (stable). */
export type EvidenceProblemCode =
  "signature_invalid" | "signed_by_replaced_key" | "event_hash_mismatch" | "root_mismatch" | "evidence_invalid";

/** One discrepancy found in a batch's evidence. */
export interface EvidenceProblem {
  readonly code: EvidenceProblemCode;
  readonly where: string;
  readonly message: string;
}

/** A site's signer from a block on (a registration or a rotation), oldest first. */
export interface SignerChange {
  readonly block: bigint;
  readonly signer: Address;
}

export interface VerifyBatchEvidenceParameters {
  readonly evidence: BatchEvidence;
  /** The site's signer key as the chain registers it when the batch settled. */
  readonly siteSigner: Address;
  /**
   * The site's signers over time (its SiteRegistered and SiteSignerUpdated events): an envelope
   * that says when it was accepted is checked against the signer in force at that block.
   */
  readonly signerHistory?: readonly SignerChange[];
  /** The block the batch settled in: no envelope can have been accepted after it. */
  readonly settledAtBlock?: bigint;
  /** The root the ledger recorded in BatchSettled (the evidence's own root when omitted). */
  readonly onChainRoot?: Hex;
}

/** The signer in force at `block`: the last change at or before it (a registry read at a block sees its own transactions). */
export function signerAt(history: readonly SignerChange[], block: bigint): Address | undefined {
  let signer: Address | undefined;
  for (const change of history) if (change.block <= block) signer = change.signer;
  return signer;
}

/** The block in which `signer` stopped being the site's signer, when that is at or before `block`. */
function replacedBefore(history: readonly SignerChange[], signer: Address, block: bigint): bigint | undefined {
  for (const [i, change] of history.entries()) {
    const next = history[i + 1];
    if (next && next.block <= block && isAddressEqual(change.signer, signer)) return next.block;
  }
  return undefined;
}

/**
 * Re-checks a batch's evidence from scratch: each event's canonical hash, each envelope's
 * events hash, EIP-712 digest and signature (by the site's signer in force when the relayer
 * accepted it, or at settlement for evidence that does not say), and the merkle root. An
 * envelope signed by a key the registry had replaced before the block it was accepted at is
 * named apart (`signed_by_replaced_key`): a rotation between acceptance and settlement is no
 * discrepancy. Returns every discrepancy (empty when the evidence holds).
 *
 * @example
 * const problems = await verifyBatchEvidence({ evidence, siteSigner, onChainRoot })
 */
export async function verifyBatchEvidence(parameters: VerifyBatchEvidenceParameters): Promise<EvidenceProblem[]> {
  const { evidence, siteSigner } = parameters;
  const problems: EvidenceProblem[] = [];
  const domain = { chainId: evidence.domain.chainId, ledger: evidence.domain.verifyingContract };
  const envelopes = new Map<string, BatchEvidence["envelopes"][number]>();
  const history = parameters.signerHistory ?? [];
  for (const envelope of evidence.envelopes) {
    const where = `envelope ${envelope.nonce}`;
    envelopes.set(envelope.nonce, envelope);
    if (hashEvents(envelope.eventHashes) !== envelope.eventsHash.toLowerCase())
      problems.push({ code: "event_hash_mismatch", where, message: "eventsHash is not the hash of its event hashes" });
    const digest = hashEnvelope(domain, {
      siteId: evidence.siteId,
      nonce: BigInt(envelope.nonce),
      eventsHash: envelope.eventsHash,
    });
    if (digest !== envelope.digest.toLowerCase())
      problems.push({ code: "evidence_invalid", where, message: "digest does not match the envelope" });
    const acceptedAt = envelope.acceptedAtBlock === undefined ? undefined : BigInt(envelope.acceptedAtBlock);
    if (acceptedAt !== undefined && parameters.settledAtBlock !== undefined && acceptedAt > parameters.settledAtBlock)
      problems.push({
        code: "evidence_invalid",
        where,
        message: `accepted at block ${acceptedAt}, after its batch settled in block ${parameters.settledAtBlock}`,
      });
    // The key that had to sign it: the one in force when it was accepted, else at settlement.
    const expected = (acceptedAt !== undefined && signerAt(history, acceptedAt)) || siteSigner;
    let signer: Address;
    try {
      signer = await recoverDigestSigner(digest, envelope.signature);
    } catch {
      problems.push({ code: "signature_invalid", where, message: "the signature is malformed" });
      continue;
    }
    if (isAddressEqual(signer, expected)) continue;
    const replacedAt = acceptedAt === undefined ? undefined : replacedBefore(history, signer, acceptedAt);
    if (replacedAt !== undefined)
      problems.push({
        code: "signed_by_replaced_key",
        where,
        message: `signed by ${signer}, a key the registry replaced in block ${replacedAt}, before block ${acceptedAt} when the envelope was accepted (the signer then was ${expected})`,
      });
    else
      problems.push({
        code: "signature_invalid",
        where,
        message: `signed by ${signer}, not by the site's signer ${expected}${acceptedAt === undefined ? "" : ` (in force at block ${acceptedAt}, when it was accepted)`}`,
      });
  }
  const leaves = evidence.events.map((item, position) => {
    const where = `event ${item.event.eventId} (leaf ${position})`;
    if (item.leafIndex !== position)
      problems.push({ code: "evidence_invalid", where, message: `leafIndex is ${item.leafIndex}` });
    const eventHash = hashSiteEvent(item.event);
    if (eventHash !== item.eventHash.toLowerCase())
      problems.push({ code: "event_hash_mismatch", where, message: "eventHash does not match the event" });
    const envelope = envelopes.get(item.envelopeNonce);
    if (!envelope)
      problems.push({ code: "evidence_invalid", where, message: `envelope ${item.envelopeNonce} is missing` });
    else if (envelope.eventHashes[item.envelopeIndex]?.toLowerCase() !== eventHash)
      problems.push({
        code: "event_hash_mismatch",
        where,
        message: `the envelope did not sign this event at index ${item.envelopeIndex}`,
      });
    return {
      eventHash,
      envelopeDigest: envelope?.digest ?? (("0x" + "00".repeat(32)) as Hex),
      index: item.envelopeIndex,
    };
  });
  if (leaves.length === 0)
    problems.push({ code: "evidence_invalid", where: "batch", message: "the batch has no events" });
  else {
    const root = buildEvidenceTree(leaves).root;
    if (root !== evidence.evidenceRoot.toLowerCase())
      problems.push({
        code: "root_mismatch",
        where: "batch",
        message: `the events' merkle root is ${root}, the evidence says ${evidence.evidenceRoot}`,
      });
    if (parameters.onChainRoot && root !== parameters.onChainRoot.toLowerCase())
      problems.push({
        code: "root_mismatch",
        where: "batch",
        message: `the events' merkle root is ${root}, the chain says ${parameters.onChainRoot}`,
      });
  }
  return problems;
}
