import type { Hex } from "viem";
import { buildEvidenceTree, type EvidenceLeaf, type EvidenceVersion } from "./evidenceTree.js";

/** A leaf as the order check sees it: which envelope (by nonce) and where in it, and what the leaf hashes. */
export interface OrderedLeaf extends EvidenceLeaf {
  readonly envelopeNonce: string;
  readonly eventId: string;
}

export interface EvidenceOrder {
  /** Whether the leaves' order is the one the batch settled (so action order can be compared with the chain's). */
  readonly trusted: boolean;
  /** The positions to replay the events in: the evidence's order, or its envelopes' order when that is the batch's. */
  readonly replayOrder: readonly number[];
  /** The reordering found, when one is: the positions moved, and what to say about it. */
  readonly reordered?: {
    readonly positions: readonly number[];
    readonly what: string;
    readonly expected: string;
    readonly found: string;
  };
}

const MAX_NAMED = 8;

const list = (items: readonly string[]) =>
  items.length <= MAX_NAMED
    ? items.join(", ")
    : `${items.slice(0, MAX_NAMED).join(", ")} and ${items.length - MAX_NAMED} more`;

/**
 * The order of a batch's leaves: the relayer lists envelopes in the order it accepted them and
 * cuts a batch's leaves in acceptance order, so leaves follow their envelopes' order (envelope
 * by envelope as listed, each envelope's events by index). Version 2 leaves commit to their
 * positions, so the chain's root settles the question: leaves that hash to it are in the
 * batch's order whatever it is, and leaves that do not but whose envelopes' order does were
 * reordered (named exactly). Version 1 roots do not commit to the order: leaves out of their
 * envelopes' order are named as reordered (a swap of sibling leaves keeps a version 1 root).
 *
 * @example
 * const order = checkEvidenceOrder({ leaves, envelopeNonces, version: 2, onChainRoot })
 */
export function checkEvidenceOrder(parameters: {
  readonly leaves: readonly OrderedLeaf[];
  /** The evidence's envelopes, as listed. */
  readonly envelopeNonces: readonly string[];
  readonly version: EvidenceVersion;
  /** The root the chain settled; the version 2 test needs it. */
  readonly onChainRoot?: Hex;
  /** The root of `leaves` as they are, when the caller built it already (a tree costs three hashes a leaf). */
  readonly root?: Hex;
}): EvidenceOrder {
  const { leaves, version, onChainRoot } = parameters;
  const identity = leaves.map((_, position) => position);
  if (leaves.length === 0) return { trusted: true, replayOrder: identity };
  const rank = new Map(parameters.envelopeNonces.map((nonce, i) => [nonce, i]));
  const key = (leaf: OrderedLeaf) => (rank.get(leaf.envelopeNonce) ?? rank.size) * 0x10000 + leaf.index;
  const canonical = [...identity].sort(
    (a, b) => key(leaves[a] as OrderedLeaf) - key(leaves[b] as OrderedLeaf) || a - b,
  );
  const moved = identity.filter((position) => canonical[position] !== position);
  const rootOf = (order: readonly number[]) =>
    buildEvidenceTree(
      order.map((p) => leaves[p] as OrderedLeaf),
      version,
    ).root;
  let confirmed = false;
  if (version !== 1 && onChainRoot) {
    // Committed positions: the evidence's order is the batch's when its root is the chain's.
    if ((parameters.root ?? rootOf(identity)) === onChainRoot.toLowerCase())
      return { trusted: true, replayOrder: identity };
    if (moved.length === 0) return { trusted: false, replayOrder: identity };
    confirmed = rootOf(canonical) === onChainRoot.toLowerCase();
  }
  if (moved.length === 0) return { trusted: true, replayOrder: identity };
  const describe = (position: number) => {
    const leaf = leaves[position] as OrderedLeaf;
    return `${leaf.eventId} (envelope ${leaf.envelopeNonce} #${leaf.index})`;
  };
  const belongs = moved.map((position) => {
    const target = canonical.indexOf(position);
    return `leaf ${position} holds ${describe(position)}, which belongs at leaf ${target}`;
  });
  return {
    trusted: false,
    replayOrder: canonical,
    reordered: {
      positions: moved,
      what: `the leaves are not in their envelopes' order${confirmed ? " (the chain's root is that of their envelopes' order: the evidence was reordered)" : ""}: ${list(belongs)}`,
      expected: list(moved.map((position) => `${position}: ${describe(canonical[position] as number)}`)),
      found: list(moved.map((position) => `${position}: ${describe(position)}`)),
    },
  };
}
