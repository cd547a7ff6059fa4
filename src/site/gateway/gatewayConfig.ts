import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isHex, type Hex } from "viem";
import { z } from "zod";
import { canonicalOriginOf } from "../core/canonicalOrigin.js";
import { DEV_CHAIN_ID } from "../siteConfig.js";
import { decryptKeystore, KeystoreInvalidError, KeystorePasswordError } from "./decryptKeystore.js";

const hexKey = z
  .string()
  .trim()
  .refine((value) => isHex(value) && value.length === 66, "a 32-byte hex private key (0x…)")
  .transform((value) => value as Hex);
const list = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );

/** The names Express's `trust proxy` takes for address ranges. */
const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);
const proxyAddress = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]);

/**
 * The gateway's environment, validated as a whole at start-up (`npm run site-gateway`). Keys come
 * from the environment, a key file or an encrypted keystore no git repository tracks; never from
 * a tracked file.
 */
export const gatewayEnvSchema = z
  .object({
    /** The site's canonical origin (its pages, where readers sign in): SIWE's domain. */
    TWEI_SITE_ORIGIN: z.url(),
    /** More origins whose pages embed the widget (comma-separated); the canonical one is always allowed. */
    TWEI_GATEWAY_ALLOWED_ORIGINS: list,
    TWEI_SITE_NAME: z.string().min(1).max(200),
    TWEI_SITE_ID: z.coerce
      .number()
      .int()
      .min(1)
      .max(2 ** 31),
    TWEI_RELAYER_URL: z.url(),
    TWEI_INDEXER_URL: z.url(),
    TWEI_RPC_URL: z.url().default("http://127.0.0.1:8545"),
    TWEI_NETWORK: z.string().default("localhost"),
    TWEI_DEPLOYMENTS_ROOT: z.string().optional(),
    /** The site's relayer API key. */
    TWEI_SITE_API_KEY: z.string().min(16).max(200),
    /** The site's signer key (signs its events); or TWEI_SITE_SIGNER_KEY_FILE; or TWEI_SITE_SIGNER_KEYSTORE. */
    TWEI_SITE_SIGNER_KEY: hexKey.optional(),
    /** A file holding the key in hex. */
    TWEI_SITE_SIGNER_KEY_FILE: z.string().optional(),
    /** An encrypted keystore (Web3 Secret Storage v3: geth, clef, `cast wallet new`), opened with the password below. */
    TWEI_SITE_SIGNER_KEYSTORE: z.string().optional(),
    TWEI_SITE_SIGNER_KEYSTORE_PASSWORD: z.string().optional(),
    /** The site's key for `PUT /twei/site/posts/:slug`. */
    TWEI_GATEWAY_POSTS_KEY: z.string().min(16).max(200).optional(),
    /** A JSON feed of the site's posts ([{ slug, title, wordCount, author }]), read at start and every minute. */
    TWEI_GATEWAY_FEED_URL: z.url().optional(),
    TWEI_MODERATOR_KEYS: list.pipe(z.array(z.string().min(16).max(200))),
    TWEI_MODERATION_WINDOW_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 86_400_000)
      .default(0),
    /** The newcomer hold: UTC days of reading before a new account's reads are paid (0: off; src/site/core/newcomerHold.ts). */
    TWEI_NEWCOMER_READING_DAYS: z.coerce.number().int().min(0).max(30).default(2),
    /** PostgreSQL (postgres://…) shared by several gateway processes; unset: SQLite at TWEI_GATEWAY_DB. */
    DATABASE_URL: z
      .string()
      .refine((value) => /^postgres(ql)?:\/\//.test(value), "a postgres:// or postgresql:// URL")
      .optional(),
    TWEI_GATEWAY_DB: z.string().default("data/site-gateway/site.sqlite"),
    /**
     * The reverse proxy in front of the gateway, for Express's `trust proxy` (the per-IP limits
     * count the client's address from X-Forwarded-For only through a trusted proxy): a hop count,
     * or comma-separated addresses, subnets or `loopback`/`linklocal`/`uniquelocal`. Unset: none.
     */
    TWEI_TRUST_PROXY: z
      .string()
      .optional()
      .transform((value, context) => {
        if (value === undefined || value.trim() === "") return undefined;
        if (/^\d+$/.test(value.trim())) return Number(value.trim());
        const items = value.split(",").map((item) => item.trim());
        for (const item of items)
          if (!PROXY_NAMES.has(item) && !proxyAddress.safeParse(item).success)
            context.addIssue({
              code: "custom",
              message: "a hop count, or addresses, subnets or loopback/linklocal/uniquelocal",
            });
        return items.join(", ");
      }),
    TWEI_GATEWAY_HOST: z.string().default("127.0.0.1"),
    TWEI_GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(8790),
  })
  .refine(
    (env) =>
      [env.TWEI_SITE_SIGNER_KEY, env.TWEI_SITE_SIGNER_KEY_FILE, env.TWEI_SITE_SIGNER_KEYSTORE].filter(
        (value) => value !== undefined,
      ).length === 1,
    {
      message: "set one of TWEI_SITE_SIGNER_KEY, TWEI_SITE_SIGNER_KEY_FILE and TWEI_SITE_SIGNER_KEYSTORE",
      path: ["TWEI_SITE_SIGNER_KEY"],
    },
  )
  .refine(
    (env) => (env.TWEI_SITE_SIGNER_KEYSTORE === undefined) === (env.TWEI_SITE_SIGNER_KEYSTORE_PASSWORD === undefined),
    {
      message: "TWEI_SITE_SIGNER_KEYSTORE and TWEI_SITE_SIGNER_KEYSTORE_PASSWORD go together",
      path: ["TWEI_SITE_SIGNER_KEYSTORE_PASSWORD"],
    },
  )
  .refine((env) => env.TWEI_GATEWAY_POSTS_KEY !== undefined || env.TWEI_GATEWAY_FEED_URL !== undefined, {
    message: "the gateway learns posts from TWEI_GATEWAY_POSTS_KEY (its API) or TWEI_GATEWAY_FEED_URL",
    path: ["TWEI_GATEWAY_POSTS_KEY"],
  });

