import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { createLogRange } from "../../chain/createLogRange.js";
import { buildEvidenceTree, type EvidenceLeaf } from "../../evidence/evidenceTree.js";
import type { Logger } from "../../observability/logger.js";
import type { ChainReader } from "../chain/chainReader.js";
import type { SendLock } from "../chain/sendLock.js";
import type { RelayerMetrics } from "../metrics.js";
import type { RelayerStore } from "../storage/relayerStore.js";
import { createGate, type SettlementGate } from "./gate.js";
import { newPassState, runPass } from "./pass.js";
import type { BatcherConfig, SettlementContext } from "./settlementContext.js";

export interface CreateBatcherParameters {
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
  /** Computes an evidence root of the current EVIDENCE_VERSION (off the main thread in the service); in-process by default. */
  readonly evidenceRoot?: (leaves: readonly EvidenceLeaf[]) => Promise<Hex>;
}

export interface Batcher {
  start(): void;
  /** One pass: watch the batches on their way, then settle each site's pending events. Exposed for tests. */
  tick(): Promise<void>;
  stop(): Promise<void>;
  /** Whether the recorded batches were checked against the chain since start. */
  readonly reconciled: boolean;
  /** Whether settlement can go on, as the last pass found. */
  readonly gate: SettlementGate;
}

/**
 * The settlement loop: a pass (pass.ts) every `intervalMs`, one at a time. The pass's stages:
 * cut (cut.ts: dry runs find what fits, refused events fail on their own), send (send.ts: the
 * attempt recorded before the broadcast), track to finality (track.ts), wait for caps
 * (capWait.ts). Exactly once: a batch is recorded (id, events, calldata) before any transaction
 * is sent, and a batch id settles at most once on-chain; every pass first looks at the batches on
 * their way (mined? stuck? moved or removed by a reorg? final?) before anything new is cut.
 * Isolation: sites are settled side by side, each on its own; a deactivated site's events wait
 * as `held`; a paused ledger or a missing role stops settlement once, with the reason on
 * /readyz, and nothing loops in the log. Finality: a mined batch is `included`, and `settled`
 * (webhooks, final status) only at the configured depth; a batch a reorg removed is sent again
 * under the same id, before or after finality.
 *
 * @example
 * const batcher = createBatcher({ store, reader, publicClient, walletClient, ledger, token, config, metrics, log, lock });
 * batcher.start(); … await batcher.stop();
 */
export function createBatcher(parameters: CreateBatcherParameters): Batcher {
  let running: Promise<void> | undefined;
  let stopped = false;
  let loop: Promise<void> | undefined;
  /** Ends the loop's wait between passes (stop() returns at once, not an interval later). */
  let wake: (() => void) | undefined;
  const context: SettlementContext = {
    ...parameters,
    evidenceRoot: parameters.evidenceRoot ?? (async (leaves) => buildEvidenceTree(leaves).root),
    stopped: () => stopped,
    gate: createGate(parameters),
    logRange: createLogRange({ initial: 10_000n }),
  };
  const state = newPassState();

  async function tick() {
    if (running) return running;
    running = runPass(context, state).finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    get reconciled() {
      return state.reconciled;
    },
    get gate() {
      return context.gate.current;
    },
    tick,
    start() {
      if (loop) return;
      loop = (async () => {
        while (!stopped) {
          // A pass never rejects (runPass catches); this guard keeps a bug from ending the loop silently.
          await tick().catch((error: unknown) =>
            parameters.log.error({ error: String(error) }, "the settlement pass failed; the next one tries again"),
          );
          if (!stopped)
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, parameters.config.intervalMs);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
        }
      })();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await running?.catch(() => undefined);
    },
  };
}
