import type { PersonhoodIndex } from "../../chain/createPersonhoodIndex.js";
import type { Address, PublicClient } from "viem";
import type { Logger } from "../../observability/logger.js";
import type { RulePolicy } from "../../rules/policy.js";
import type { ChainReader } from "../chain/chainReader.js";
import type { PreflightProblem } from "../chain/preflight.js";
import type { SettlementGate } from "../settlement/gate.js";
import type { RelayerMetrics } from "../metrics.js";
import type { RelayerStore } from "../storage/relayerStore.js";
import type { PermitSubmitter } from "./postPermit.js";
import type { RateLimiter } from "./rateLimiter.js";
import type { SiteDirectory } from "./siteDirectory.js";
import type { VerifyPool } from "./verifyPool.js";

/** What the HTTP handlers share. */
export interface RelayerContext {
  readonly store: RelayerStore;
  /** Where the store keeps sites and API keys (the SQLite file), for operators' log lines. */
  readonly database: string;
  readonly reader: ChainReader;
  readonly publicClient: PublicClient;
  readonly sites: SiteDirectory;
  readonly limiter: RateLimiter;
  /** Per client address, for the public routes (RELAYER_PUBLIC_RATE_PER_SECOND / _BURST). */
  readonly publicLimiter: RateLimiter;
  readonly permits: PermitSubmitter;
  /** Parses, hashes and recovers the signer of event envelopes (worker threads). */
  readonly verifier: VerifyPool;
  readonly metrics: RelayerMetrics;
  readonly log: Logger;
  readonly policy: RulePolicy;
  /** The personhood attestations by user (policy `personhood`), fed incrementally from the chain's logs. */
  readonly personhood: PersonhoodIndex | undefined;
  readonly chainId: number;
  readonly ledger: Address;
  readonly token: Address;
  /** How long to wait for a chain read on the hot path before treating the chain as down. */
  readonly chainTimeoutMs: number;
  /** What /readyz reports of settlement. */
  readonly settlement: SettlementStatus;
}

export interface SettlementStatus {
  /** The start-up checks' problems (empty: passed), or "pending" while the chain cannot be read. */
  readonly startup: readonly PreflightProblem[] | "pending";
  /** Whether settlement can go on, as the last pass found. */
  readonly gate: SettlementGate;
  /** Whether this instance settles at all (RELAYER_SETTLE). */
  readonly enabled: boolean;
  /** The least balance the relayer account should hold, in wei. */
  minBalance(): Promise<bigint>;
  readonly account: Address;
}
