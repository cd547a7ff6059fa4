import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { Hex } from "viem";

/**
 * A batch's evidence tree: one leaf per settled event, in the batch's order (the order the
 * relayer accepted them), each leaf `(bytes32 eventHash, bytes32 envelopeDigest, uint16 index)`:
 * the event's canonical hash, the EIP-712 digest of the envelope it came in, and its position
 * in that envelope. OpenZeppelin's StandardMerkleTree hashes the ABI-encoded leaf twice and
 * sorts each pair, so proofs verify with OpenZeppelin's MerkleProof in Solidity too. Leaves
 * are not sorted, so leaf order is batch order.
 */
export const EVIDENCE_LEAF_ENCODING = ["bytes32", "bytes32", "uint16"];

export interface EvidenceLeaf {
  readonly eventHash: Hex;
  readonly envelopeDigest: Hex;
  readonly index: number;
}

type LeafTuple = [Hex, Hex, number];

const tupleOf = (leaf: EvidenceLeaf): LeafTuple => [leaf.eventHash, leaf.envelopeDigest, leaf.index];

export interface EvidenceTree {
  readonly root: Hex;
  /** The proof of the i-th leaf. */
  proof(index: number): Hex[];
}

/**
 * Builds the evidence tree of a batch's leaves, in order.
 *
 * @example
 * const { root } = buildEvidenceTree(leaves); // the `evidenceRoot` passed to settle
 */
export function buildEvidenceTree(leaves: readonly EvidenceLeaf[]): EvidenceTree {
  if (leaves.length === 0) throw new RangeError("an evidence tree needs at least one leaf");
  const tree = StandardMerkleTree.of(leaves.map(tupleOf), EVIDENCE_LEAF_ENCODING, { sortLeaves: false });
  return { root: tree.root as Hex, proof: (index) => tree.getProof(index) as Hex[] };
}

/**
 * Checks a leaf's proof against an evidence root.
 *
 * @example
 * verifyEvidenceProof(batch.evidenceRoot, leaf, proof) // true
 */
export function verifyEvidenceProof(root: Hex, leaf: EvidenceLeaf, proof: readonly Hex[]): boolean {
  return StandardMerkleTree.verify(root, EVIDENCE_LEAF_ENCODING, tupleOf(leaf), [...proof]);
}
