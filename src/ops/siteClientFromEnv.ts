import { getAddress, isHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
import { readDeployment, type Deployment } from "../chain/deployments.js";
import { createTweiClient, type TweiClient } from "../sdk/createTweiClient.js";

/** A 32-byte private key in hex. */
export const privateKeySchema = z
  .string()
  .refine((value) => isHex(value) && value.length === 66, "a 32-byte hex key (0x and 64 hex digits)")
  .transform((value) => value as `0x${string}`);

/** What the operating guide's site commands (send-example-event, send-permit) read from the environment. */
export const siteClientEnvSchema = z.object({
  TWEI_RELAYER_URL: z.url({ protocol: /^https?$/ }).default("http://127.0.0.1:8787"),
  /** The site's API key, as register-site printed it. */
  TWEI_API_KEY: z.string().regex(/^twei_\d+_\S+$/, "the API key register-site printed (twei_<siteId>_…)"),
  TWEI_SITE_ID: z.coerce.number().int().min(0).max(0xffffffff),
  /** The site's signer key: the address given to register-site --signer. */
  TWEI_SITE_SIGNER_KEY: privateKeySchema,
  TWEI_NETWORK: z.string().default("localhost"),
  TWEI_DEPLOYMENTS_ROOT: z.string().optional(),
  TWEI_RPC_URL: z.url().default("http://127.0.0.1:8545"),
});

export type SiteClientEnv = z.infer<typeof siteClientEnvSchema>;

/** The environment did not validate: each problem on its own line, with the variable's name. */
export class SiteClientEnvError extends Error {
  override name = "SiteClientEnvError";
}

/**
 * Validates the site commands' environment and builds the site's SDK client against the
 * deployment's chain id and ledger.
 *
 * @example
 * const { twei, deployment, env } = await siteClientFromEnv(process.env)
 */
export async function siteClientFromEnv(
  source: NodeJS.ProcessEnv,
): Promise<{ twei: TweiClient; deployment: Deployment; env: SiteClientEnv }> {
  const parsed = siteClientEnvSchema.safeParse(source);
  if (!parsed.success)
    throw new SiteClientEnvError(parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n"));
  const env = parsed.data;
  const deployment = await readDeployment(env.TWEI_NETWORK, env.TWEI_DEPLOYMENTS_ROOT);
  const twei = createTweiClient({
    url: env.TWEI_RELAYER_URL,
    apiKey: env.TWEI_API_KEY,
    siteId: env.TWEI_SITE_ID,
    signer: privateKeyToAccount(env.TWEI_SITE_SIGNER_KEY),
    chainId: deployment.chainId,
    ledger: getAddress(deployment.ledger),
  });
  return { twei, deployment, env };
}
