import type { Hex } from "viem";
import { decodeRevert } from "../../chain/decodeRevert.js";
import { settlementAccessList } from "../../chain/settlementAccessList.js";
import type { StoredEvent } from "../storage/relayerStore.js";
import { packBatch } from "./buildBatch.js";
import { classifyRevert } from "./classifyRevert.js";
import type { ProbeReturnType } from "./isolatePoison.js";
import type { SettlementContext } from "./settlementContext.js";
import { settleCalldata } from "./sendBatch.js";

const PROBE_ROOT: Hex = `0x${"ff".repeat(32)}`;

export interface ProbeParameters {
  readonly siteId: number;
  /** The rule-set version the batch would name. */
  readonly version: number;
  readonly events: readonly StoredEvent[];
}

/**
 * Dry-runs `settle` for a candidate batch: the gas it takes, or why the ledger refuses it.
 * Throws a transient fault (the call failed without reverting).
 *
 * @example
 * const result = await probe(context, { siteId, version, events }); if (result.kind === "ok") result.gas
 */
export async function probe(
  context: Pick<SettlementContext, "publicClient" | "walletClient" | "ledger" | "token">,
  parameters: ProbeParameters,
): Promise<ProbeReturnType> {
  const { publicClient, walletClient, ledger, token } = context;
  const packed = packBatch(parameters.events).packed;
  // Batch id 0 is never allocated: the probe only measures gas and what the ledger says.
  const data = settleCalldata(
    { batchId: 0n, siteId: parameters.siteId, evidenceRoot: PROBE_ROOT, actions: packed },
    parameters.version,
  );
  try {
    const gas = await publicClient.estimateGas({
      account: walletClient.account,
      to: ledger,
      data,
      accessList: settlementAccessList({ token, ledger, actions: packed }),
      blockTag: "latest",
    });
    return { kind: "ok", gas };
  } catch (error) {
    const why = classifyRevert(decodeRevert(error));
    if (why.kind === "transient") throw error;
    return why;
  }
}
