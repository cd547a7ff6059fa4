import type { Hex } from "viem";
import type { BatchEvidence } from "../../evidence/batchEvidence.js";
import { envelopeDomain } from "../../evidence/envelope.js";
import { buildEvidenceTree, type EvidenceTree } from "../../evidence/evidenceTree.js";
import type { BatchRecord, RelayerStore, StoredEvent } from "../storage/relayerStore.js";
import type { Address } from "viem";

/** Assembles a batch's published evidence (src/evidence/batchEvidence.ts) from the store. */
export async function batchEvidenceOf(
  store: RelayerStore,
  batch: BatchRecord,
  domain: { chainId: number; ledger: Address },
): Promise<{ evidence: BatchEvidence; events: StoredEvent[] }> {
  const events = await store.batchEvents(batch.batchId);
  const keys = [...new Set(events.map((e) => e.envelopeNonce))].map((nonce) => ({ siteId: batch.siteId, nonce }));
  // Listed in the order the batch's leaves first name them (the order they were accepted in):
  // the auditor checks that the leaves follow it (src/evidence/evidenceOrder.ts).
  const rank = new Map(keys.map((key, i) => [key.nonce, i]));
  const envelopes = (await store.envelopes(keys)).sort((a, b) => (rank.get(a.nonce) ?? 0) - (rank.get(b.nonce) ?? 0));
  const typed = envelopeDomain(domain);
  return {
    events,
    evidence: {
      version: batch.evidenceVersion,
      batchId: batch.batchId.toString(),
      siteId: batch.siteId,
      evidenceRoot: batch.evidenceRoot,
      actions: batch.actions,
      domain: {
        name: typed.name as BatchEvidence["domain"]["name"],
        version: typed.version as BatchEvidence["domain"]["version"],
        chainId: domain.chainId,
        verifyingContract: domain.ledger,
      },
      envelopes: envelopes.map((e) => ({
        nonce: e.nonce.toString(),
        eventsHash: e.eventsHash,
        digest: e.digest,
        signature: e.signature,
        eventHashes: [...e.eventHashes],
        ...(e.acceptedAtBlock === null ? {} : { acceptedAtBlock: e.acceptedAtBlock.toString() }),
      })),
      events: events.map((e) => ({
        leafIndex: e.leafIndex ?? 0,
        envelopeNonce: e.envelopeNonce.toString(),
        envelopeIndex: e.envelopeIndex,
        eventHash: e.eventHash,
        event: e.event,
        ...(e.attestation === null ? {} : { attestation: e.attestation }),
      })),
    },
  };
}

/** A small cache of batch trees: proofs are asked per event, a tree costs a few ms per 100 leaves. */
export function createTreeCache(size = 32) {
  const trees = new Map<string, EvidenceTree>();
  return (batch: BatchRecord, events: readonly StoredEvent[]): EvidenceTree => {
    const key = batch.batchId.toString();
    let tree = trees.get(key);
    if (!tree) {
      tree = buildEvidenceTree(
        events.map((e) => ({
          eventHash: e.eventHash,
          envelopeDigest: e.envelopeDigest as Hex,
          index: e.envelopeIndex,
        })),
        batch.evidenceVersion,
      );
      if (trees.size >= size) trees.delete(trees.keys().next().value as string);
      trees.set(key, tree);
    }
    return tree;
  };
}
