import { hashTypedData, type Address, type Hex, type LocalAccount, type TypedDataDomain } from "viem";
import { createSignerVerifier } from "./signerVerifier.js";

const verifier = createSignerVerifier();

/**
 * The envelope a site signs over each request's events (EIP-712): which site, a nonce the
 * site never reuses, and the hash of the events in request order (see `hashEvents`). The
 * domain binds the signature to one chain and one ledger, so it cannot be replayed elsewhere.
 */
export const ENVELOPE_DOMAIN_NAME = "Twei Relayer";
export const ENVELOPE_DOMAIN_VERSION = "1";

export const ENVELOPE_TYPES = {
  Envelope: [
    { name: "siteId", type: "uint32" },
    { name: "nonce", type: "uint64" },
    { name: "eventsHash", type: "bytes32" },
  ],
} as const;

export interface Envelope {
  readonly siteId: number;
  readonly nonce: bigint;
  readonly eventsHash: Hex;
}

export interface EnvelopeDomainParameters {
  readonly chainId: number;
  readonly ledger: Address;
}

export function envelopeDomain({ chainId, ledger }: EnvelopeDomainParameters): TypedDataDomain {
  return { name: ENVELOPE_DOMAIN_NAME, version: ENVELOPE_DOMAIN_VERSION, chainId, verifyingContract: ledger };
}

function typedData(domain: EnvelopeDomainParameters, envelope: Envelope) {
  return {
    domain: envelopeDomain(domain),
    types: ENVELOPE_TYPES,
    primaryType: "Envelope" as const,
    message: { siteId: envelope.siteId, nonce: envelope.nonce, eventsHash: envelope.eventsHash },
  };
}

/**
 * The EIP-712 digest of an envelope: what the site signs, and the envelope's id in the evidence tree.
 *
 * @example
 * const digest = hashEnvelope({ chainId: 31337, ledger }, { siteId: 1, nonce: 7n, eventsHash })
 */
export function hashEnvelope(domain: EnvelopeDomainParameters, envelope: Envelope): Hex {
  return hashTypedData(typedData(domain, envelope));
}

/**
 * Signs an envelope with the site's signer key.
 *
 * @example
 * const signature = await signEnvelope(privateKeyToAccount(key), { chainId, ledger }, envelope)
 */
export async function signEnvelope(
  signer: LocalAccount,
  domain: EnvelopeDomainParameters,
  envelope: Envelope,
): Promise<Hex> {
  return signer.signTypedData(typedData(domain, envelope));
}

/**
 * The address that signed an envelope (whatever it is: compare it with the site's registered
 * signer), by the relayer's and the auditor's own check (signerVerifier.ts). Throws on a
 * signature that is not canonical (`v` 27 or 28, or 0 or 1; low s).
 *
 * @example
 * const ok = (await recoverEnvelopeSigner(domain, envelope, signature)) === site.signer
 */
export async function recoverEnvelopeSigner(
  domain: EnvelopeDomainParameters,
  envelope: Envelope,
  signature: Hex,
): Promise<Address> {
  const recovered = await verifier.recoverSigner(hashEnvelope(domain, envelope), signature);
  if (!recovered.ok) throw new Error(recovered.problem);
  return recovered.signer;
}
