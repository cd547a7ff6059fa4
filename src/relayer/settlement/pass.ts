import { describeChainError } from "../../chain/decodeRevert.js";
import { isDatabaseUnavailable } from "../../storage/databaseUnavailable.js";
import type { CapWait } from "../storage/relayerStore.js";
import { capWaitOver, startCapWait, type CapWaitRefreshes } from "./capWait.js";
import { attemptHashes, receiptOf } from "./chainLookups.js";
import { cutBatch } from "./cut.js";
import { isFinal, readChainHeads, type ChainHeads } from "./finality.js";
import { gateFor, type SettlementGate } from "./gate.js";
import { driveBatch } from "./send.js";
import type { SettlementContext } from "./settlementContext.js";
import { abandon, finalize, trackBatch } from "./track.js";

/** What a pass remembers from one pass to the next (nothing that guards money: that is the store's). */
export interface PassState {
  /** Sites found deactivated (their events held), so that the log says it once. */
  readonly heldSites: Set<number>;
  /** When each site's wait for cap room was last estimated (the waits themselves are the store's). */
  readonly capWaits: CapWaitRefreshes;
  /** When a stuck nonce was last cancelled, per batch id. */
  readonly cancels: Map<bigint, number>;
  /** Per-site transient faults: the next pass that may try again, and the last message logged. */
  readonly backoff: Map<number, { until: number; failures: number; message: string }>;
  /** Whether the recorded batches were checked against the chain since start. */
  reconciled: boolean;
}

/** A fresh pass state. */
export const newPassState = (): PassState => ({
  heldSites: new Set(),
  capWaits: new Map(),
  cancels: new Map(),
  backoff: new Map(),
  reconciled: false,
});

async function hold(context: SettlementContext, state: PassState, siteId: number, reason: string) {
  const held = await context.store.holdSite(siteId);
  if (!state.heldSites.has(siteId)) {
    state.heldSites.add(siteId);
    context.log.warn(
      { siteId, held, reason },
      "the site is deactivated on the ledger; its events are held until it is active again",
    );
  }
}

/** One site's round: its batch on the way first, then new batches while they get mined. */
async function settleSite(
  context: SettlementContext,
  state: PassState,
  siteId: number,
  eligible: boolean,
  capWait: CapWait | undefined,
) {
  const { store, reader, publicClient, config, log } = context;
  const onChain = await reader.site(siteId);
  if (!onChain.active) {
    const open = (await store.openBatches()).filter((b) => b.siteId === siteId && b.attempts.length === 0);
    for (const batch of open) await abandon(context, batch, "the site is deactivated on the ledger");
    await hold(context, state, siteId, "the site is deactivated on the ledger");
    return;
  }
  if (state.heldSites.delete(siteId) || (await store.heldSites()).includes(siteId)) {
    const released = await store.releaseSite(siteId);
    log.info({ siteId, released }, "the site is active again; its held events go out");
    eligible ||= released > 0; // they have waited long enough
  }
  if (!(await capWaitOver(context, state.capWaits, capWait))) return;
  // Cut batch after batch while they get mined, so a backlog (or a batch split for the gas or
  // emission cap, or around refused events) drains in one pass. One batch of a site is on its
  // way at a time, in order: the next may use the posts the one before it registers.
  for (let round = 0; round < 100 && !context.stopped() && context.gate.current.state === "open"; round++) {
    const open = (await store.openBatches()).find((b) => b.siteId === siteId);
    let probedGas: bigint | undefined;
    let batch = open;
    if (!batch) {
      if (!eligible && round === 0) return;
      const cut = await cutBatch(context, { siteId });
      switch (cut.kind) {
        case "recorded":
          batch = cut.batch;
          probedGas = cut.gas;
          break;
        case "none":
          return;
        case "held":
          await hold(context, state, siteId, cut.reason);
          return;
        case "capWait":
          await startCapWait(context, state.capWaits, { siteId, revert: cut.revert });
          return;
        case "blocked":
          context.gate.set(gateFor(cut.why, { account: context.walletClient.account.address, ledger: context.ledger }));
          return;
      }
    }
    const outcome = await driveBatch(context, {
      batch,
      cancels: state.cancels,
      ...(probedGas !== undefined ? { probedGas } : {}),
    });
    if (outcome === "included") {
      const current = await store.batch(batch.batchId);
      const receipt = current && (await receiptOf(context, attemptHashes(current)));
      if (
        current &&
        receipt &&
        isFinal(config.finality, await readChainHeads(publicClient, config.finality), receipt.blockNumber)
      )
        await finalize(context, current, receipt);
      continue;
    }
    if (outcome !== "abandoned") return;
  }
}

