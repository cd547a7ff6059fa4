import { resolve } from "node:path";
import { isHex, type Hex } from "viem";
import { z } from "zod";
import type { Deployment } from "../chain/deployments.js";
import { DEFAULT_POLICY, type PersonhoodPolicy, type RulePolicy } from "../rules/policy.js";
import { readPolicyFile } from "../storage/readPolicyFile.js";
import { defaultFinality, type Finality } from "./settlement/finality.js";

/**
 * RELAYER_DATA_DIR: where the relayer's database lives. `npm run register-site` and
 * `npm run relayer` both read it (relative paths from the working directory), so a key
 * registered in one directory is unknown to a relayer started with another.
 */
export const relayerDataDirSchema = z.string().min(1).default("./data/relayer");

/**
 * The relayer's SQLite database in a data directory, as an absolute path (to print).
 *
 * @example
 * relayerDatabasePath("./data/relayer") // "/srv/twei/data/relayer/relayer.sqlite"
 */
export function relayerDatabasePath(dataDir: string): string {
  return resolve(dataDir, "relayer.sqlite");
}

/** The relayer's environment, validated at start-up. Secrets (the key) are never logged. */
export const relayerEnvSchema = z.object({
  RELAYER_PRIVATE_KEY: z
    .string()
    .refine((value) => isHex(value) && value.length === 66, "a 32-byte hex private key (0x…)")
    .transform((value) => value as Hex),
  TWEI_RPC_URL: z.url().default("http://127.0.0.1:8545"),
  TWEI_NETWORK: z.string().default("localhost"),
  /** Where deployments/<network>.json is (the working directory by default). */
  TWEI_DEPLOYMENTS_ROOT: z.string().optional(),
  RELAYER_DATA_DIR: relayerDataDirSchema,
  RELAYER_HOST: z.string().default("127.0.0.1"),
  RELAYER_PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  RELAYER_BATCH_INTERVAL_MS: z.coerce.number().int().positive().default(1_000),
  RELAYER_BATCH_MIN_EVENTS: z.coerce.number().int().positive().default(200),
  RELAYER_BATCH_MAX_WAIT_MS: z.coerce.number().int().nonnegative().default(5_000),
  RELAYER_BATCH_MAX_EVENTS: z.coerce.number().int().positive().max(5_000).default(1_000),
  RELAYER_GAS_CAP: z.coerce.bigint().positive().max(16_777_216n).default(15_000_000n),
  /**
   * When a mined batch counts as settled: at RELAYER_CONFIRMATIONS blocks, or at the chain's
   * `finalized` block. Unset: `finalized`, unless RELAYER_CONFIRMATIONS is set or the chain is a
   * local development node (chain id 31337: one confirmation).
   */
  RELAYER_FINALITY: z.enum(["confirmations", "finalized"]).optional(),
  RELAYER_CONFIRMATIONS: z.coerce.number().int().min(1).max(10_000).optional(),
  /** How many blocks past settlement a batch is still watched for a deeper reorg. */
  RELAYER_REORG_WATCH_BLOCKS: z.coerce.number().int().min(0).max(1_000_000).default(64),
  /** While the chain is unreachable, envelopes are accepted under a site signer read this recently (ms). */
  RELAYER_SIGNER_MAX_STALE_MS: z.coerce.number().int().min(0).default(600_000),
  /** Below this balance (wei) /readyz answers 503 (default: one batch at the gas cap at today's fees). */
  RELAYER_MIN_BALANCE_WEI: z.coerce.bigint().nonnegative().optional(),
  RELAYER_STUCK_AFTER_MS: z.coerce.number().int().positive().default(60_000),
  /** "false" runs the API without the settlement loop (e.g. a second API instance, or benchmarks). */
  RELAYER_SETTLE: z
    .enum(["true", "false"])
    .default("true")
    .transform((value) => value === "true"),
  /** Worker threads verifying envelopes (JSON, schema, hashes, signature). */
  RELAYER_VERIFY_WORKERS: z.coerce.number().int().min(0).max(16).default(2),
  RELAYER_RATE_PER_SECOND: z.coerce.number().positive().default(1_000),
  RELAYER_RATE_BURST: z.coerce.number().positive().default(2_000),
  /** Per client address on the public routes (GET /v1/batches/:id, /v1/users/:address). */
  RELAYER_PUBLIC_RATE_PER_SECOND: z.coerce.number().positive().default(50),
  RELAYER_PUBLIC_RATE_BURST: z.coerce.number().positive().default(100),
  /** PostgreSQL (postgres://…) shared by any number of instances; unset: SQLite in RELAYER_DATA_DIR (one process). */
  DATABASE_URL: z
    .string()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), "a postgres:// or postgresql:// URL")
    .optional(),
  /** This instance's name in the submitter lease and the metrics (default: random per process). */
  RELAYER_INSTANCE: z.string().min(1).max(100).optional(),
  /** How often an instance that does not lead tries to take the submitter lease (ms). */
  RELAYER_LEASE_RETRY_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /**
   * The holder renews the lease every RELAYER_LEASE_RETRY_MS; one that has not renewed for this
   * long (hung, stopped, cut off) is taken over by another instance, which ends its session (ms;
   * at least three renewal intervals).
   */
  RELAYER_LEASE_DEADLINE_MS: z.coerce.number().int().min(150).max(600_000).default(10_000),
  /**
   * The site policy document the relayer applies (a JSON file, the one committed on-chain with
   * `npm run set-policy`: the relayer refuses to start unless its hash is in force for each of its
   * sites); unset: DEFAULT_POLICY (src/rules/policy.ts). `npm run register-site` commits it for a
   * site the ledger holds no policy for.
   */
  RELAYER_POLICY: z.string().min(1).optional(),
  /**
   * The first block the personhood index reads EAS `Attested` logs from (policy `personhood`):
   * the block EAS was deployed in, so that the relayer's first lookup on a long chain does not
   * read the logs of its whole history. Unset: the deployment file's `eas.deployedAtBlock` when
   * the deployment's EAS is the one the policy names (`npm run deploy` on a development chain),
   * else 0.
   */
  RELAYER_PERSONHOOD_FROM_BLOCK: z
    .string()
    .regex(/^\d+$/, "a block number (a non-negative decimal integer)")
    .transform((value) => BigInt(value))
    .optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type RelayerEnv = z.output<typeof relayerEnvSchema>;

