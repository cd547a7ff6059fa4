import { isAddressEqual, type Address, type Hex } from "viem";
import { z } from "zod";
import { hashEvents, hashSiteEvent } from "./encodeSiteEvent.js";
import { ENVELOPE_DOMAIN_NAME, ENVELOPE_DOMAIN_VERSION, hashEnvelope } from "./envelope.js";
import { checkEvidenceOrder, type EvidenceOrder } from "./evidenceOrder.js";
import { buildEvidenceTree, EVIDENCE_VERSIONS, type EvidenceVersion } from "./evidenceTree.js";
import { createSignerVerifier } from "./signerVerifier.js";
import { siteEventSchema } from "./siteEvent.js";

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "not 32 bytes of hex") as unknown as z.ZodType<Hex>;
/** At most 16 MB of hex: a batch's packed actions fit in a transaction's calldata. */
const hex = z
  .string()
  .max(2 + 2 * 16_000_000)
  .regex(/^0x([0-9a-fA-F]{2})*$/, "not hex bytes") as unknown as z.ZodType<Hex>;
/** A uint64 as a decimal string, without leading zeros. */
const uint64 = z
  .string()
  // abort: zod runs later checks after a failed one, and BigInt("12a") throws.
  .regex(/^(0|[1-9]\d{0,19})$/, { error: "not a decimal integer", abort: true })
  .refine((value) => BigInt(value) < 2n ** 64n, "above uint64");
const uint16 = z.number().int().min(0).max(0xffff);
const uint32 = z.number().int().min(0).max(0xffffffff);
/** An ECDSA signature: r, s and v, 65 bytes. */
const signature65 = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "not a 65-byte signature") as unknown as z.ZodType<Hex>;
/** More leaves than a batch can hold in one transaction, and far fewer than would exhaust the auditor's memory. */
const MAX_BATCH_LEAVES = 100_000;

// The relayer's signature check, with the public keys of the signers it has seen cached.
const verifier = createSignerVerifier();

/**
 * A batch's published evidence, as `GET /v1/batches/:batchId` serves it: every event in
 * leaf order with the envelope it came in, and every envelope with all the event hashes it
 * signed. With the chain (the site's signer, the BatchSettled root) it proves each leaf. Every
 * number is bounded by the type it stands for (uint64 nonces and ids as decimal strings,
 * uint16 envelope indexes, uint32 positions and site ids), so a malformed file is refused
 * here, with the JSON path of each problem, before anything is computed from it.
 */
export const batchEvidenceSchema = z.object({
  /** The leaf encoding (src/evidence/evidenceTree.ts); evidence published before versions is version 1. */
  version: z.union(EVIDENCE_VERSIONS.map((v) => z.literal(v)) as unknown as [z.ZodLiteral<EvidenceVersion>]).optional(),
  batchId: uint64,
  siteId: uint32,
  evidenceRoot: hex32,
  /** The packed actions sent to `settle`. */
  actions: hex,
  domain: z.object({
    name: z.literal(ENVELOPE_DOMAIN_NAME),
    version: z.literal(ENVELOPE_DOMAIN_VERSION),
    chainId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    verifyingContract: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/, "not a 20-byte address") as unknown as z.ZodType<Address>,
  }),
  envelopes: z
    .array(
      z.object({
        nonce: uint64,
        eventsHash: hex32,
        digest: hex32,
        signature: signature65,
        eventHashes: z.array(hex32).max(0x10000),
        /**
         * The block whose registry state (the site's signer) the relayer accepted it under; its
         * signature is checked against the signer in force at that block. Absent in evidence
         * published before relayers recorded it: then checked against the signer at settlement.
         */
        acceptedAtBlock: uint64.optional(),
      }),
    )
    .max(MAX_BATCH_LEAVES),
  events: z
    .array(
      z.object({
        leafIndex: uint32,
        envelopeNonce: uint64,
        envelopeIndex: uint16,
        eventHash: hex32,
        event: siteEventSchema,
        /**
         * The personhood attestation (EAS UID) the relayer found valid for the event's user at
         * acceptance, when the site's policy asks for one (policy `personhood`); the auditor
         * re-checks it on-chain. Not signed by the site, not in the merkle leaf: the chain proves it.
         */
        attestation: hex32.optional(),
      }),
    )
    .max(MAX_BATCH_LEAVES),
});

/** The evidence version of a (parsed) evidence file: version 1 when it does not say. */
export const evidenceVersionOf = (evidence: { readonly version?: EvidenceVersion | undefined }): EvidenceVersion =>
  evidence.version ?? 1;

/**
 * The JSON path of a schema issue, as people write it: `$.events[3].envelopeIndex`.
 *
 * @example
 * jsonPathOf(["events", 3, "envelopeIndex"]) // "$.events[3].envelopeIndex"
 */
export function jsonPathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    const name = String(key);
    return /^[A-Za-z_$][\w$]*$/.test(name) ? `${out}.${name}` : `${out}[${JSON.stringify(name)}]`;
  }, "$");
}

export type BatchEvidence = z.output<typeof batchEvidenceSchema>;

/** What is wrong with a piece of evidence (stable). */
export type EvidenceProblemCode =
  | "signature_invalid"
  | "signed_by_replaced_key"
  | "event_hash_mismatch"
  | "root_mismatch"
  | "evidence_invalid"
  | "evidence_reordered";

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
  return (await checkBatchEvidence(parameters)).problems;
}

/** What {@link checkBatchEvidence} finds: every discrepancy, and whether the leaves' order is the batch's. */
export interface BatchEvidenceReport {
  readonly problems: EvidenceProblem[];
  readonly order: EvidenceOrder;
}

/**
 * As {@link verifyBatchEvidence}, also saying whether the leaves are in the order the batch
 * settled them (src/evidence/evidenceOrder.ts): a reordering is a problem of its own
 * (`evidence_reordered`, naming the positions moved), and the order to replay the events in.
 *
 * @example
 * const { problems, order } = await checkBatchEvidence({ evidence, siteSigner, onChainRoot })
 */
export async function checkBatchEvidence(parameters: VerifyBatchEvidenceParameters): Promise<BatchEvidenceReport> {
  const { evidence, siteSigner } = parameters;
  const version = evidenceVersionOf(evidence);
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
    // The relayer's own check (one verifier, shared): what it accepted at the door holds here.
    const recovered = await verifier.recoverSigner(digest, envelope.signature, expected);
    if (!recovered.ok) {
      problems.push({ code: "signature_invalid", where, message: recovered.problem });
      continue;
    }
    const { signer } = recovered;
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
      envelopeNonce: item.envelopeNonce,
      eventId: item.event.eventId,
    };
  });
  // Built once: the order check compares the same root with the chain's.
  const root = leaves.length === 0 ? undefined : buildEvidenceTree(leaves, version).root;
  const order = checkEvidenceOrder({
    leaves,
    envelopeNonces: evidence.envelopes.map((envelope) => envelope.nonce),
    version,
    ...(parameters.onChainRoot ? { onChainRoot: parameters.onChainRoot } : {}),
    ...(root ? { root } : {}),
  });
  if (order.reordered)
    problems.push({
      code: "evidence_reordered",
      where: `leaves ${order.reordered.positions.slice(0, 8).join(", ")}${order.reordered.positions.length > 8 ? ", …" : ""}`,
      message: order.reordered.what,
    });
  if (root === undefined)
    problems.push({ code: "evidence_invalid", where: "batch", message: "the batch has no events" });
  else {
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
  return { problems, order };
}
