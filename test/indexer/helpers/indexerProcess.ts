import { freePort } from "../../../src/devnet/startHardhatNode.js";
import { runServiceToExit, startServiceProcess, type ServiceProcess } from "../../helpers/serviceProcess.js";

/** The indexer as a real process (`src/indexer/main.ts` configured by its environment). */
export interface IndexerProcess extends ServiceProcess {
  readonly url: string;
}

const indexerEnv = (env: Record<string, string>, port: number): NodeJS.ProcessEnv => ({
  ...process.env,
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "info",
  ...env,
  INDEXER_PORT: String(port),
});

/**
 * Starts `npm run indexer`'s process on a free port and waits until its API listens.
 *
 * @example
 * const reader = await startIndexerProcess({ ...env, INDEXER_SYNC: "false" }); … await reader.stop();
 */
export async function startIndexerProcess(env: Record<string, string>): Promise<IndexerProcess> {
  const port = await freePort();
  const service = await startServiceProcess(
    "indexer",
    "src/indexer/main.ts",
    indexerEnv(env, port),
    /listening on 127\.0\.0\.1/,
  );
  return { ...service, url: `http://127.0.0.1:${port}` };
}

/** Runs the indexer process until it exits by itself (it refuses to start): its exit code and output. */
export async function runIndexerProcessToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return runServiceToExit("src/indexer/main.ts", indexerEnv(env, await freePort()));
}
