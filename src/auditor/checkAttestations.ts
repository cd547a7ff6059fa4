import { getAddress, zeroHash, type Client, type Hex } from "viem";
import { getBlock } from "viem/actions";
import {
  attestationFault,
  readAttestation,
  type AttestationFault,
  type EasAttestation,
} from "../chain/personhoodAttestation.js";
import type { BatchEvidence } from "../evidence/batchEvidence.js";
import type { PersonhoodPolicy } from "../rules/policy.js";
import type { Add } from "./discrepancy.js";
import type { SettledBatchLog } from "./readLedgerHistory.js";

/** Reads attestations and block times for the auditor, each once per batch block. */
export interface AttestationReader {
  /** The attestation as EAS held it at the end of `blockNumber` (uid zero: unknown there). */
  attestation(policy: PersonhoodPolicy, uid: Hex, blockNumber: bigint): Promise<EasAttestation>;
  /** The timestamp of block `blockNumber`. */
  timestamp(blockNumber: bigint): Promise<bigint>;
}

/**
 * An AttestationReader on `client` (eth_call with a block number: the history is exact, so the
 * RPC must serve that block's state). Batches are audited in block order, so it keeps the reads
 * of one batch block only: an attestation named by many events of a batch is read once, and
 * memory stays bounded. A failed read is thrown (the chain cannot be read: the step fails and
 * the watchtower retries it), never taken for a fault.
 *
 * @example
 * const reader = createAttestationReader(publicClient); await reader.attestation(policy, uid, batch.blockNumber)
 */
export function createAttestationReader(client: Client): AttestationReader {
  let block: bigint | undefined;
  let reads = new Map<string, Promise<EasAttestation>>();
  const times = new Map<bigint, Promise<bigint>>();
  return {
    attestation(policy, uid, blockNumber) {
      if (block !== blockNumber) [block, reads] = [blockNumber, new Map()];
      const key = `${policy.eas.toLowerCase()}:${uid.toLowerCase()}`;
      return memo(reads, key, () => readAttestation(client, policy, uid, { blockNumber }));
    },
    timestamp(blockNumber) {
      if (times.size >= MAX_TIMES && !times.has(blockNumber)) times.clear();
      return memo(times, blockNumber, async () => (await getBlock(client, { blockNumber })).timestamp);
    },
  };
}

/** Attestation reads in flight at once for one batch. */
const CONCURRENT_READS = 16;
/** Block timestamps kept (acceptance blocks of recent batches). */
const MAX_TIMES = 64;

/** `map`'s read of `key`, read once; a failed read is not kept (the next step reads again). */
function memo<K, V>(map: Map<K, Promise<V>>, key: K, read: () => Promise<V>): Promise<V> {
  const hit = map.get(key);
  if (hit) return hit;
  const promise = read();
  map.set(key, promise);
  promise.catch(() => map.delete(key));
  return promise;
}

/** Each fault of an attestation, as the `attestation_invalid` row names it. */
const FAULTS: Record<AttestationFault, string> = {
  missing: "unknown_uid: EAS holds no attestation with this UID at the batch's block",
  wrong_schema: "wrong_schema: it is made under another schema than the policy's",
  wrong_attester: "wrong_attester: its attester is not one the policy names",
  wrong_recipient: "wrong_recipient: it attests another account than the event's user",
  not_yet_attested: "not_yet_attested: it was made after the event was accepted",
  revoked: "revoked: it was revoked before the event was accepted",
  expired: "expired: it had expired when the event was accepted",
};

const describe = (attestation: EasAttestation) =>
  attestation.uid === zeroHash
    ? "(no such attestation)"
    : `schema ${attestation.schema}, attester ${getAddress(attestation.attester)}, recipient ${getAddress(attestation.recipient)}, made at ${attestation.time}, revoked at ${attestation.revocationTime || "(never)"}, expires at ${attestation.expirationTime || "(never)"}`;

/**
 * Re-checks, for each event under a policy requiring proof of personhood (`personhoodOf`: the
 * policy its envelope was accepted under), the attestation the batch's evidence names for it
 * (`events[].attestation`): read from EAS at the batch's block, it must exist, be made
 * under the policy's schema by an attester the policy names, to the event's user, before the
 * event's acceptance, and be neither revoked nor expired at its acceptance. The acceptance is
 * the envelope's `acceptedAtBlock` (the block the relayer read the attestation at), or the
 * batch's block when the evidence does not say (stricter: a revocation between acceptance and
 * settlement then counts). A revocation after acceptance is no fault: the relayer rightly paid.
 * Each attestation that fails is `attestation_invalid`, naming why. Returns the attestations
 * that hold, by the event's position in the evidence: the rules replay takes only these, so an
 * event whose attestation fails is replayed as the relayer must have accepted it, unattested
 * (paid nothing). Throws when the chain cannot be read.
 *
 * @example
 * const attested = await checkAttestations({ batch, evidence, personhoodOf: () => policy.personhood, reader, add })
 */
export async function checkAttestations(parameters: {
  readonly batch: SettledBatchLog;
  readonly evidence: BatchEvidence;
  /** The personhood part of the policy each event (by its position in the evidence) is replayed with. */
  readonly personhoodOf: (position: number) => PersonhoodPolicy | undefined;
  readonly reader: AttestationReader;
  readonly add: Add;
}): Promise<Map<number, Hex>> {
  const { batch, evidence, personhoodOf, reader, add } = parameters;
  const attested = new Map<number, Hex>();
  const acceptedAt = new Map(
    evidence.envelopes.map((envelope) => {
      const block = envelope.acceptedAtBlock === undefined ? batch.blockNumber : BigInt(envelope.acceptedAtBlock);
      // Accepted after its own settlement cannot be (checkSignatures names it): the batch's block.
      return [envelope.nonce, block > batch.blockNumber ? batch.blockNumber : block];
    }),
  );
  const named = [...evidence.events.entries()]
    .filter(([position, item]) => item.attestation !== undefined && personhoodOf(position) !== undefined)
    .map(([position, item]) => [position, item, personhoodOf(position) as PersonhoodPolicy] as const);
  // Read CONCURRENT_READS at a time (a batch may name thousands), then report in the evidence's order.
  const checks: { at: bigint; acceptance: bigint; attestation: EasAttestation }[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < named.length; i = next++) {
      const [, { envelopeNonce, attestation: uid }, policy] = named[i] as (typeof named)[number];
      const acceptance = acceptedAt.get(envelopeNonce) ?? batch.blockNumber;
      const [attestation, at] = await Promise.all([
        reader.attestation(policy, uid as Hex, batch.blockNumber),
        reader.timestamp(acceptance),
      ]);
      checks[i] = { at, acceptance, attestation };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_READS, named.length) }, worker));
  for (const [i, [position, { event, attestation: uid }, policy]] of named.entries()) {
    const { at, acceptance, attestation } = checks[i] as (typeof checks)[number];
    const fault = attestationFault(attestation, { policy, recipient: event.user, at });
    if (fault === undefined) {
      attested.set(position, uid as Hex);
      continue;
    }
    add(
      "attestation_invalid",
      `event ${event.eventId}`,
      `the personhood attestation ${uid} the evidence names for ${getAddress(event.user)} is not valid: ${FAULTS[fault]} (accepted at block ${acceptance}, time ${at}; read at the batch's block ${batch.blockNumber})`,
      `an attestation under schema ${policy.schema} by ${policy.attesters.map((a) => getAddress(a)).join(" or ")} to ${getAddress(event.user)}, valid at ${at}`,
      describe(attestation),
    );
  }
  return attested;
}
