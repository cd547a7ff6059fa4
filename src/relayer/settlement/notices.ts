import { decodeEventLog, getAddress, type Address, type TransactionReceipt } from "viem";
import { tweiLedgerAbi } from "../../chain/abi.js";
import { KINDS } from "../../core/kinds.js";
import { amountFor } from "../../core/ruleSet.js";
import type { RuleSetOnChain } from "../chain/chainReader.js";
import type { BatchRecord, CapWait, EventFailure, EventNotice, StoredEvent } from "../storage/relayerStore.js";
import { packBatch, type ActionOrigin } from "./buildBatch.js";

// The webhook payloads the settlement loop queues: `event.settled` once a batch is final,
// `event.failed` when the ledger refuses an event for good, `event.waiting_for_cap` when an event
// waits for room under a cap (once per event and wait), `event.reorged` when a reorg
// deeper than the finality depth removed a settled batch (it is sent again, and settles anew).

/** The action indexes of a batch's BurnShortfall logs in its receipt. */
function shortfallsOf(receipt: TransactionReceipt, ledger: Address, batchId: bigint): Set<number> {
  const shortfalls = new Set<number>();
  for (const entry of receipt.logs) {
    if (entry.address.toLowerCase() !== ledger.toLowerCase()) continue;
    try {
      const decoded = decodeEventLog({ abi: tweiLedgerAbi, data: entry.data, topics: entry.topics });
      if (decoded.eventName === "BurnShortfall" && decoded.args.batchId === batchId)
        shortfalls.add(Number(decoded.args.actionIndex));
    } catch {
      // another event of the ledger
    }
  }
  return shortfalls;
}

/**
 * `event.settled` for each event of a final batch: its actions with their amounts under the
 * rule set the batch settled under, and whether each burn was paid (a BurnShortfall says it was not).
 *
 * @example
 * const notices = settledNotices({ batch, events, receipt, ruleSet: await reader.ruleSetOf(2), ledger })
 */
export function settledNotices(parameters: {
  batch: BatchRecord;
  events: readonly StoredEvent[];
  receipt: TransactionReceipt;
  /** The rule set the batch named. */
  ruleSet: RuleSetOnChain;
  ledger: Address;
}): EventNotice[] {
  const { batch, events, receipt, ruleSet, ledger } = parameters;
  const { amounts } = ruleSet;
  const shortfalls = shortfallsOf(receipt, ledger, batch.batchId);
  const { origins } = packBatch(events);
  const perEvent = new Map<number, { origin: ActionOrigin; actionIndex: number }[]>();
  origins.forEach((origin, actionIndex) => {
    const list = perEvent.get(origin.leafIndex) ?? [];
    list.push({ origin, actionIndex });
    perEvent.set(origin.leafIndex, list);
  });
  return events.map((event, leafIndex) => ({
    siteId: event.siteId,
    eventId: event.eventId,
    payload: JSON.stringify({
      type: "event.settled",
      siteId: event.siteId,
      eventId: event.eventId,
      batchId: batch.batchId.toString(),
      txHash: receipt.transactionHash,
      blockNumber: receipt.blockNumber.toString(),
      ruleSetVersion: ruleSet.version,
      actions: (perEvent.get(leafIndex) ?? []).map(({ origin: { action }, actionIndex }) => ({
        actionIndex,
        kind: action.kind,
        label: KINDS[action.kind]?.label,
        account: getAddress(action.account),
        units: action.units,
        amount: amountFor(amounts, action.kind, action.units).toString(),
        paid: !shortfalls.has(actionIndex),
      })),
    }),
  }));
}

/** `event.failed`: the event will never settle, and why. */
export function failedNotice(event: StoredEvent, failure: EventFailure): string {
  return JSON.stringify({
    type: "event.failed",
    siteId: event.siteId,
    eventId: event.eventId,
    code: failure.code,
    message: failure.message,
  });
}

/** `event.reorged` for each event of a settled batch a reorg removed: it is on its way again. */
export function reorgedNotices(batch: BatchRecord, events: readonly StoredEvent[]): EventNotice[] {
  return events.map((event) => ({
    siteId: event.siteId,
    eventId: event.eventId,
    payload: JSON.stringify({
      type: "event.reorged",
      siteId: event.siteId,
      eventId: event.eventId,
      batchId: batch.batchId.toString(),
      removedTxHash: batch.txHash,
      removedBlockNumber: batch.blockNumber?.toString() ?? null,
    }),
  }));
}

/**
 * A wait for room under a cap as GET /v1/events and the webhook show it: the cap, the ledger's
 * refusal, since when, and when room returns (ISO and unix seconds of the chain; null: not under
 * the caps known, e.g. one event above the cap, which waits for a raise).
 *
 * @example
 * capWaitView(wait) // { cap: "mint", reason: "…", since: "…", roomAt: "2026-…Z", roomAtUnix: 1796601600 }
 */
export function capWaitView(wait: CapWait) {
  return {
    cap: wait.cap,
    reason: wait.reason,
    since: new Date(wait.since).toISOString(),
    roomAt: wait.roomAt === null ? null : new Date(Number(wait.roomAt) * 1000).toISOString(),
    roomAtUnix: wait.roomAt === null ? null : Number(wait.roomAt),
  };
}

/** `event.waiting_for_cap`: the event waits for room under a cap of the ledger's, and until when. */
export function waitingForCapNotice(event: StoredEvent, wait: CapWait): string {
  return JSON.stringify({
    type: "event.waiting_for_cap",
    siteId: event.siteId,
    eventId: event.eventId,
    status: "waiting_for_cap",
    waitingForCap: capWaitView(wait),
  });
}
