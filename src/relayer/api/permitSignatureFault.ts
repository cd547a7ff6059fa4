import { secp256k1 } from "@noble/curves/secp256k1";
import type { Hex } from "viem";

const N = secp256k1.CURVE.n;

/**
 * Why a 65-byte permit signature (r ‖ s ‖ v) can never be accepted by the token, whatever the
 * chain's state, or undefined when it may be: `v` is 27 or 28 (or 0 or 1, its y-parity), `r` and
 * `s` are within the curve order and not zero, and `s` is in the lower half (OpenZeppelin's ECDSA,
 * which the token's EIP-2612 `permit` uses, refuses the malleable upper half). Such a signature is
 * the client's mistake: it is answered 422 `invalid_permit` at once, never sent to the chain, and
 * never mistaken for a chain failure (which is retryable).
 *
 * @example
 * permitSignatureFault(`0x${"00".repeat(64)}1b`) // "r is 0"
 */
export function permitSignatureFault(signature: Hex): string | undefined {
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  if (![0, 1, 27, 28].includes(v)) return `v is ${v}: a signature's v is 27 or 28 (or its y-parity, 0 or 1)`;
  if (r === 0n || r >= N) return `r is ${r === 0n ? "0" : "not below the curve order"}`;
  if (s === 0n || s >= N) return `s is ${s === 0n ? "0" : "not below the curve order"}`;
  if (s > N / 2n) return "s is in the upper half of the curve order (a malleable signature, refused by the token)";
  return undefined;
}
