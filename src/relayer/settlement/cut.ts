import type { DecodedRevert } from "../../chain/decodeRevert.js";
import { formatRevert } from "../../chain/decodeRevert.js";
import { amountFor } from "../../core/ruleSet.js";
import { EVIDENCE_VERSION } from "../../evidence/evidenceTree.js";
import type { BatchRecord, StoredEvent } from "../storage/relayerStore.js";
import { fitPostRefs, packBatch, roughGas } from "./buildBatch.js";
import { failureCodeOf, failureMessageOf } from "./classifyRevert.js";
import { isolatePoison } from "./isolatePoison.js";
import { failedNotice } from "./notices.js";
import { probe } from "./probe.js";
import type { SettlementContext } from "./settlementContext.js";

/**
 * Events priced under a replaced rule set are cut while at least this much of its grace remains
 * (seconds), so that their batch is mined in time; after that they are priced anew.
 */
export const RULE_SET_GRACE_MARGIN_S = 120n;

/** The leading events that share the first one's rule-set version: one batch names one version. */
export function leadingRun(events: readonly StoredEvent[]): StoredEvent[] {
  const version = events[0]?.ruleSetVersion;
  const end = events.findIndex((event) => event.ruleSetVersion !== version);
  return end === -1 ? [...events] : events.slice(0, end);
}

/** What cutting a site's next batch came to. */
export type CutBatchReturnType =
  /** A batch recorded (nothing sent yet), with the gas its dry run took. */
  | { readonly kind: "recorded"; readonly batch: BatchRecord; readonly gas: bigint }
  /** Nothing to cut (none pending, or the rule set changed under the dry run: the next pass prices anew). */
  | { readonly kind: "none" }
  /** The ledger refuses the site itself (deactivated, unknown): its events wait, held. */
  | { readonly kind: "held"; readonly reason: string }
  /** A single event is over an emission cap: the site waits for room. */
  | { readonly kind: "capWait"; readonly revert: DecodedRevert }
  /** The ledger is paused, or the relayer lacks its role: nobody settles. */
  | { readonly kind: "blocked"; readonly why: "paused" | "unauthorized" };

/** Fails the event the ledger refuses (and its dependents), found by bisecting the candidate batch. */
async function failPoison(
  context: SettlementContext,
  siteId: number,
  version: number,
  events: readonly StoredEvent[],
): Promise<boolean> {
  const { store, metrics, log } = context;
  const found = await isolatePoison(events, (prefix) => probe(context, { siteId, version, events: prefix }));
  if (!found) return false;
  const failure = { code: failureCodeOf(found.revert), message: failureMessageOf(found.revert) };
  const site = await store.site(siteId);
  const failed = await store.failEvents(siteId, [{ seq: found.item.seq, ...failure }], (event, why) =>
    site?.webhookUrl ? failedNotice(event, why) : null,
  );
  for (const { event, failure: why } of failed) {
    metrics.eventsFailed.inc({ code: why.code });
    log.warn({ siteId, eventId: event.eventId, code: why.code, reason: why.message }, "event failed");
  }
  log.info({ siteId, probes: found.probes, failed: failed.length }, "refused events isolated; the rest goes on");
  return true;
}

/**
 * The site's pending events, priced under a rule set `settle` takes: when the oldest one's
 * version is no longer taken (or its grace ends within RULE_SET_GRACE_MARGIN_S), every pending
 * event not priced under the version in force is priced anew under it (reservations included).
 */
async function pricedPending(context: SettlementContext, siteId: number): Promise<StoredEvent[]> {
  const { store, reader, metrics, log, config } = context;
  const pending = await store.pendingEvents(siteId, config.maxBatchEvents);
  const first = pending[0];
  if (!first) return pending;
  const versions = await reader.versionsInForce();
  const version = first.ruleSetVersion;
  const taken =
    version === versions.current ||
    (version === versions.previous && versions.graceEndsAt - versions.chainTime >= RULE_SET_GRACE_MARGIN_S);
  if (taken) return pending;
  const { amounts } = await reader.ruleSetOf(versions.current);
  const repriced = await store.repriceEvents(siteId, versions.current, (action) =>
    amountFor(amounts, action.kind, action.units),
  );
  metrics.eventsRepriced.inc(repriced);
  log.warn(
    { siteId, events: repriced, from: version, to: versions.current },
    "pending events priced anew: the rule set they were accepted under is no longer taken by the ledger",
  );
  return store.pendingEvents(siteId, config.maxBatchEvents);
}

/**
 * Cuts the next batch of a site: a prefix of its pending events, of one rule-set version, that
 * fits the gas cap and the caps on mints and burns, found by dry runs; events the ledger refuses for their
 * own content are failed on the way (isolatePoison). Records the batch before anything is sent.
 *
 * @example
 * const cut = await cutBatch(context, { siteId }); if (cut.kind === "recorded") …
 */
export async function cutBatch(
  context: SettlementContext,
  parameters: { siteId: number },
): Promise<CutBatchReturnType> {
  const { store, config, metrics } = context;
  const { siteId } = parameters;
  let events = fitPostRefs(leadingRun(await pricedPending(context, siteId)));
  const first = events[0]?.ruleSetVersion;
  if (first === undefined || first === null) return { kind: "none" }; // none pending (priced ones carry a version)
  let version = first;
  while (events.length > 1 && roughGas(events) > config.gasCap) events = events.slice(0, Math.ceil(events.length / 2));
  for (let attempt = 0; attempt < 10_000 && !context.stopped(); attempt++) {
    if (events.length === 0) return { kind: "none" };
    const result = await probe(context, { siteId, version, events });
    if (result.kind === "ok") {
      if (result.gas > config.gasCap) {
        const scaled = Math.floor(((events.length * Number(config.gasCap)) / Number(result.gas)) * 0.95);
        events = events.slice(0, Math.max(1, Math.min(events.length - 1, scaled)));
        continue;
      }
      const root = await context.evidenceRoot(
        events.map((event) => ({
          eventHash: event.eventHash,
          envelopeDigest: event.envelopeDigest,
          index: event.envelopeIndex,
        })),
      );
      const batch = await store.recordBatch({
        siteId,
        seqs: events.map((event) => event.seq),
        evidenceRoot: root,
        evidenceVersion: EVIDENCE_VERSION,
        actions: packBatch(events).packed,
        ruleSetVersion: version,
        createdAt: Date.now(),
      });
      metrics.batches.inc({ outcome: "recorded" });
      return { kind: "recorded", batch, gas: result.gas };
    }
    switch (result.kind) {
      case "cap": {
        if (events.length > 1) {
          events = events.slice(0, Math.ceil(events.length / 2));
          continue;
        }
        return { kind: "capWait", revert: result.revert };
      }
      case "site":
        return { kind: "held", reason: formatRevert(result.revert) };
      case "paused":
      case "unauthorized":
        return { kind: "blocked", why: result.kind };
      case "rules":
        // Its grace ended between the check and the dry run: the next pass prices them anew.
        return { kind: "none" };
      case "settled":
      case "poison": {
        if (!(await failPoison(context, siteId, version, events))) continue; // refused no more: probe again
        events = fitPostRefs(leadingRun(await store.pendingEvents(siteId, config.maxBatchEvents))).slice(
          0,
          events.length,
        );
        // The refused events may have been the whole run of this version: the next run is cut
        // and named under its own (one whose grace ended is refused as `rules`, and priced anew).
        const next = events[0]?.ruleSetVersion;
        if (next === undefined || next === null) return { kind: "none" };
        version = next;
        continue;
      }
    }
  }
  return { kind: "none" };
}
