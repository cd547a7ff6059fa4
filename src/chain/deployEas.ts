import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { encodePacked, getAddress, keccak256, zeroAddress, type Address, type Hex, type PublicClient } from "viem";
import type { DeployerClient } from "./deployTwei.js";
import { schemaRegistryAbi } from "./easAbi.js";
import { waitForSuccess } from "./waitForSuccess.js";

/**
 * The schema of a Twei personhood attestation: the attester vouches that the recipient is a
 * person (a signed-in reader whose e-mail was verified, a subscriber, a public proof of
 * personhood). Revocable, without a resolver.
 */
export const PERSONHOOD_SCHEMA = "bool isPerson";

/**
 * The UID EAS's SchemaRegistry gives a schema: keccak256(abi.encodePacked(schema, resolver, revocable)).
 *
 * @example
 * schemaUidOf(PERSONHOOD_SCHEMA) // the UID `deployEas` registers
 */
export function schemaUidOf(schema: string, resolver: Address = zeroAddress, revocable = true): Hex {
  return keccak256(encodePacked(["string", "address", "bool"], [schema, resolver, revocable]));
}

export interface DeployEasParameters {
  readonly publicClient: PublicClient;
  readonly walletClient: DeployerClient;
}

export interface DeployEasReturnType {
  readonly schemaRegistry: Address;
  readonly eas: Address;
  /**
   * The block EAS was deployed in: no `Attested` log of it is older, so the relayer's
   * personhood index reads from there rather than from block 0.
   */
  readonly deployedAtBlock: bigint;
  /** The UID of the registered {@link PERSONHOOD_SCHEMA}. */
  readonly personhoodSchema: Hex;
}

const artifact = async (name: "EAS" | "SchemaRegistry"): Promise<Hex> => {
  // The package ships Hardhat artifacts (compiled with solc 0.8.29, which this repo's compiler
  // does not provide): deploy their bytecode rather than compile the sources again.
  const path = createRequire(import.meta.url).resolve(
    `@ethereum-attestation-service/eas-contracts/artifacts/contracts/${name}.sol/${name}.json`,
  );
  return (JSON.parse(await readFile(path, "utf8")) as { bytecode: Hex }).bytecode;
};

/**
 * Deploys the Ethereum Attestation Service (SchemaRegistry, then EAS) on a development chain
 * and registers the Twei personhood schema. Live networks have EAS deployed already: name its
 * address and schema in the site's policy instead. Needs the development dependency
 * `@ethereum-attestation-service/eas-contracts`.
 *
 * @example
 * const { eas, deployedAtBlock, personhoodSchema } = await deployEas({ publicClient, walletClient })
 */
export async function deployEas(parameters: DeployEasParameters): Promise<DeployEasReturnType> {
  const { publicClient, walletClient } = parameters;
  const deploy = async (
    name: "EAS" | "SchemaRegistry",
    args: readonly unknown[],
  ): Promise<{ address: Address; blockNumber: bigint }> => {
    const abi = [{ type: "constructor", inputs: args.length ? [{ name: "registry", type: "address" }] : [] }] as const;
    const receipt = await waitForSuccess(
      publicClient,
      await walletClient.deployContract({
        abi,
        bytecode: await artifact(name),
        args: args as never,
        chain: walletClient.chain,
      }),
    );
    if (!receipt.contractAddress) throw new Error(`the ${name} deployment created no contract`);
    return { address: getAddress(receipt.contractAddress), blockNumber: receipt.blockNumber };
  };
  const { address: schemaRegistry } = await deploy("SchemaRegistry", []);
  const { address: eas, blockNumber: deployedAtBlock } = await deploy("EAS", [schemaRegistry]);
  await waitForSuccess(
    publicClient,
    await walletClient.writeContract({
      address: schemaRegistry,
      abi: schemaRegistryAbi,
      functionName: "register",
      args: [PERSONHOOD_SCHEMA, zeroAddress, true],
      chain: walletClient.chain,
    }),
  );
  return { schemaRegistry, eas, deployedAtBlock, personhoodSchema: schemaUidOf(PERSONHOOD_SCHEMA) };
}
