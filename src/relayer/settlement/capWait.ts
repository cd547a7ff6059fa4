import { tweiLedgerAbi } from "../../chain/abi.js";
import { formatRevert, type DecodedRevert } from "../../chain/decodeRevert.js";
import type { SettlementContext } from "./settlementContext.js";

/** Sites waiting for an emission epoch, with the epoch each waits for. */
export type CapWaits = Map<number, bigint>;

const currentEpoch = ({ publicClient, ledger }: Pick<SettlementContext, "publicClient" | "ledger">) =>
  publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "currentEpoch" });

/**
 * A site whose single event is over a cap on mints or burns waits for the next epoch.
 *
 * @example
 * if (cut.kind === "capWait") await startCapWait(context, waits, { siteId, revert: cut.revert })
 */
export async function startCapWait(
  context: SettlementContext,
  waits: CapWaits,
  parameters: { siteId: number; revert: DecodedRevert },
) {
  const { siteId, revert } = parameters;
  const epoch = await currentEpoch(context);
  waits.set(siteId, epoch + 1n);
  context.log.warn(
    { siteId, epoch: epoch.toString(), reason: formatRevert(revert) },
    "a cap on mints or burns reached; the site's events wait for the next epoch",
  );
}

/**
 * Whether a site may cut again: it waits for no epoch, or the one it waits for has begun.
 *
 * @example
 * if (!(await capWaitOver(context, waits, siteId))) return;
 */
export async function capWaitOver(context: SettlementContext, waits: CapWaits, siteId: number): Promise<boolean> {
  const waitEpoch = waits.get(siteId);
  if (waitEpoch === undefined) return true;
  if ((await currentEpoch(context)) < waitEpoch) return false;
  waits.delete(siteId);
  return true;
}
