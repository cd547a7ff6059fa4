import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { getAddress, isAddress } from "viem";
import { z } from "zod";

const address = z
  .string()
  .refine((value) => isAddress(value), "not an EVM address")
  .transform((value) => getAddress(value));

/** deployments/<network>.json: what the relayer, indexer and auditor read. */
export const deploymentSchema = z.object({
  network: z.string().min(1),
  chainId: z.number().int().positive(),
  token: address,
  ledger: address,
  deploymentBlock: z.coerce.bigint().nonnegative(),
  /** keccak256 of the ledger's and token's ABIs, to notice a stale deployment. */
  abiHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  deployer: address,
  deployedAt: z.string(),
  /**
   * The Ethereum Attestation Service the deploy script put on a development chain, with the Twei
   * personhood schema's UID (src/chain/deployEas.ts); absent on live networks, which have EAS.
   * `deployedAtBlock` (a decimal string; absent in files written before it was recorded) is
   * the block EAS was deployed in, where the relayer's personhood index starts reading.
   */
  eas: z
    .object({
      eas: address,
      schemaRegistry: address,
      personhoodSchema: z.string().regex(/^0x[0-9a-f]{64}$/) as unknown as z.ZodType<`0x${string}`>,
      deployedAtBlock: z
        .string()
        .regex(/^\d+$/, "a block number (a decimal string)")
        .transform((value) => BigInt(value))
        .optional(),
    })
    .optional(),
});

export type Deployment = z.infer<typeof deploymentSchema>;

export class DeploymentFileError extends Error {
  override name = "DeploymentFileError";
}

export function deploymentPath(network: string, root = process.cwd()): string {
  if (!/^[A-Za-z0-9_-]+$/.test(network)) throw new DeploymentFileError(`invalid network name "${network}"`);
  return join(root, "deployments", `${network}.json`);
}

/**
 * Reads and validates deployments/<network>.json.
 *
 * @example
 * const { ledger, deploymentBlock } = await readDeployment("localhost")
 */
export async function readDeployment(network: string, root?: string): Promise<Deployment> {
  const path = deploymentPath(network, root);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new DeploymentFileError(`no deployment for network "${network}" (${path}): run the deploy script first`);
  }
  const parsed = deploymentSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new DeploymentFileError(`invalid ${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Writes deployments/<network>.json. */
export async function writeDeployment(deployment: Deployment, root?: string): Promise<string> {
  const path = deploymentPath(deployment.network, root);
  await mkdir(dirname(path), { recursive: true });
  // Block numbers (deploymentBlock, eas.deployedAtBlock) as decimal strings.
  const json = JSON.stringify(
    deployment,
    (_key, value: unknown) => (typeof value === "bigint" ? `${value}` : value),
    2,
  );
  await writeFile(path, `${json}\n`);
  return path;
}
