import {
  encodeAbiParameters,
  isAddressEqual,
  parseEventLogs,
  zeroHash,
  type Address,
  type Client,
  type Hex,
  type PublicClient,
} from "viem";
import { readContract } from "viem/actions";
import type { PersonhoodPolicy } from "../rules/policy.js";
import type { DeployerClient } from "./deployTwei.js";
import { easAbi } from "./easAbi.js";
import { waitForSuccess } from "./waitForSuccess.js";

/** An EAS attestation as `getAttestation` returns it (uid zero: no such attestation). */
export interface EasAttestation {
  readonly uid: Hex;
  readonly schema: Hex;
  readonly time: bigint;
  readonly expirationTime: bigint;
  readonly revocationTime: bigint;
  readonly recipient: Address;
  readonly attester: Address;
}

/** Why an attestation does not prove a user's personhood under a policy (stable codes). */
export type AttestationFault =
  "missing" | "wrong_schema" | "wrong_attester" | "wrong_recipient" | "not_yet_attested" | "revoked" | "expired";

/**
 * Whether `attestation` proves that `recipient` is a person under `policy` at unix time `at`:
 * the fault, or undefined when it does. Made after `at` (`not_yet_attested`: read at a later
 * block), revoked or expired at `at` or before is a fault; revoked or expired later is not (an
 * attestation valid when an event was accepted stays its proof).
 *
 * @example
 * attestationFault(await readAttestation(client, policy, uid), { policy, recipient, at: acceptedAt })
 */
export function attestationFault(
  attestation: EasAttestation,
  parameters: { readonly policy: PersonhoodPolicy; readonly recipient: Address; readonly at: bigint },
): AttestationFault | undefined {
  const { policy, recipient, at } = parameters;
  if (attestation.uid === zeroHash) return "missing";
  if (attestation.schema.toLowerCase() !== policy.schema.toLowerCase()) return "wrong_schema";
  if (!policy.attesters.some((attester) => isAddressEqual(attester, attestation.attester))) return "wrong_attester";
  if (!isAddressEqual(attestation.recipient, recipient)) return "wrong_recipient";
  if (attestation.time > at) return "not_yet_attested";
  if (attestation.revocationTime !== 0n && attestation.revocationTime <= at) return "revoked";
  if (attestation.expirationTime !== 0n && attestation.expirationTime <= at) return "expired";
  return undefined;
}

/**
 * Reads one attestation from the policy's EAS contract, at `blockNumber` when given (the auditor
 * reads it at the batch's block).
 *
 * @example
 * const attestation = await readAttestation(client, policy, uid, { blockNumber })
 */
export async function readAttestation(
  client: Client,
  policy: PersonhoodPolicy,
  uid: Hex,
  options: { readonly blockNumber?: bigint } = {},
): Promise<EasAttestation> {
  return readContract(client, {
    address: policy.eas,
    abi: easAbi,
    functionName: "getAttestation",
    args: [uid],
    ...(options.blockNumber === undefined ? {} : { blockNumber: options.blockNumber }),
  });
}

/** Encoded data of the Twei personhood schema (`bool isPerson`). */
const PERSON = encodeAbiParameters([{ type: "bool" }], [true]);

/**
 * Attests, from `walletClient`'s account, that `recipient` is a person under the policy's
 * schema (revocable, without expiry unless `expirationTime` is given). Returns the UID.
 *
 * @example
 * const uid = await attestPersonhood({ publicClient, walletClient: siteAttester, policy, recipient })
 */
export async function attestPersonhood(parameters: {
  readonly publicClient: PublicClient;
  readonly walletClient: DeployerClient;
  readonly policy: PersonhoodPolicy;
  readonly recipient: Address;
  readonly expirationTime?: bigint;
}): Promise<Hex> {
  const { publicClient, walletClient, policy, recipient } = parameters;
  const receipt = await waitForSuccess(
    publicClient,
    await walletClient.writeContract({
      address: policy.eas,
      abi: easAbi,
      functionName: "attest",
      args: [
        {
          schema: policy.schema,
          data: {
            recipient,
            expirationTime: parameters.expirationTime ?? 0n,
            revocable: true,
            refUID: zeroHash,
            data: PERSON,
            value: 0n,
          },
        },
      ],
      chain: walletClient.chain,
    }),
  );
  const [attested] = parseEventLogs({ abi: easAbi, eventName: "Attested", logs: receipt.logs });
  if (!attested) throw new Error("the attestation transaction emitted no Attested log");
  return attested.args.uid;
}

/**
 * Revokes a personhood attestation (only its attester may).
 *
 * @example
 * await revokePersonhood({ publicClient, walletClient: siteAttester, policy, uid })
 */
export async function revokePersonhood(parameters: {
  readonly publicClient: PublicClient;
  readonly walletClient: DeployerClient;
  readonly policy: PersonhoodPolicy;
  readonly uid: Hex;
}): Promise<void> {
  const { publicClient, walletClient, policy, uid } = parameters;
  await waitForSuccess(
    publicClient,
    await walletClient.writeContract({
      address: policy.eas,
      abi: easAbi,
      functionName: "revoke",
      args: [{ schema: policy.schema, data: { uid, value: 0n } }],
      chain: walletClient.chain,
    }),
  );
}
