import { ABI_HASH } from "../../../src/chain/deployTwei.js";
import { writeDeployment } from "../../../src/chain/deployments.js";
import { freePort } from "../../../src/devnet/startHardhatNode.js";
import { runServiceToExit, startServiceProcess, type ServiceProcess } from "../../helpers/serviceProcess.js";
import { CHAIN_ID, type TestChain } from "./testChain.js";

/** The relayer as a real process (`src/relayer/main.ts` configured by its environment), to kill -9. */
export interface RelayerProcess extends ServiceProcess {
  readonly url: string;
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
  return runServiceToExit("src/relayer/main.ts", { ...relayerEnv(chain, root, dataDir, await freePort()), ...env });
}

export async function startRelayerProcess(
  chain: TestChain,
  root: string,
  dataDir: string,
  env: Record<string, string> = {},
): Promise<RelayerProcess> {
  const { match, ...service } = await startServiceProcess(
    "relayer",
    "src/relayer/main.ts",
    { ...relayerEnv(chain, root, dataDir, await freePort()), ...env },
    /"msg":"relayer ready","url":"([^"]+)"/,
  );
  return { ...service, url: match[1] as string };
}
