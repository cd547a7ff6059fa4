import { invert, mod } from "@noble/curves/abstract/modular";
import { secp256k1 } from "@noble/curves/secp256k1";
import type { Address, Hex } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { parseCanonicalSignature, type CanonicalSignature, type SignatureProblem } from "./canonicalSignature.js";

type Point = InstanceType<typeof secp256k1.ProjectivePoint>;

/** Who signed a digest: the signer and the signature's canonical form, or why it is no signature Twei accepts. */
export type RecoverSignerReturnType =
  | { readonly ok: true; readonly signer: Address; readonly signature: Hex }
  | { readonly ok: false; readonly problem: SignatureProblem };

export interface SignerVerifier {
  /**
   * Who signed `digest`, when `signature` is canonical (canonicalSignature.ts); else why it is
   * not, or recovers no key. With `expected`, a signature that is theirs is checked against
   * their cached public key (the first one recovers it): the same answer as recovery, faster.
   */
  recoverSigner(digest: Hex, signature: Hex, expected?: Address | null): Promise<RecoverSignerReturnType>;
  /** Whether `signature` over `digest` is `expected`'s, in its canonical form only. */
  isSignedBy(digest: Hex, signature: Hex, expected: Address): Promise<boolean>;
}

const { n } = secp256k1.CURVE;
const MAX_CACHED_KEYS = 1_000;

/** The public key a canonical signature recovers to: R is (r, the y of parity `yParity`). Throws when none. */
function recoverPoint(digest: Hex, signature: CanonicalSignature): Point {
  return new secp256k1.Signature(signature.r, signature.s)
    .addRecoveryBit(signature.yParity)
    .recoverPublicKey(digest.slice(2));
}

/**
 * Whether u1·G + u2·P is R itself: x exactly r (recovery takes R's x to be r, never r + n) and
 * y of the signature's parity. Then recovering from the signature gives P back, and only then:
 * the cached check accepts exactly what recovery accepts.
 */
function verifiesAgainst(point: Point, digest: Hex, signature: CanonicalSignature): boolean {
  const w = invert(signature.s, n);
  const sum = secp256k1.ProjectivePoint.BASE.multiply(mod(BigInt(digest) * w, n)).add(
    point.multiply(mod(signature.r * w, n)),
  );
  if (sum.equals(secp256k1.ProjectivePoint.ZERO)) return false;
  const { x, y } = sum.toAffine();
  return x === signature.r && Number(y & 1n) === signature.yParity;
}

/**
 * The one signature check of Twei, shared by the relayer (at the door) and the auditor (on the
 * evidence), so they accept the same signatures by construction: only canonical ones (`v` 27 or
 * 28, or 0 or 1; low s; the parity of R), for a signer that is recovered from it. A site's
 * envelopes are all signed by one key, so its public key is recovered once and each later
 * signature verified against it (u1·G + u2·P, P with a precomputed window: about three times
 * faster than recovering each time), with the same answer as recovery.
 *
 * @example
 * const verifier = createSignerVerifier(); await verifier.isSignedBy(digest, signature, site.signer)
 */
export function createSignerVerifier(): SignerVerifier {
  const keys = new Map<string, Point>();
  const remember = (signer: Address, point: Point) => {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    // utils.precompute: a copy of the point with an 8-bit window table, filled now.
    keys.set(signer.toLowerCase(), secp256k1.utils.precompute(8, point));
  };
  const recover = (digest: Hex, signature: CanonicalSignature): { signer: Address; point: Point } | undefined => {
    let point: Point;
    try {
      point = recoverPoint(digest, signature);
    } catch {
      return undefined; // no point of x = r on the curve, or the recovered key is the point at infinity
    }
    return { signer: publicKeyToAddress(`0x${point.toHex(false)}`), point }; // checksummed
  };
  const recoverSigner: SignerVerifier["recoverSigner"] = async (digest, signature, expected) => {
    const parsed = parseCanonicalSignature(signature);
    if (!parsed.ok) return parsed;
    const known = expected ? keys.get(expected.toLowerCase()) : undefined;
    if (expected && known && verifiesAgainst(known, digest, parsed.signature))
      return { ok: true, signer: expected, signature: parsed.signature.hex };
    const recovered = recover(digest, parsed.signature);
    if (!recovered) return { ok: false, problem: "the signature recovers no public key" };
    if (expected && !known && recovered.signer.toLowerCase() === expected.toLowerCase())
      remember(recovered.signer, recovered.point);
    return { ok: true, signer: recovered.signer, signature: parsed.signature.hex };
  };
  return {
    recoverSigner,
    async isSignedBy(digest, signature, expected) {
      const recovered = await recoverSigner(digest, signature, expected);
      return recovered.ok && recovered.signer.toLowerCase() === expected.toLowerCase();
    },
  };
}
