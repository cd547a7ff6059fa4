import { secp256k1 } from "@noble/curves/secp256k1";
import { expect } from "chai";
import fc from "fast-check";
import { describe, it } from "mocha";
import { keccak256, numberToHex, recoverAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { parseCanonicalSignature } from "../../src/evidence/canonicalSignature.js";
import { createSignerVerifier } from "../../src/evidence/signerVerifier.js";

const { n } = secp256k1.CURVE;
const vOf = (signature: Hex) => Number.parseInt(signature.slice(130), 16);
const withV = (signature: Hex, v: number) => `${signature.slice(0, 130)}${numberToHex(v, { size: 1 }).slice(2)}` as Hex;
const withS = (signature: Hex, s: bigint) =>
  `${signature.slice(0, 66)}${numberToHex(s, { size: 32 }).slice(2)}${signature.slice(130)}` as Hex;
const sOf = (signature: Hex) => BigInt(`0x${signature.slice(66, 130)}`);

describe("canonical signatures: the relayer's and the auditor's one check (issue 24, finding 1)", function () {
  const signer = privateKeyToAccount(generatePrivateKey());
  const digest = keccak256("0x5e1f");

  it("refuses the other v, v = 0xff and the high-s twin, cached or not; takes v 0 or 1 as 27 or 28", async function () {
    const signature = await signer.sign({ hash: digest });
    const flipped = withV(signature, vOf(signature) === 27 ? 28 : 27);
    const twin = withV(withS(signature, n - sOf(signature)), vOf(signature) === 27 ? 28 : 27);
    // viem's recovery (what the auditor used) takes the high-s twin as the signer's: the malleability closed here.
    expect(await recoverAddress({ hash: digest, signature: twin })).to.equal(signer.address);

    const warm = createSignerVerifier();
    expect(await warm.isSignedBy(digest, signature, signer.address)).to.equal(true); // the key is cached now
    for (const verifier of [warm, createSignerVerifier()]) {
      expect(await verifier.isSignedBy(digest, flipped, signer.address)).to.equal(false);
      expect(await verifier.isSignedBy(digest, withV(signature, 0xff), signer.address)).to.equal(false);
      expect(await verifier.isSignedBy(digest, twin, signer.address)).to.equal(false);
      expect(await verifier.isSignedBy(digest, withV(signature, vOf(signature) - 27), signer.address)).to.equal(true);
    }
    const auditor = createSignerVerifier();
    expect(await auditor.recoverSigner(digest, withV(signature, 0xff))).to.deep.equal({
      ok: false,
      problem: "v is 255: it must be 27 or 28 (or 0 or 1)",
    });
    expect(await auditor.recoverSigner(digest, twin)).to.deep.include({ ok: false });
    const other = await auditor.recoverSigner(digest, flipped);
    expect(other.ok && other.signer).to.not.equal(signer.address);
    expect(await auditor.recoverSigner(digest, withV(signature, vOf(signature) - 27))).to.deep.equal({
      ok: true,
      signer: signer.address,
      signature,
    });
    expect(parseCanonicalSignature(withV(signature, vOf(signature) - 27))).to.deep.include({ ok: true });
  });

  it("the cached check, a fresh recovery and the auditor's recovery give one answer for any last byte, s and r", async function () {
    const warm = createSignerVerifier();
    const original = await signer.sign({ hash: digest });
    await warm.isSignedBy(digest, original, signer.address);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom("keep", "negate", "random") as fc.Arbitrary<"keep" | "negate" | "random">,
        fc.bigInt({ min: 1n, max: n - 1n }),
        fc.boolean(),
        async (v, sChange, randomS, otherDigest) => {
          const hash = otherDigest ? keccak256(digest) : digest;
          const s = sChange === "keep" ? sOf(original) : sChange === "negate" ? n - sOf(original) : randomS;
          const signature = withV(withS(original, s), v);
          const cached = await warm.isSignedBy(hash, signature, signer.address);
          const fresh = await createSignerVerifier().isSignedBy(hash, signature, signer.address);
          const recovered = await createSignerVerifier().recoverSigner(hash, signature);
          const byRecovery = recovered.ok && recovered.signer === signer.address;
          expect([cached, fresh]).to.deep.equal([byRecovery, byRecovery]);
          // Only the signature as signed (v as 27/28 or 0/1) is the signer's.
          expect(byRecovery).to.equal(
            !otherDigest && sChange === "keep" && [vOf(original), vOf(original) - 27].includes(v),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
