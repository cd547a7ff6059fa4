import { join } from "node:path";
import { z } from "zod";

const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);

const envSchema = z.object({
  TWEI_NETWORK: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "a network name (deployments/<network>.json)")
    .default("localhost"),
  /** Where deployments/<network>.json is (the working directory by default). */
  TWEI_DEPLOYMENTS_ROOT: z.string().min(1).optional(),
  TWEI_RPC_URL: z.url({ protocol: /^(https?|wss?)$/ }).default("http://127.0.0.1:8545"),
  INDEXER_DB_PATH: z.string().min(1).optional(),
  INDEXER_CONFIRMATIONS: int(0, 0),
  INDEXER_REORG_DEPTH: int(1, 128),
  INDEXER_POLL_INTERVAL_MS: int(50, 1_000),
  INDEXER_INITIAL_RANGE: int(1, 2_000),
  INDEXER_PORT: int(0, 8546),
  /** The address to listen on: loopback by default; 0.0.0.0 inside a container (compose.yaml). */
  INDEXER_HOST: z.string().min(1).default("127.0.0.1"),
  /** PostgreSQL (postgres://…): one writer and any number of readers share it; unset: SQLite at INDEXER_DB_PATH. */
  DATABASE_URL: z
    .string()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), "a postgres:// or postgresql:// URL")
    .optional(),
  /** "false": serve the API and reports from the database without syncing (a reader; no writer lock). */
  INDEXER_SYNC: z
    .enum(["true", "false"])
    .default("true")
    .transform((value) => value === "true"),
  /**
   * A reader's /readyz fails once the writer has not reached the head for this long (ms). The
   * writer beats every INDEXER_POLL_INTERVAL_MS while it follows the head, and retries a failed
   * sync within 10 s: 15 s tells a silent writer from a slow one.
   */
  INDEXER_MAX_WRITER_SILENCE_MS: int(1_000, 15_000),
});

export interface IndexerConfig {
  network: string;
  deploymentsRoot?: string;
  rpcUrl: string;
  dbPath: string;
  confirmations: number;
  reorgDepth: number;
  pollIntervalMs: number;
  initialRange: number;
  port: number;
  host: string;
  /** PostgreSQL instead of SQLite (dbPath is then unused). */
  databaseUrl?: string;
  /** Whether this process syncs (the one writer) or only serves reads. */
  sync: boolean;
  /** A reader's limit on the writer's silence (ms) before /readyz fails. */
  maxWriterSilenceMs: number;
}

/** The environment is wrong: the message names every bad variable (never the RPC URL's value). */
export class IndexerConfigError extends Error {
  override name = "IndexerConfigError";
}

/**
 * Reads the indexer's configuration from the environment, validated at start-up.
 *
 * @example
 * const config = loadIndexerConfig(process.env)
 */
export function loadIndexerConfig(env: NodeJS.ProcessEnv): IndexerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success)
    throw new IndexerConfigError(
      `invalid environment: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const e = parsed.data;
  return {
    network: e.TWEI_NETWORK,
    ...(e.TWEI_DEPLOYMENTS_ROOT === undefined ? {} : { deploymentsRoot: e.TWEI_DEPLOYMENTS_ROOT }),
    rpcUrl: e.TWEI_RPC_URL,
    dbPath: e.INDEXER_DB_PATH ?? join("data", "indexer", `${e.TWEI_NETWORK}.sqlite`),
    confirmations: e.INDEXER_CONFIRMATIONS,
    reorgDepth: e.INDEXER_REORG_DEPTH,
    pollIntervalMs: e.INDEXER_POLL_INTERVAL_MS,
    initialRange: e.INDEXER_INITIAL_RANGE,
    port: e.INDEXER_PORT,
    host: e.INDEXER_HOST,
    ...(e.DATABASE_URL === undefined ? {} : { databaseUrl: e.DATABASE_URL }),
    sync: e.INDEXER_SYNC,
    maxWriterSilenceMs: e.INDEXER_MAX_WRITER_SILENCE_MS,
  };
}