const checkedEnvSchema = relayerEnvSchema.refine(
  (env) => env.RELAYER_LEASE_DEADLINE_MS >= 3 * env.RELAYER_LEASE_RETRY_MS,
  { path: ["RELAYER_LEASE_DEADLINE_MS"], message: "at least three times RELAYER_LEASE_RETRY_MS" },
);

export class RelayerConfigError extends Error {
  override name = "RelayerConfigError";
}

/**
 * Parses the relayer's environment; the message names bad variables, never their values.
 *
 * @example
 * const env = parseRelayerEnv(process.env)
 */
export function parseRelayerEnv(env: Record<string, string | undefined>): RelayerEnv {
  const parsed = checkedEnvSchema.safeParse(env);
  if (!parsed.success)
    throw new RelayerConfigError(
      `invalid relayer environment: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

/**
 * The policy the relayer applies: the document at RELAYER_POLICY, checked with the rules' policy
 * schema, or DEFAULT_POLICY when it is unset. Throws RelayerConfigError naming the variable, the
 * path and what is wrong (no such file, not JSON, not a policy document).
 *
 * @example
 * const policy = await relayerPolicyFrom(env.RELAYER_POLICY) // DEFAULT_POLICY when unset
 */
export async function relayerPolicyFrom(path: string | undefined): Promise<RulePolicy> {
  if (path === undefined) return DEFAULT_POLICY;
  const read = await readPolicyFile(path);
  if (!read.ok) throw new RelayerConfigError(`RELAYER_POLICY: ${read.reason}`);
  return read.policy;
}

/**
 * The finality the environment asks for on a chain (see RELAYER_FINALITY).
 *
 * @example
 * finalityFrom(env, deployment.chainId) // { mode: "confirmations", confirmations: 1 } on chain 31337
 */
export function finalityFrom(env: RelayerEnv, chainId: number): Finality {
  if (env.RELAYER_FINALITY === "finalized") return { mode: "finalized" };
  if (env.RELAYER_FINALITY === "confirmations" || env.RELAYER_CONFIRMATIONS !== undefined)
    return { mode: "confirmations", confirmations: env.RELAYER_CONFIRMATIONS ?? 1 };
  return defaultFinality(chainId);
}

/**
 * The first block the personhood index reads (see RELAYER_PERSONHOOD_FROM_BLOCK): the one set,
 * else the block the deployment file records for its EAS when the policy names that EAS, else 0.
 *
 * @example
 * personhoodFromBlockFrom(env, deployment, policy.personhood) // deployment.eas.deployedAtBlock
 */
export function personhoodFromBlockFrom(
  env: Pick<RelayerEnv, "RELAYER_PERSONHOOD_FROM_BLOCK">,
  deployment: Pick<Deployment, "eas">,
  personhood: PersonhoodPolicy | undefined,
): bigint {
  if (env.RELAYER_PERSONHOOD_FROM_BLOCK !== undefined) return env.RELAYER_PERSONHOOD_FROM_BLOCK;
  const recorded = deployment.eas;
  // Lowercase: a policy document may spell the address in any case.
  if (recorded?.deployedAtBlock !== undefined && recorded.eas.toLowerCase() === personhood?.eas.toLowerCase())
    return recorded.deployedAtBlock;
  return 0n;
}
