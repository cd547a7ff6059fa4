import { tweiLedgerAbi } from "../../chain/abi.js";
import { formatRevert, type DecodedRevert } from "../../chain/decodeRevert.js";
import { kindInfo } from "../../core/kinds.js";
import { amountFor } from "../../core/ruleSet.js";
import type { CapName, CapWait, StoredEvent } from "../storage/relayerStore.js";
import { latestOf, roomReturnsAt } from "./capRoom.js";
import { waitingForCapNotice } from "./notices.js";
import type { SettlementContext } from "./settlementContext.js";

/**
 * How often, at most, a waiting site's estimate of when room returns is worked out anew (four
 * more chain reads), unless the ledger's figures moved.
 */
export const CAP_WAIT_REFRESH_MS = 30_000;

/**
 * What the settlement loop keeps of each wait between passes, to spare chain reads: when its
 * estimate was last worked out, and from which figures. The wait itself is the store's.
 */
export type CapWaitRefreshes = Map<number, { readonly at: number; readonly figures: string }>;

/** The cap each of the ledger's cap errors names. */
const CAP_OF_ERROR: Readonly<Record<string, CapName>> = {
  TweiLedgerEmissionCapExceeded: "mint",
  TweiLedgerSiteEmissionCapExceeded: "site_mint",
  TweiLedgerBurnCapExceeded: "burn",
  TweiLedgerSiteBurnCapExceeded: "site_burn",
};

/** What an event mints and burns at most (a burn an account cannot pay in full counts less on-chain). */
async function needOf(context: SettlementContext, event: StoredEvent): Promise<{ mint: bigint; burn: bigint }> {
  const version = event.ruleSetVersion ?? (await context.reader.versionsInForce()).current;
  const { amounts } = await context.reader.ruleSetOf(version);
  const need = { mint: 0n, burn: 0n };
  for (const action of event.actions)
    need[kindInfo(action.kind).direction] += amountFor(amounts, action.kind, action.units);
  return need;
}

/** The ledger's usage of the current window, overall and the site's: one view call each. */
async function usageOf({ publicClient, ledger }: SettlementContext, siteId: number) {
  const [overall, site] = await Promise.all([
    publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "epochUsage" }),
    publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "siteEpochUsage", args: [siteId] }),
  ]);
  return { overall, site };
}
type Usages = Awaited<ReturnType<typeof usageOf>>;

const fits = (need: { mint: bigint; burn: bigint }, { overall, site }: Usages) =>
  (need.mint === 0n || (overall.mintRoom >= need.mint && site.mintRoom >= need.mint)) &&
  (need.burn === 0n || (overall.burnRoom >= need.burn && site.burnRoom >= need.burn));

const figuresOf = ({ overall, site }: Usages) =>
  [overall, site].map((u) => `${u.epoch}:${u.minted}:${u.burned}:${u.mintRoom}:${u.burnRoom}`).join("/");

/** Which cap holds the event back longest, and when room returns under every cap (see capRoom.ts). */
async function estimate(
  context: SettlementContext,
  siteId: number,
  need: { mint: bigint; burn: bigint },
  usage: Usages,
): Promise<{ cap: CapName | undefined; roomAt: bigint | null }> {
  const { publicClient, ledger } = context;
  const [overallCaps, siteCaps, epochLength, block] = await Promise.all([
    publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "emissionCaps" }),
    publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "siteCaps", args: [siteId] }),
    publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "epochLength" }),
    publicClient.getBlock({ blockTag: "latest" }),
  ]);
  const windows = [
    { cap: "mint", need: need.mint, caps: overallCaps, usage: usage.overall, on: "mint" },
    { cap: "site_mint", need: need.mint, caps: siteCaps, usage: usage.site, on: "mint" },
    { cap: "burn", need: need.burn, caps: overallCaps, usage: usage.overall, on: "burn" },
    { cap: "site_burn", need: need.burn, caps: siteCaps, usage: usage.site, on: "burn" },
  ] as const;
  let cap: CapName | undefined;
  let latest: bigint | null = block.timestamp;
  const times = windows.map((w) => {
    const mint = w.on === "mint";
    const at = roomReturnsAt({
      now: block.timestamp,
      epochLength,
      need: w.need,
      window: {
        cap: mint ? w.caps.mintCap : w.caps.burnCap,
        used: mint ? w.usage.minted : w.usage.burned,
        room: mint ? w.usage.mintRoom : w.usage.burnRoom,
        ...(w.caps.scheduledAt !== 0n
          ? { scheduled: { cap: mint ? w.caps.scheduledMintCap : w.caps.scheduledBurnCap, at: w.caps.scheduledAt } }
          : {}),
      },
    });
    if (at !== block.timestamp && latest !== null && (at === null || at > latest)) {
      cap = w.cap;
      latest = at;
    }
    return at;
  });
  return { cap, roomAt: latestOf(times) };
}

