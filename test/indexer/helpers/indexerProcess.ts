import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../../../src/devnet/startHardhatNode.js";

/** The indexer as a real process (`src/indexer/main.ts` configured by its environment). */
export interface IndexerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

const spawnIndexer = (env: Record<string, string>) =>
  // One process (node with tsx's loader), so SIGKILL hits the indexer itself.
  spawn(process.execPath, ["--import", "tsx", "src/indexer/main.ts"], {
    env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });

/**
 * Starts `npm run indexer`'s process on a free port and waits until its API listens.
 *
 * @example
 * const reader = await startIndexerProcess({ ...env, INDEXER_SYNC: "false" }); … await reader.stop();
 */
export async function startIndexerProcess(env: Record<string, string>): Promise<IndexerProcess> {
  const port = await freePort();
  const child = spawnIndexer({ ...env, INDEXER_PORT: String(port) });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the indexer did not start:\n${output.slice(-2_000)}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (process.env.TEST_LOG_LEVEL) process.stderr.write(chunk);
      if (/listening on 127\.0\.0\.1/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the indexer exited (${code}):\n${output.slice(-2_000)}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    async kill9() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Runs the indexer process until it exits by itself (it refuses to start): its exit code and output. */
export async function runIndexerProcessToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawnIndexer({ ...env, INDEXER_PORT: String(await freePort()) });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  return { code, output };
}
