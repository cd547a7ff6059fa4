import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { join } from "node:path";
import {
  bytesToHex,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  parseUnits,
  type Chain,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from "viem";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { deployEas } from "../../src/chain/deployEas.js";
import { deployTwei, type DeployerClient } from "../../src/chain/deployTwei.js";
import { attestPersonhood } from "../../src/chain/personhoodAttestation.js";
import { writeDeployment, type Deployment } from "../../src/chain/deployments.js";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS, DEFAULT_UNIT_BOUNDS, type RuleAmounts } from "../../src/core/ruleSet.js";
import type { DevNode } from "../../src/devnet/spawnDevNode.js";
import { startAnvilNode } from "../../src/devnet/startAnvilNode.js";
import { hardhatAccount, startHardhatNode } from "../../src/devnet/startHardhatNode.js";
import { createIndexer, type Indexer } from "../../src/indexer/createIndexer.js";
import { createIndexerApp } from "../../src/indexer/http/createIndexerApp.js";
import { createLogger } from "../../src/observability/logger.js";
import { personhoodFromBlockFrom } from "../../src/relayer/config.js";
import { createRelayer, type Relayer, type RelayerConfig } from "../../src/relayer/createRelayer.js";
import { registerSite } from "../../src/relayer/registerSite.js";
import { createSqliteStore } from "../../src/relayer/storage/sqliteStore.js";
import { DEFAULT_POLICY, type RulePolicy } from "../../src/rules/policy.js";
import { createTweiClient, type TweiClient } from "../../src/sdk/createTweiClient.js";
import { PEOPLE } from "./scenario.js";

/** The demo's site id on the ledger. */
export const DEMO_SITE_ID = 1;

/**
 * The launch rule set (version 1): the default amounts, except that publishing is free and a
 * full read pays 100 Twei. Why: nobody holds Twei on a fresh chain, and publishing costs Twei,
 * so a site needs a first post nobody pays for; and Comment-to-Earn starts at level 13 (72 Twei
 * earned through the relayer), which the launch reads reach. The demo then switches to the
 * default rule set (version 2), so the article's report shows the default amounts and the
 * auditor has two rule sets to apply, each to the batches settled under it.
 */
export const LAUNCH_RULE_AMOUNTS: RuleAmounts = DEFAULT_RULE_AMOUNTS.map((amount, kind) =>
  kind === ActionKind.ReadToEarn ? parseUnits("100", 18) : kind === ActionKind.PostPublishTribute ? 0n : amount,
);

/** Who is who in the demo: the Hardhat node's well-known dev accounts (never for real funds). */
export const DEMO_ROLES = {
  admin: 0,
  relayer: 1,
  siteSigner: 2,
  /** The demo site's personhood attester (with `personhood`: it vouches for signed-in readers who ask). */
  attester: 15,
} as const;

function privateKeyOf(account: ReturnType<typeof hardhatAccount>): Hex {
  const key = account.getHdKey().privateKey;
  if (!key) throw new Error("the dev account has no private key");
  return bytesToHex(key);
}

export interface DemoStackOptions {
  /** Where the relayer's and indexer's SQLite databases go. */
  readonly dataDir: string;
  /** Where deployments/localhost.json is written (the working directory by default). */
  readonly deploymentsRoot?: string;
  /** Progress lines for people (nothing by default). */
  readonly say?: (line: string) => void;
  /** Log level of the relayer and indexer (silent by default: the demo prints its own progress). */
  readonly logLevel?: string;
  /** The local node: Hardhat's (the default) or Foundry's anvil. */
  readonly node?: DevNode["kind"];
  /**
   * Proof of personhood on: EAS is deployed, the site's policy requires an attestation by the
   * demo site's attester (DEMO_ROLES.attester) for earning, and the story's people are attested
   * (they read and vote in the story); a fresh reader asks the site for theirs. Off by default.
   */
  readonly personhood?: boolean;
}

