import { createWalletClient, http, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createLogRange } from "../../chain/createLogRange.js";
import { createAuditor, type CreateAuditorParameters } from "../createAuditor.js";
import { scrubUrls } from "../../observability/logger.js";
import type { Discrepancy, DiscrepancyCode } from "../discrepancy.js";
import { followAudit, type WatchEvent } from "./followAudit.js";
import { canPause, pauseLedger } from "./pauseLedger.js";
import { createWatchMetrics, serveMetrics } from "./watchMetrics.js";

export interface RunWatchtowerParameters extends CreateAuditorParameters {
  readonly rpcUrl: string;
  readonly confirmations: number;
  readonly pollMs: number;
  readonly checkpointPath?: string;
  readonly webhookUrl?: string;
  readonly pauseOn: readonly DiscrepancyCode[];
  /** The pauser's key (TWEI_PAUSER_KEY); needed when pauseOn is not empty. */
  readonly pauserKey?: Hex;
  readonly metricsPort?: number;
  readonly print: (line: string) => void;
}

export class WatchtowerCannotStartError extends Error {
  override name = "WatchtowerCannotStartError";
}

type Line = WatchEvent | { type: string; [key: string]: unknown };

/**
 * The watchtower behind `npm run audit -- --follow`: follows the chain with the auditor, prints
 * each event as a JSON line, counts discrepancies in Prometheus, posts each one to a webhook
 * and pauses the ledger on the codes it is told to (PAUSE_SAFE_CODES are the ones an honest
 * batch never raises). Batches whose evidence is missing are looked for again with backoff,
 * and what their arrival resolves is cleared (a `cleared` line, `twei.discrepancy_cleared`
 * webhook, `twei_watchtower_cleared_total`). Runs until SIGINT/SIGTERM.
 *
 * @example
 * await runWatchtower({ publicClient, deployment, evidence, rpcUrl, confirmations: 0, pollMs: 1000, pauseOn: ["unbacked_batch"], pauserKey, print: console.log })
 */
export async function runWatchtower(parameters: RunWatchtowerParameters): Promise<void> {
  const { publicClient, deployment, print } = parameters;
  const emit = (line: Line) => print(JSON.stringify(line));
  const metrics = createWatchMetrics();
  const pauser = parameters.pauserKey ? privateKeyToAccount(parameters.pauserKey) : undefined;
  if (parameters.pauseOn.length > 0) {
    if (!pauser) throw new WatchtowerCannotStartError("--pause-on needs the pauser's key in TWEI_PAUSER_KEY");
    if (!(await canPause({ publicClient, ledger: deployment.ledger, account: pauser.address })))
      throw new WatchtowerCannotStartError(`${pauser.address} does not hold the ledger's PAUSER_ROLE`);
  }
  const walletClient = pauser
    ? createWalletClient({ account: pauser, transport: http(parameters.rpcUrl, { retryCount: 2, timeout: 20_000 }) })
    : undefined;
  const server = parameters.metricsPort === undefined ? undefined : await serveMetrics(metrics, parameters.metricsPort);
  const pauseOn = new Set<string>(parameters.pauseOn);

  // One adaptive log range for every auditor the follower starts: the RPC's limits are learnt once.
  const logRange = parameters.logRange ?? createLogRange();
  const follower = await followAudit({
    publicClient: publicClient as PublicClient,
    createAuditor: () => createAuditor({ ...parameters, logRange }),
    confirmations: parameters.confirmations,
    pollMs: parameters.pollMs,
    ...(parameters.checkpointPath ? { checkpointPath: parameters.checkpointPath } : {}),
    emit: (event) => {
      if (event.type === "chain_unreadable") metrics.chainErrors.inc();
      if (event.type === "reaudit") metrics.reaudits.inc();
      emit(event);
    },
    onStep: ({ auditedBlock, head, uncheckedBatches }) => {
      metrics.auditedBlock.set(Number(auditedBlock));
      metrics.headLag.set(Number(head - auditedBlock));
      metrics.uncheckedBatches.set(uncheckedBatches);
    },
    // What was missing: the batch's evidence, or its site's policy document.
    retryEvidence: async ({ batchId, policyHash }) =>
      policyHash
        ? ((await parameters.evidence.policy?.(policyHash))?.found ?? false)
        : (await parameters.evidence(batchId)).found,
    async onCleared(cleared) {
      metrics.cleared.inc({ code: cleared.code });
      if (parameters.webhookUrl)
        await postWebhook(parameters.webhookUrl, { type: "twei.discrepancy_cleared", ...cleared }, emit);
    },
    async onDiscrepancy(discrepancy, blockNumber, seenAt) {
      metrics.discrepancies.inc({ code: discrepancy.code });
      // The pause first: a slow webhook must not hold it up.
      if (walletClient && pauseOn.has(discrepancy.code)) await pause(discrepancy, blockNumber, seenAt);
      if (parameters.webhookUrl)
        await postWebhook(
          parameters.webhookUrl,
          { type: "twei.discrepancy", ...discrepancy, blockNumber: blockNumber.toString() },
          emit,
        );
    },
  });

  async function pause(discrepancy: Discrepancy, blockNumber: bigint, seenAt: number) {
    if (!walletClient) return;
    try {
      const { hash } = await pauseLedger({ publicClient, walletClient, ledger: deployment.ledger });
      metrics.paused.set(1);
      emit({
        type: hash ? "paused" : "already_paused",
        code: discrepancy.code,
        batchId: discrepancy.batchId,
        blockNumber: blockNumber.toString(),
        ...(hash ? { hash } : {}),
        // From reading the head that brought the batch to the pause's receipt (block
        // timestamps are whole seconds, and a dev chain's may run ahead of the clock).
        latencyMs: Math.round(performance.now() - seenAt),
      });
    } catch (error) {
      emit({ type: "pause_failed", code: discrepancy.code, batchId: discrepancy.batchId, reason: firstLine(error) });
    }
  }

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await follower.stop();
  server?.close();
}

/** An error's first line, with any URL scrubbed: RPC URLs may hold keys. */
const firstLine = (error: unknown) =>
  scrubUrls(error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error));

/** Posts one discrepancy (or its clearing) to the webhook; a failure is a line of output, never a stop. */
async function postWebhook(url: string, body: object, emit: (line: Line) => void) {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) emit({ type: "webhook_failed", status: response.status });
  } catch (error) {
    emit({ type: "webhook_failed", reason: firstLine(error) });
  }
}
