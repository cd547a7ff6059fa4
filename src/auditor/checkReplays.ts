import type { BatchEvidence } from "../evidence/batchEvidence.js";
import type { Add } from "./discrepancy.js";
import type { SettledBatchLog } from "./readLedgerHistory.js";

/**
 * What the audited batches settled so far, across batches: an event settles once in the whole
 * history (its id is unique per site), and an envelope nonce names one envelope per site.
 */
export interface SettledEvents {
  /**
   * Records a batch's events and envelopes, naming each one the history already holds as
   * `event_replayed`: an event id settled before (in an earlier batch, or twice in this one), or
   * an envelope nonce that signed other events in an earlier batch. One envelope split over
   * several batches is no repeat: its nonce comes back with the same digest, its events don't.
   */
  check(batch: SettledBatchLog, evidence: BatchEvidence, add: Add): void;
}

interface SiteHistory {
  /** Event id → the batch that settled it first. */
  readonly events: Map<string, string>;
  /** Envelope nonce → its digest and the first batch that carried it. */
  readonly nonces: Map<string, { readonly digest: string; readonly batchId: string }>;
}

/**
 * The auditor's memory of settled event ids and envelope nonces (no rule marks a report
 * purchase as once-only, so without it a relayer holding the key and the archive could settle
 * one signed purchase twice, burning the buyer twice, with every batch checking out on its own).
 * Grows with the history: two short strings per event.
 *
 * @example
 * const settled = createSettledEvents(); settled.check(batch, evidence, add) // event_replayed on a repeat
 */
export function createSettledEvents(): SettledEvents {
  const sites = new Map<number, SiteHistory>();
  return {
    check(batch, evidence, add) {
      let site = sites.get(batch.siteId);
      if (!site) sites.set(batch.siteId, (site = { events: new Map(), nonces: new Map() }));
      const batchId = batch.batchId.toString();
      for (const envelope of evidence.envelopes) {
        const digest = envelope.digest.toLowerCase();
        const first = site.nonces.get(envelope.nonce);
        if (!first) site.nonces.set(envelope.nonce, { digest, batchId });
        else if (first.digest !== digest)
          add(
            "event_replayed",
            `envelope ${envelope.nonce}`,
            `site ${batch.siteId}'s envelope nonce ${envelope.nonce} signed other events in batch ${first.batchId}: a nonce names one envelope`,
            first.digest,
            digest,
          );
      }
      for (const { event } of evidence.events) {
        const first = site.events.get(event.eventId);
        if (first === undefined) {
          site.events.set(event.eventId, batchId);
          continue;
        }
        add(
          "event_replayed",
          `event ${event.eventId}`,
          `site ${batch.siteId}'s event ${event.eventId} was settled already${first === batchId ? " in this batch" : ""}: a signed event settles once`,
          `settled once, in batch ${first}`,
          `settled again in batch ${batchId}`,
        );
      }
    },
  };
}