export type GatewayEnv = z.output<typeof gatewayEnvSchema>;

export class GatewayConfigError extends Error {
  override name = "GatewayConfigError";
}

/** Whether a git repository tracks `path` (a key there would be committed). */
function trackedByGit(path: string): boolean {
  try {
    execFileSync("git", ["-C", dirname(path), "ls-files", "--error-unmatch", resolve(path)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A key file's text; refused when a git repository tracks it (the key would be committed) or it cannot be read. */
function untrackedFile(variable: string, path: string): string {
  if (trackedByGit(path))
    throw new GatewayConfigError(`${variable}: a git repository tracks this file; keep keys out of git`);
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new GatewayConfigError(`${variable}: cannot read the file (${(error as NodeJS.ErrnoException).code})`);
  }
}

/**
 * Parses the gateway's environment; the message names bad variables, never their values. The
 * canonical origin is checked like the site's (a bare origin, https off a local chain, when
 * `chainId` is given).
 *
 * @example
 * const { env, signerKey } = parseGatewayEnv(process.env, deployment.chainId)
 */
export function parseGatewayEnv(
  env: Record<string, string | undefined>,
  chainId?: number,
): { env: GatewayEnv; signerKey: Hex; allowedOrigins: string[] } {
  const parsed = gatewayEnvSchema.safeParse(env);
  if (!parsed.success)
    throw new GatewayConfigError(
      `invalid gateway environment: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const values = parsed.data;
  let canonical;
  try {
    // Before the chain id is known (the deployment file), every origin passes the https check; the
    // site kit checks it again against the chain when it starts.
    canonical = canonicalOriginOf(values.TWEI_SITE_ORIGIN, chainId ?? DEV_CHAIN_ID);
  } catch (error) {
    throw new GatewayConfigError(`TWEI_SITE_ORIGIN: ${(error as Error).message}`);
  }
  for (const origin of values.TWEI_GATEWAY_ALLOWED_ORIGINS)
    if (!URL.canParse(origin) || new URL(origin).origin !== origin)
      throw new GatewayConfigError(`TWEI_GATEWAY_ALLOWED_ORIGINS: ${JSON.stringify(origin)} is not a bare origin`);
  let signerKey = values.TWEI_SITE_SIGNER_KEY;
  if (!signerKey && values.TWEI_SITE_SIGNER_KEY_FILE !== undefined) {
    const key = hexKey.safeParse(untrackedFile("TWEI_SITE_SIGNER_KEY_FILE", values.TWEI_SITE_SIGNER_KEY_FILE));
    if (!key.success) throw new GatewayConfigError("TWEI_SITE_SIGNER_KEY_FILE: not a 32-byte hex private key (0x…)");
    signerKey = key.data;
  }
  if (!signerKey) {
    const json = untrackedFile("TWEI_SITE_SIGNER_KEYSTORE", values.TWEI_SITE_SIGNER_KEYSTORE!);
    try {
      signerKey = decryptKeystore(json, values.TWEI_SITE_SIGNER_KEYSTORE_PASSWORD!);
    } catch (error) {
      if (error instanceof KeystoreInvalidError || error instanceof KeystorePasswordError)
        throw new GatewayConfigError(`TWEI_SITE_SIGNER_KEYSTORE: ${error.shortMessage}`);
      throw error;
    }
  }
  return {
    env: values,
    signerKey,
    allowedOrigins: [...new Set([canonical.origin, ...values.TWEI_GATEWAY_ALLOWED_ORIGINS])],
  };
}
