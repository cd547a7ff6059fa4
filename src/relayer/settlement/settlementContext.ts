import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import type { LogRange } from "../../chain/createLogRange.js";
import type { EvidenceLeaf } from "../../evidence/evidenceTree.js";
import type { Logger } from "../../observability/logger.js";
import type { ChainReader } from "../chain/chainReader.js";
import type { SendLock } from "../chain/sendLock.js";
import type { RelayerMetrics } from "../metrics.js";
import type { RelayerStore } from "../storage/relayerStore.js";
import type { Finality } from "./finality.js";
import type { GateHolder } from "./gate.js";

export interface BatcherConfig {
  /** Settle a site once it has this many pending events… */
  readonly minEvents: number;
  /** …or its oldest pending event is this old. */
  readonly maxWaitMs: number;
  readonly maxBatchEvents: number;
  /** The gas a batch may use (at most TX_GAS_CAP); batches are sized to stay below it. */
  readonly gasCap: bigint;
  /** When an included batch counts as settled. */
  readonly finality: Finality;
  /** How many blocks past its settlement a batch is still watched for a reorg deeper than the finality depth. */
  readonly reorgWatchBlocks: number;
  /** How long one pass waits for a just-sent transaction's receipt before moving on (later passes look again). */
  readonly receiptWaitMs: number;
  /** A transaction not mined after this long is replaced with a higher fee. */
  readonly stuckAfterMs: number;
  readonly intervalMs: number;
  readonly deploymentBlock: bigint;
}

/** What every settlement stage reads and writes through: the store, the chain, the log, the gate. */
export interface SettlementContext {
  readonly store: RelayerStore;
  readonly reader: ChainReader;
  readonly publicClient: PublicClient;
  readonly walletClient: WalletClient<Transport, Chain | undefined, Account>;
  readonly ledger: Address;
  /** The token, whose balance and allowance slots each settlement lists for access (EIP-2930). */
  readonly token: Address;
  readonly config: BatcherConfig;
  readonly metrics: RelayerMetrics;
  readonly log: Logger;
  /** Shared with every other sender of the relayer's account. */
  readonly lock: SendLock;
  /** Computes an evidence root of the current EVIDENCE_VERSION. */
  readonly evidenceRoot: (leaves: readonly EvidenceLeaf[]) => Promise<Hex>;
  /** Whether settlement is stopping: long stages end early. */
  readonly stopped: () => boolean;
  readonly gate: GateHolder;
  /** The eth_getLogs range the RPC takes, learned across lookups (readLogsAdaptively). */
  readonly logRange: LogRange;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