/** Records the wait (or its new estimate) and tells the site's pending events not yet told. */
async function record(
  context: SettlementContext,
  refreshes: CapWaitRefreshes,
  wait: CapWait,
  figures: string,
): Promise<number> {
  const site = await context.store.site(wait.siteId);
  const told = await context.store.recordCapWait(wait, site?.webhookUrl ? waitingForCapNotice : null);
  refreshes.set(wait.siteId, { at: Date.now(), figures });
  return told;
}

/**
 * A site whose single next event is over a cap on mints or burns waits for room: the wait is
 * recorded in the store (every instance's GET /v1/events answers `waiting_for_cap`, and it
 * outlives a restart) with when room returns, read from the ledger; webhooks say so per event.
 *
 * @example
 * if (cut.kind === "capWait") await startCapWait(context, state.capWaits, { siteId, revert: cut.revert })
 */
export async function startCapWait(
  context: SettlementContext,
  refreshes: CapWaitRefreshes,
  parameters: { siteId: number; revert: DecodedRevert },
): Promise<void> {
  const { siteId, revert } = parameters;
  const [head] = await context.store.pendingEvents(siteId, 1);
  if (!head) return;
  const need = await needOf(context, head);
  const usage = await usageOf(context, siteId);
  const { cap, roomAt } = await estimate(context, siteId, need, usage);
  const reason = formatRevert(revert);
  const wait: CapWait = { siteId, cap: CAP_OF_ERROR[revert.name] ?? cap ?? "mint", reason, since: Date.now(), roomAt };
  const told = await record(context, refreshes, wait, figuresOf(usage));
  context.log.warn(
    {
      siteId,
      cap: wait.cap,
      roomAt: roomAt === null ? null : new Date(Number(roomAt) * 1000).toISOString(),
      reason,
      told,
    },
    "a cap on mints or burns reached; the site's events wait for room (re-read from the ledger each pass)",
  );
}

/**
 * Whether a site may cut: it waits for no cap, or the ledger shows room for its next event
 * again (two view calls a pass: the window's usage overall and the site's, so a raise of a cap
 * takes effect at the next pass). While it still waits, the estimate of when room returns is
 * refreshed when the ledger's figures moved or every CAP_WAIT_REFRESH_MS, and the site's events
 * accepted since the last pass are told of the wait (one store write).
 *
 * @example
 * if (!(await capWaitOver(context, state.capWaits, waits.get(siteId)))) return;
 */
export async function capWaitOver(
  context: SettlementContext,
  refreshes: CapWaitRefreshes,
  wait: CapWait | undefined,
): Promise<boolean> {
  if (!wait) return true;
  const { siteId } = wait;
  const [head] = await context.store.pendingEvents(siteId, 1);
  const need = head ? await needOf(context, head) : { mint: 0n, burn: 0n };
  const usage = await usageOf(context, siteId);
  if (!head || fits(need, usage)) {
    await context.store.endCapWait(siteId);
    refreshes.delete(siteId);
    context.log.info({ siteId, cap: wait.cap }, "room under the cap is back on the ledger; the site's events go out");
    return true;
  }
  const figures = figuresOf(usage);
  const last = refreshes.get(siteId);
  if (last && last.figures === figures && Date.now() - last.at < CAP_WAIT_REFRESH_MS) {
    // The estimate stands; events accepted since the last pass are told of the wait.
    const site = await context.store.site(siteId);
    await context.store.recordCapWait(wait, site?.webhookUrl ? waitingForCapNotice : null);
    return false;
  }
  const { cap, roomAt } = await estimate(context, siteId, need, usage);
  await record(context, refreshes, { ...wait, cap: cap ?? wait.cap, roomAt }, figures);
  return false;
}