export interface DemoStack {
  /** Where its databases are (the relayer's, the indexer's, and the demo site's). */
  readonly dataDir: string;
  readonly node: DevNode;
  readonly chain: Chain;
  readonly publicClient: PublicClient;
  readonly deployment: Deployment;
  readonly deploymentPath: string;
  readonly siteSigner: LocalAccount;
  readonly apiKey: string;
  readonly relayerUrl: string;
  readonly indexerUrl: string;
  readonly relayer: Relayer;
  readonly indexer: Indexer;
  readonly client: TweiClient;
  /** The site's policy, as registered on the ledger and applied by the relayer. */
  readonly policy: RulePolicy;
  /** With `personhood`: the demo site's attester (a wallet client of DEMO_ROLES.attester). */
  readonly attester?: DeployerClient;
  /** Writes the ledger's rule set as the admin; resolves with the transaction hash. */
  setRuleSet(amounts: RuleAmounts): Promise<Hex>;
  /** Stops and starts the relayer on the same data directory and port (it re-reads the rule set). */
  restartRelayer(): Promise<void>;
  stop(): Promise<void>;
}

/** Compiles the contracts when there are no artifacts yet (a fresh clone). */
async function ensureArtifacts(root: string, say: (line: string) => void): Promise<void> {
  if (existsSync(join(root, "artifacts/contracts/TweiLedger.sol/TweiLedger.json"))) return;
  say("compiling the contracts (first run only)…");
  await new Promise<void>((resolve, reject) => {
    const child = spawn(join(root, "node_modules/.bin/hardhat"), ["build", "--quiet"], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`hardhat build exited with ${code}`))));
  });
}

/**
 * Starts everything the demo needs on this machine: a Hardhat node on 127.0.0.1, the token and
 * ledger deployed with the launch rule set, deployments/localhost.json, the demo site (on-chain
 * signer and relayer API key), the relayer (settling within about a second) and the indexer
 * (SQLite, following the head) with its HTTP API.
 *
 * @example
 * const stack = await startDemoStack({ dataDir: "data/demo", say: console.log });
 * … await stack.stop();
 */
