import { parseArgs } from "node:util";
import Table from "cli-table3";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  isAddress,
  formatUnits,
  isHex,
  parseUnits,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
import { tweiLedgerAbi } from "../../chain/abi.js";
import { readDeployment } from "../../chain/deployments.js";
import { relayerDatabasePath, relayerDataDirSchema, relayerEnvSchema, relayerPolicyFrom } from "../config.js";
import { createPgStore } from "../storage/pg/pgStore.js";
import { registerSite } from "../registerSite.js";
import { createSqliteStore } from "../storage/sqliteStore.js";
import { scrubUrls } from "../../observability/logger.js";

/**
 * `npm run register-site -- --site-id 1 --signer 0x… [--cap 10000] [--burn-cap 10000] [--webhook https://…] [--json]`
 * Registers the site on-chain (with TWEI_ADMIN_PRIVATE_KEY, a policy admin) and creates its
 * API key in the relayer's database (RELAYER_DATA_DIR, the relayer's own setting). The key is
 * printed once, with the database it went into. The chain is TWEI_RPC_URL (default
 * http://127.0.0.1:8545) and the deployment deployments/$TWEI_NETWORK.json (default localhost).
 */
const usage =
  "usage: npm run register-site -- --site-id <n> --signer <address> [--cap <Twei minted per epoch>] [--burn-cap <Twei burned per epoch; the cap by default>] [--webhook <url>] [--json]";

const argsSchema = z.object({
  "site-id": z.coerce.number().int().min(0).max(0xffffffff),
  signer: z.string().refine((value) => isAddress(value), "not an address"),
  cap: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .default("10000"),
  "burn-cap": z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .optional(),
  webhook: z.url().optional(),
  json: z.boolean().default(false),
});
const envSchema = z.object({
  TWEI_ADMIN_PRIVATE_KEY: z.string().refine((value) => isHex(value) && value.length === 66, "a 32-byte hex key"),
  TWEI_RPC_URL: z.url().default("http://127.0.0.1:8545"),
  TWEI_NETWORK: z.string().default("localhost"),
  TWEI_DEPLOYMENTS_ROOT: z.string().optional(),
  RELAYER_DATA_DIR: relayerDataDirSchema,
  /** The relayers' shared PostgreSQL (as the relayer's DATABASE_URL); SQLite in RELAYER_DATA_DIR when unset. */
  DATABASE_URL: relayerEnvSchema.shape.DATABASE_URL,
  /** The policy document the relayer will apply (as the relayer's RELAYER_POLICY): committed for a site the ledger holds none for. */
  RELAYER_POLICY: relayerEnvSchema.shape.RELAYER_POLICY,
});

try {
  const { values } = parseArgs({
    options: {
      "site-id": { type: "string" },
      signer: { type: "string" },
      cap: { type: "string" },
      "burn-cap": { type: "string" },
      webhook: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const args = argsSchema.safeParse(values);
  const env = envSchema.safeParse(process.env);
  if (!args.success || !env.success) {
    const issues = [...(args.error?.issues ?? []), ...(env.error?.issues ?? [])];
    console.error(`${usage}\n${issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
    process.exit(2);
  }
  const deployment = await readDeployment(env.data.TWEI_NETWORK, env.data.TWEI_DEPLOYMENTS_ROOT);
  const chain = defineChain({
    id: deployment.chainId,
    name: `chain ${deployment.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [env.data.TWEI_RPC_URL] } },
  });
  const transport = http(env.data.TWEI_RPC_URL);
  const publicClient = createPublicClient({ chain, transport }) as PublicClient;
  const adminClient = createWalletClient({
    chain,
    transport,
    account: privateKeyToAccount(env.data.TWEI_ADMIN_PRIVATE_KEY as `0x${string}`),
  });
  // The chain first: nothing is created in the relayer's database for a chain that does not answer.
  // Only the RPC's host is named: a provider's URL path may hold its key.
  const rpcHost = new URL(env.data.TWEI_RPC_URL).host;
  const chainId = await publicClient.getChainId().catch((error: unknown) => {
    const reason = error instanceof Error ? scrubUrls(error.message.split("\n")[0] ?? "") : String(error);
    throw new Error(`the chain's RPC at ${rpcHost} (TWEI_RPC_URL) does not answer: ${reason}`);
  });
  if (chainId !== deployment.chainId)
    throw new Error(
      `the RPC at ${rpcHost} (TWEI_RPC_URL) serves chain ${chainId}, deployments/${env.data.TWEI_NETWORK}.json is for chain ${deployment.chainId}: point TWEI_RPC_URL at the deployment's network, or pick the right TWEI_NETWORK`,
    );
  // A site cap above the ledger's overall one is allowed (the overall cap may be raised later)
  // but never reached: say so, so it is not taken for the site's real room.
  const epochCap = parseUnits(args.data.cap, 18);
  const burnCap = parseUnits(args.data["burn-cap"] ?? args.data.cap, 18);
  const overall = await publicClient.readContract({
    address: deployment.ledger,
    abi: tweiLedgerAbi,
    functionName: "emissionCaps",
  });
  for (const [what, site, ledger] of [
    ["cap on mints", epochCap, overall.mintCap],
    ["cap on burns", burnCap, overall.burnCap],
  ] as const)
    if (site > ledger)
      console.error(
        `warning: the site's ${what} (${formatUnits(site, 18)} Twei per epoch) exceeds the ledger's overall ${what} (${formatUnits(ledger, 18)} Twei per epoch, for all sites together): the site gets at most the overall cap; raise that with scheduleEmissionCaps if it is meant`,
      );
  const policy = await relayerPolicyFrom(env.data.RELAYER_POLICY);
  const databaseUrl = env.data.DATABASE_URL;
  const database = databaseUrl
    ? "the PostgreSQL database DATABASE_URL names"
    : relayerDatabasePath(env.data.RELAYER_DATA_DIR);
  const store = databaseUrl ? createPgStore({ url: databaseUrl }) : createSqliteStore({ path: database });
  const result = await registerSite({
    store,
    publicClient,
    adminClient,
    ledger: deployment.ledger,
    siteId: args.data["site-id"],
    signer: getAddress(args.data.signer),
    epochCap,
    burnCap,
    ...(args.data.webhook ? { webhookUrl: args.data.webhook } : {}),
    policy,
  });
  await store.close();
  const out = { siteId: args.data["site-id"], signer: getAddress(args.data.signer), ...result, database };
  if (args.data.json) console.log(JSON.stringify(out));
  else {
    const table = new Table({ head: ["field", "value"] });
    for (const [key, value] of Object.entries(out)) table.push([key, String(value ?? "-")]);
    console.log(table.toString());
    console.log("Keep the API key (and webhook secret): they are shown only once.");
    console.log(
      databaseUrl
        ? `The key is stored (as a hash) in ${database}: start the relayers with the same DATABASE_URL.`
        : `The key is stored (as a hash) in ${database}: start the relayer with the same RELAYER_DATA_DIR (${env.data.RELAYER_DATA_DIR}).`,
    );
  }
} catch (error) {
  console.error(`register-site failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
  process.exit(1);
}
