import type { Address } from "viem";
import type { Logger } from "../../observability/logger.js";
import type { RelayerMetrics } from "../metrics.js";

/**
 * What stops settlement as a whole, for /readyz and the log: nothing, a paused ledger, a missing
 * role, a chain or a database that does not answer (settlement resumes by itself once it does).
 */
export type SettlementGate =
  | { readonly state: "open" }
  | {
      readonly state: "paused" | "unauthorized" | "chain_unreachable" | "store_unreachable";
      readonly detail: string;
    };

/** The gate as the last pass found it; a change of state is logged and counted once. */
export interface GateHolder {
  readonly current: SettlementGate;
  set(next: SettlementGate): void;
}

/**
 * A gate, open at first.
 *
 * @example
 * const gate = createGate({ metrics, log }); gate.set(gateFor("paused", { account, ledger }));
 */
export function createGate(parameters: { metrics: RelayerMetrics; log: Logger }): GateHolder {
  const { metrics, log } = parameters;
  let gate: SettlementGate = { state: "open" };
  return {
    get current() {
      return gate;
    },
    set(next) {
      const changed = next.state !== gate.state;
      gate = next;
      if (!changed) return;
      metrics.settlementBlocked.set(next.state === "open" ? 0 : 1);
      if (next.state === "open") log.info("settlement resumed");
      else log.error({ state: next.state, reason: next.detail }, "settlement stopped");
    },
  };
}

/**
 * The gate a paused ledger or a missing relayer role closes, saying what to do.
 *
 * @example
 * gateFor("paused", { account, ledger }).detail // "the ledger is paused: …"
 */
export function gateFor(
  kind: "paused" | "unauthorized",
  where: { readonly account: Address; readonly ledger: Address },
): SettlementGate {
  const { account, ledger } = where;
  return kind === "paused"
    ? { state: "paused", detail: "the ledger is paused: settlement resumes once a pauser unpauses it" }
    : {
        state: "unauthorized",
        detail: `the relayer account ${account} lacks RELAYER_ROLE on the ledger ${ledger}: an admin must grant it (grantRole(RELAYER_ROLE, ${account}))`,
      };
}