export async function startDemoStack(options: DemoStackOptions): Promise<DemoStack> {
  const say = options.say ?? (() => {});
  const root = process.cwd();
  await ensureArtifacts(root, say);
  await mkdir(options.dataDir, { recursive: true });
  const node = options.node === "anvil" ? await startAnvilNode() : await startHardhatNode();
  try {
    say(`${node.kind === "anvil" ? "anvil" : "Hardhat"} node listening on ${node.url} (127.0.0.1 only)`);
    const chainId = 31337;
    const chain = defineChain({
      id: chainId,
      name: "localhost",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [node.url] } },
    });
    const publicClient = createPublicClient({ chain, transport: http(node.url), pollingInterval: 100 }) as PublicClient;
    const adminAccount = hardhatAccount(DEMO_ROLES.admin);
    const admin = createWalletClient({ chain, transport: http(node.url), account: adminAccount });
    const relayerAccount = hardhatAccount(DEMO_ROLES.relayer);
    const deployed = await deployTwei({
      publicClient,
      walletClient: admin as unknown as DeployerClient,
      relayer: relayerAccount.address,
      ruleAmounts: LAUNCH_RULE_AMOUNTS,
    });
    let deployment: Deployment = {
      network: "localhost",
      chainId,
      token: getAddress(deployed.token),
      ledger: getAddress(deployed.ledger),
      deploymentBlock: deployed.deploymentBlock,
      abiHash: deployed.abiHash,
      deployer: adminAccount.address,
      deployedAt: new Date().toISOString(),
    };
    say(`deployed Twei ${deployment.token} and the ledger ${deployment.ledger} (rule set v1, the launch rules)`);

    let policy: RulePolicy = DEFAULT_POLICY;
    let attester: DeployerClient | undefined;
    if (options.personhood) {
      const eas = await deployEas({ publicClient, walletClient: admin as unknown as DeployerClient });
      // Recorded as `npm run deploy` records it: the block is where the personhood indexes start.
      deployment = { ...deployment, eas };
      attester = createWalletClient({
        chain,
        transport: http(node.url),
        account: hardhatAccount(DEMO_ROLES.attester),
      }) as unknown as DeployerClient;
      const personhood = { eas: eas.eas, schema: eas.personhoodSchema, attesters: [attester.account.address] };
      policy = { ...DEFAULT_POLICY, personhood };
      // The story's people read, vote and comment: the site verified them long ago.
      for (const person of Object.values(PEOPLE))
        await attestPersonhood({
          publicClient,
          walletClient: attester,
          policy: personhood,
          recipient: hardhatAccount(person.index).address,
        });
      say(`deployed EAS ${eas.eas}; the site's policy requires proof of personhood; the story's people are attested`);
    }

    const deploymentPath = await writeDeployment(deployment, options.deploymentsRoot);
    say(`wrote ${deploymentPath}`);

    const siteSigner = hardhatAccount(DEMO_ROLES.siteSigner);
    const siteStore = createSqliteStore({ path: join(options.dataDir, "relayer.sqlite") });
    let apiKey: string;
    try {
      const registered = await registerSite({
        store: siteStore,
        publicClient,
        adminClient: admin,
        ledger: deployment.ledger,
        siteId: DEMO_SITE_ID,
        signer: siteSigner.address,
        epochCap: parseUnits("100000", 18),
        policy,
      });
      apiKey = registered.apiKey;
    } finally {
      await siteStore.close();
    }
    say(`registered site ${DEMO_SITE_ID} with signer ${siteSigner.address} and an API key`);

    const level = options.logLevel ?? "silent";
    const relayerConfig: RelayerConfig = {
      rpcUrl: node.url,
      chainId,
      ledger: deployment.ledger,
      token: deployment.token,
      deploymentBlock: deployment.deploymentBlock,
      privateKey: privateKeyOf(relayerAccount),
      dataDir: options.dataDir,
      logger: createLogger({ name: "relayer", level }),
      // Settle as soon as anything is pending, checking every 200 ms: a demo should not wait.
      batcher: { intervalMs: 200, minEvents: 1, maxWaitMs: 0, stuckAfterMs: 10_000 },
      verifyWorkers: 0,
      policy,
      personhoodFromBlock: personhoodFromBlockFrom({}, deployment, policy.personhood),
    };
    let relayer = createRelayer(relayerConfig);
    const relayerUrl = await relayer.start();
    const relayerPort = Number(new URL(relayerUrl).port);
    say(`relayer listening on ${relayerUrl}`);

    const indexer = createIndexer({
      rpcUrl: node.url,
      deployment,
      dbPath: join(options.dataDir, "indexer.sqlite"),
      confirmations: 0,
      pollIntervalMs: 250,
      logger: createLogger({ name: "indexer", level }),
    });
    indexer.start();
    const indexerApp = createIndexerApp(indexer.store, { status: indexer.status });
    const indexerServer = await new Promise<Server>((resolve, reject) => {
      const server = indexerApp.listen(0, "127.0.0.1", (error?: Error) => (error ? reject(error) : resolve(server)));
    });
    const indexerAddress = indexerServer.address();
    if (!indexerAddress || typeof indexerAddress === "string") throw new Error("the indexer has no TCP address");
    const indexerUrl = `http://127.0.0.1:${indexerAddress.port}`;
    say(`indexer following the ledger, API on ${indexerUrl}`);

    const client = createTweiClient({
      url: relayerUrl,
      apiKey,
      siteId: DEMO_SITE_ID,
      signer: siteSigner,
      chainId,
      ledger: deployment.ledger,
    });

    let stopped = false;
    return {
      dataDir: options.dataDir,
      node,
      chain,
      publicClient,
      deployment,
      deploymentPath,
      siteSigner,
      apiKey,
      relayerUrl,
      indexerUrl,
      get relayer() {
        return relayer;
      },
      indexer,
      client,
      policy,
      ...(attester ? { attester } : {}),
      async setRuleSet(amounts) {
        const hash = await admin.writeContract({
          address: deployment.ledger,
          abi: tweiLedgerAbi,
          functionName: "scheduleRuleSet",
          args: [amounts, DEFAULT_UNIT_BOUNDS],
        } as never);
        const receipt = await publicClient.waitForTransactionReceipt({ hash });
        if (receipt.status !== "success") throw new Error(`scheduleRuleSet transaction ${hash} reverted`);
        return hash;
      },
      async restartRelayer() {
        await relayer.stop();
        relayer = createRelayer({ ...relayerConfig, port: relayerPort });
        await relayer.start();
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        indexerServer.closeAllConnections();
        await new Promise<void>((resolve) => indexerServer.close(() => resolve()));
        await Promise.allSettled([relayer.stop(), indexer.close()]);
        await node.stop();
      },
    } satisfies DemoStack;
  } catch (error) {
    await node.stop();
    throw error;
  }
}
