import { secp256k1 } from "@noble/curves/secp256k1";
import { toHex, type Hex } from "viem";

/** An ECDSA (secp256k1) signature in the one form Twei accepts: r, low s and the y-parity of R. */
export interface CanonicalSignature {
  readonly r: bigint;
  readonly s: bigint;
  /** 0 when R's y is even, 1 when odd (`v` 27 or 0 is 0; 28 or 1 is 1). */
  readonly yParity: 0 | 1;
  /** The signature as Twei stores and publishes it: `r ‖ s ‖ v`, `v` 27 or 28. */
  readonly hex: Hex;
}

/** Why a signature is not canonical (said to the site that sent it, and in the auditor's row). */
export type SignatureProblem = string;

export type ParseCanonicalSignatureReturnType =
  | { readonly ok: true; readonly signature: CanonicalSignature }
  | { readonly ok: false; readonly problem: SignatureProblem };

const { n } = secp256k1.CURVE;
const HALF_N = n >> 1n;

/**
 * Reads a 65-byte signature `r ‖ s ‖ v` and accepts only its canonical form: `v` 27 or 28 (or 0
 * or 1, the bare y-parity), r in 1..n-1 and s in 1..n/2 (low s, as Ethereum requires of
 * transactions since EIP-2). Every other byte string that would verify for the same signer (the
 * other `v`, the high-s twin n - s) is refused, so one signed envelope has one signature: the
 * relayer stores it as `hex` (v 27 or 28) and the auditor recovers the same signer from it.
 * Whether the parity is R's own is for the signer check (signerVerifier.ts) to say: a wrong
 * one recovers another key.
 *
 * @example
 * const parsed = parseCanonicalSignature(signature); if (!parsed.ok) throw new Error(parsed.problem)
 */
export function parseCanonicalSignature(signature: string): ParseCanonicalSignatureReturnType {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return { ok: false, problem: "the signature is not 65 bytes of hex" };
  const r = BigInt(signature.slice(0, 66));
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (r <= 0n || r >= n) return { ok: false, problem: "r is not in 1..n-1 (the curve's order)" };
  if (s <= 0n || s >= n) return { ok: false, problem: "s is not in 1..n-1 (the curve's order)" };
  if (s > HALF_N)
    return {
      ok: false,
      problem: "s is in the upper half of the curve's order (a malleable high-s signature): sign with low s",
    };
  if (v !== 0 && v !== 1 && v !== 27 && v !== 28)
    return { ok: false, problem: `v is ${v}: it must be 27 or 28 (or 0 or 1)` };
  const yParity = v === 0 || v === 27 ? 0 : 1;
  const hex = `${signature.slice(0, 130).toLowerCase()}${toHex(27 + yParity).slice(2)}` as Hex;
  return { ok: true, signature: { r, s, yParity, hex } };
}
