import { spawn, type ChildProcess } from "node:child_process";
import { ABI_HASH } from "../../../src/chain/deployTwei.js";
import { writeDeployment } from "../../../src/chain/deployments.js";
import { freePort } from "../../../src/devnet/startHardhatNode.js";
import { CHAIN_ID, type TestChain } from "./testChain.js";

/** The relayer as a real process (`src/relayer/main.ts` configured by its environment), to kill -9. */
export interface RelayerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Writes deployments/test.json under `root` for the relayer process to read. */
export async function writeTestDeployment(chain: TestChain, root: string) {
  await writeDeployment(
    {
      network: "test",
      chainId: CHAIN_ID,
      token: chain.deployed.token,
      ledger: chain.deployed.ledger,
      deploymentBlock: chain.deployed.deploymentBlock,
      abiHash: ABI_HASH,
      deployer: chain.admin.account.address,
      deployedAt: new Date().toISOString(),
    },
    root,
  );
}

/** The relayer process's environment for a test chain, deployment root and data directory. */
function relayerEnv(chain: TestChain, root: string, dataDir: string, port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    RELAYER_PRIVATE_KEY: chain.relayerKey,
    TWEI_RPC_URL: chain.node.url,
    TWEI_NETWORK: "test",
    TWEI_DEPLOYMENTS_ROOT: root,
    RELAYER_DATA_DIR: dataDir,
    RELAYER_PORT: String(port),
    RELAYER_BATCH_INTERVAL_MS: "200",
    RELAYER_BATCH_MIN_EVENTS: "1",
    RELAYER_BATCH_MAX_WAIT_MS: "0",
    RELAYER_STUCK_AFTER_MS: "600000",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
  };
}

/** Runs the relayer process until it exits by itself (it refuses to start): its exit code and output. */
export async function runRelayerProcessToExit(
  chain: TestChain,
  root: string,
  dataDir: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/relayer/main.ts"], {
    env: { ...relayerEnv(chain, root, dataDir, await freePort()), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  return { code, output };
}

export async function startRelayerProcess(
  chain: TestChain,
  root: string,
  dataDir: string,
  env: Record<string, string> = {},
): Promise<RelayerProcess> {
  const port = await freePort();
  // One process (node with tsx's loader), so SIGKILL hits the relayer itself.
  const child = spawn(process.execPath, ["--import", "tsx", "src/relayer/main.ts"], {
    env: { ...relayerEnv(chain, root, dataDir, port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the relayer did not start:\n${output.slice(-2_000)}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (process.env.TEST_LOG_LEVEL) process.stderr.write(chunk);
      const match = /"msg":"relayer ready","url":"([^"]+)"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the relayer exited (${code}):\n${output.slice(-2_000)}`)));
  });
  return {
    url,
    child,
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
