import type { Hex } from "viem";
import type { BatchEvidence } from "../evidence/batchEvidence.js";
import type { RulePolicy } from "../rules/policy.js";
import type { PolicyResolution, PolicyResolver } from "./createPolicyResolver.js";
import { policyHashAt } from "./policyHashAt.js";
import type { SettledBatchLog } from "./readLedgerHistory.js";

/** A policy document that could not be had or is not the one the ledger holds, with its hash. */
export type PolicyFailure = Extract<PolicyResolution, { ok: false }> & { readonly hash: Hex | undefined };

/** The policy each event of a batch is replayed with, or the documents that could not be had. */
export type EnvelopePolicies =
  | {
      readonly ok: true;
      /** By the event's position in the evidence. */
      readonly policyOf: (position: number) => RulePolicy;
    }
  | { readonly ok: false; readonly failures: readonly PolicyFailure[] };

/**
 * The policy each event of a batch was accepted under: the site's policy in force at its
 * envelope's `acceptedAtBlock` (the block whose state the relayer read; the batch's block when
 * the evidence does not say, or names a later one), found in the batch's policy schedule, with
 * block timestamps from `timestampOf`. Each distinct hash is resolved once; a document that
 * cannot be had or is not that policy fails the whole batch (each named once), as the batch's
 * own policy does. A batch with no events resolves its own block's policy.
 *
 * @example
 * const policies = await resolveEnvelopePolicies({ batch, evidence, resolvePolicy, timestampOf: reader.timestamp })
 */
export async function resolveEnvelopePolicies(parameters: {
  readonly batch: SettledBatchLog;
  readonly evidence: BatchEvidence;
  readonly resolvePolicy: PolicyResolver;
  readonly timestampOf: (blockNumber: bigint) => Promise<bigint>;
}): Promise<EnvelopePolicies> {
  const { batch, evidence, resolvePolicy, timestampOf } = parameters;
  const byNonce = new Map<string, Hex | undefined>();
  for (const envelope of evidence.envelopes) {
    const accepted = envelope.acceptedAtBlock === undefined ? batch.blockNumber : BigInt(envelope.acceptedAtBlock);
    byNonce.set(
      envelope.nonce,
      accepted >= batch.blockNumber ? batch.policyHash : await policyHashAt(batch.policyHistory, accepted, timestampOf),
    );
  }
  const hashOf = (position: number) => {
    const nonce = evidence.events[position]?.envelopeNonce;
    return nonce !== undefined && byNonce.has(nonce) ? byNonce.get(nonce) : batch.policyHash;
  };
  const hashes = evidence.events.length === 0 ? [batch.policyHash] : evidence.events.map((_, i) => hashOf(i));
  const resolved = new Map<string, PolicyResolution>();
  const failures: PolicyFailure[] = [];
  for (const hash of hashes) {
    const key = hash?.toLowerCase() ?? "";
    if (resolved.has(key)) continue;
    const resolution = await resolvePolicy(hash);
    resolved.set(key, resolution);
    if (!resolution.ok) failures.push({ ...resolution, hash });
  }
  if (failures.length > 0) return { ok: false, failures };
  return {
    ok: true,
    policyOf: (position) => {
      const resolution = resolved.get(hashOf(position)?.toLowerCase() ?? "");
      if (!resolution?.ok) throw new Error(`no policy resolved for event #${position}`);
      return resolution.policy;
    },
  };
}