function siteFailed(context: SettlementContext, state: PassState, siteId: number, error: unknown) {
  const message = describeChainError(error);
  const previous = state.backoff.get(siteId);
  const failures = (previous?.failures ?? 0) + 1;
  state.backoff.set(siteId, {
    until: Date.now() + Math.min(60_000, context.config.intervalMs * 2 ** failures),
    failures,
    message,
  });
  context.metrics.chainErrors.inc();
  // Said once per new message, not once a pass.
  if (previous?.message !== message)
    context.log.warn({ siteId, error: message }, "settling the site failed; retrying with backoff");
}

/**
 * One settlement pass: the gate read from the chain; the batches on their way tracked (mined,
 * moved, removed by a reorg, final); then each site's round, side by side, each on its own (one's
 * fault or slow transaction never holds up another's; a failing site backs off). Never rejects:
 * a database that cannot be reached closes the gate (`store_unreachable`) until it answers again.
 *
 * @example
 * await runPass(context, state)
 */
export async function runPass(context: SettlementContext, state: PassState): Promise<void> {
  try {
    await pass(context, state);
  } catch (error) {
    // No fault of the database or of a dependency ends the process: the pass stops here, says
    // why (once: the gate logs a change), and the next one tries again.
    if (isDatabaseUnavailable(error))
      context.gate.set({
        state: "store_unreachable",
        detail: `the relayer's database cannot be reached: ${(error as Error).message}`,
      });
    else if ((error as Error | undefined)?.name === "LeaseLostError")
      // Another instance took the lease over (this one was hung past its deadline): its writes
      // are fenced off; the lease loop stops this settlement loop at its next renewal.
      context.log.warn(
        { error: (error as Error).message },
        "the submitter lease was taken over: this pass wrote nothing",
      );
    else {
      context.metrics.chainErrors.inc();
      context.log.error({ error: describeChainError(error) }, "the settlement pass failed; the next one tries again");
    }
  }
}

async function pass(context: SettlementContext, state: PassState): Promise<void> {
  const { store, reader, publicClient, config, metrics, walletClient, ledger } = context;
  const me = walletClient.account.address;
  let heads: ChainHeads;
  let gate: SettlementGate;
  try {
    heads = await readChainHeads(publicClient, config.finality);
    const [paused, authorized] = await Promise.all([reader.paused(), reader.isRelayer(me)]);
    gate = paused
      ? gateFor("paused", { account: me, ledger })
      : authorized
        ? { state: "open" }
        : gateFor("unauthorized", { account: me, ledger });
  } catch (error) {
    context.gate.set({ state: "chain_unreachable", detail: `the chain cannot be read: ${describeChainError(error)}` });
    metrics.chainErrors.inc();
    return;
  }
  const watchFrom = heads.head > BigInt(config.reorgWatchBlocks) ? heads.head - BigInt(config.reorgWatchBlocks) : 0n;
  const tracked = await store.trackedBatches(watchFrom);
  // Set once the store answered too, so that a database outage does not flip the gate each pass.
  context.gate.set(gate);
  for (const batch of tracked) {
    if (batch.status === "recorded") continue; // driven by its site below
    try {
      await trackBatch(context, batch, heads);
    } catch (error) {
      siteFailed(context, state, batch.siteId, error);
    }
  }
  state.reconciled = true;
  if (context.gate.current.state !== "open") return;
  const now = Date.now();
  const sites = new Map<number, boolean>();
  for (const { siteId, count, oldestReceivedAt } of await store.pendingSites())
    sites.set(siteId, count >= config.minEvents || now - oldestReceivedAt >= config.maxWaitMs);
  for (const siteId of await store.heldSites()) if (!sites.has(siteId)) sites.set(siteId, false);
  for (const batch of await store.openBatches()) sites.set(batch.siteId, sites.get(batch.siteId) ?? false);
  // Read each pass (not kept in memory): a new leader, or this one after a restart, goes on
  // with the waits the store holds, and every instance reports them.
  const capWaits = new Map((await store.capWaits()).map((wait) => [wait.siteId, wait]));
  for (const siteId of capWaits.keys()) if (!sites.has(siteId)) sites.set(siteId, false);
  await Promise.all(
    [...sites].map(async ([siteId, eligible]) => {
      if ((state.backoff.get(siteId)?.until ?? 0) > Date.now()) return;
      try {
        await settleSite(context, state, siteId, eligible, capWaits.get(siteId));
        state.backoff.delete(siteId);
      } catch (error) {
        siteFailed(context, state, siteId, error);
      }
    }),
  );
}
