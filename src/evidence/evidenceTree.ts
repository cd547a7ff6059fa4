import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { Hex } from "viem";
import { doubleKeccakHex, keccakBytes } from "./keccak.js";

/**
 * A batch's evidence tree: one leaf per settled event, in the batch's order (the order the
 * relayer accepted them). OpenZeppelin's StandardMerkleTree hashes the ABI-encoded leaf twice
 * and sorts each pair, so proofs verify with OpenZeppelin's MerkleProof in Solidity too; the
 * sorted pairs are also why a leaf must commit to its own position. The leaf encodings, by
 * evidence version (the evidence JSON's `version`, the relayer's `batches.evidence_version`):
 *
 * - 1: `(bytes32 eventHash, bytes32 envelopeDigest, uint16 index)`: the event's canonical hash,
 *   the EIP-712 digest of the envelope it came in, and its index in that envelope. Swapping
 *   two sibling leaves (or subtrees) keeps the root: the root does not commit to the order.
 * - 2: `(uint32 position, bytes32 eventHash, bytes32 envelopeDigest, uint16 index)`: the same,
 *   after the leaf's position in the batch (0-based), so any reordering changes the root.
 */
export const EVIDENCE_LEAF_ENCODINGS = {
  1: ["bytes32", "bytes32", "uint16"],
  2: ["uint32", "bytes32", "bytes32", "uint16"],
} as const satisfies Record<number, readonly string[]>;

export type EvidenceVersion = keyof typeof EVIDENCE_LEAF_ENCODINGS;

/** The evidence version new batches are built with. */
export const EVIDENCE_VERSION: EvidenceVersion = 2;

export const EVIDENCE_VERSIONS = Object.keys(EVIDENCE_LEAF_ENCODINGS).map(Number) as EvidenceVersion[];

export interface EvidenceLeaf {
  readonly eventHash: Hex;
  readonly envelopeDigest: Hex;
  readonly index: number;
}

const tupleOf = (leaf: EvidenceLeaf, position: number, version: EvidenceVersion): (Hex | number)[] =>
  version === 1
    ? [leaf.eventHash, leaf.envelopeDigest, leaf.index]
    : [position, leaf.eventHash, leaf.envelopeDigest, leaf.index];

export interface EvidenceTree {
  readonly root: Hex;
  /** The proof of the i-th leaf. */
  proof(index: number): Hex[];
}

/**
 * Builds the evidence tree of a batch's leaves, in order (the i-th leaf at position i).
 *
 * @example
 * const { root } = buildEvidenceTree(leaves); // the `evidenceRoot` passed to settle
 */
export function buildEvidenceTree(
  leaves: readonly EvidenceLeaf[],
  version: EvidenceVersion = EVIDENCE_VERSION,
): EvidenceTree {
  if (leaves.length === 0) throw new RangeError("an evidence tree needs at least one leaf");
  // The same tree as StandardMerkleTree.of(tuples, EVIDENCE_LEAF_ENCODINGS[version], { sortLeaves: false })
  // (a test checks it), built here: OpenZeppelin's generic ABI encoder costs about 0.2 ms a leaf
  // (SimpleMerkleTree runs every leaf hash through it again, then rebuilds the tree to validate
  // it: 60% of a large audit's time), this fixed layout a few microseconds.
  const tree = makeTree(leaves.map((leaf, position) => keccakBytes(keccakBytes(encodeLeaf(leaf, position, version)))));
  const hex = (node: Uint8Array): Hex => `0x${Buffer.from(node).toString("hex")}`;
  return {
    root: hex(tree[0] as Uint8Array),
    proof(index) {
      if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError(`no leaf ${index}`);
      const proof: Hex[] = [];
      // OpenZeppelin's layout: leaf i at tree[length - 1 - i], node j's children at 2j + 1 and 2j + 2.
      for (let node = tree.length - 1 - index; node > 0; node = Math.floor((node - 1) / 2))
        proof.push(hex(tree[node % 2 === 1 ? node + 1 : node - 1] as Uint8Array));
      return proof;
    },
  };
}

/** OpenZeppelin's makeMerkleTree (an array, root first) with its standard node hash: keccak256 of the sorted pair. */
function makeTree(leaves: readonly Uint8Array[]): Uint8Array[] {
  const tree: Uint8Array[] = new Array<Uint8Array>(2 * leaves.length - 1);
  leaves.forEach((leaf, i) => (tree[tree.length - 1 - i] = leaf));
  const pair = Buffer.alloc(64);
  for (let i = tree.length - 1 - leaves.length; i >= 0; i--) {
    const a = tree[2 * i + 1] as Uint8Array;
    const b = tree[2 * i + 2] as Uint8Array;
    const [low, high] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
    pair.set(low, 0);
    pair.set(high, 32);
    tree[i] = keccakBytes(pair);
  }
  return tree;
}

/**
 * The standard leaf hash of an evidence leaf at a position:
 * keccak256(keccak256(abi.encode(...the version's leaf encoding))).
 *
 * @example
 * evidenceLeafHash(leaf, 3) // equals StandardMerkleTree's leafHash of the leaf's tuple
 */
export function evidenceLeafHash(
  leaf: EvidenceLeaf,
  position: number,
  version: EvidenceVersion = EVIDENCE_VERSION,
): Hex {
  return doubleKeccakHex(encodeLeaf(leaf, position, version));
}

/** abi.encode of the version's leaf tuple, checked. */
function encodeLeaf(leaf: EvidenceLeaf, position: number, version: EvidenceVersion): Buffer {
  if (!Number.isInteger(leaf.index) || leaf.index < 0 || leaf.index > 0xffff) throw new RangeError("index is a uint16");
  if (!Number.isInteger(position) || position < 0 || position > 0xffffffff)
    throw new RangeError("position is a uint32");
  const offset = version === 1 ? 0 : 32;
  const encoded = Buffer.alloc(96 + offset);
  if (version !== 1) encoded.writeUInt32BE(position, 28);
  if (encoded.write(leaf.eventHash.slice(2), offset, 32, "hex") !== 32)
    throw new RangeError("eventHash is not bytes32");
  if (encoded.write(leaf.envelopeDigest.slice(2), offset + 32, 32, "hex") !== 32)
    throw new RangeError("envelopeDigest is not bytes32");
  encoded.writeUInt16BE(leaf.index, offset + 94);
  return encoded;
}

/**
 * Checks the proof of a leaf at `position` against an evidence root.
 *
 * @example
 * verifyEvidenceProof(batch.evidenceRoot, leaf, proof, { position: event.leafIndex, version: batch.evidenceVersion }) // true
 */
export function verifyEvidenceProof(
  root: Hex,
  leaf: EvidenceLeaf,
  proof: readonly Hex[],
  at: { readonly position: number; readonly version?: EvidenceVersion },
): boolean {
  const version = at.version ?? EVIDENCE_VERSION;
  return StandardMerkleTree.verify(root, [...EVIDENCE_LEAF_ENCODINGS[version]], tupleOf(leaf, at.position, version), [
    ...proof,
  ]);
}
