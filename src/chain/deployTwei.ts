import { readFile } from "node:fs/promises";
import {
  getContractAddress,
  keccak256,
  stringToHex,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import {
  DEFAULT_EMISSION_CAP,
  DEFAULT_EPOCH_SECONDS,
  DEFAULT_RULE_AMOUNTS,
  type RuleAmounts,
} from "../core/ruleSet.js";
import { tweiAbi, tweiLedgerAbi } from "./abi.js";
import { waitForSuccess } from "./waitForSuccess.js";

export type DeployerClient = WalletClient<Transport, Chain | undefined, Account>;

export interface DeployTweiParameters {
  publicClient: PublicClient;
  walletClient: DeployerClient;
  /** Gets the default admin, policy admin and pauser roles; the deployer by default. */
  admin?: Address;
  /** Gets the relayer role; none by default. */
  relayer?: Address;
  ruleAmounts?: RuleAmounts;
  epochSeconds?: bigint;
  emissionCap?: bigint;
  /** Where Hardhat's artifacts are; the working directory's by default. */
  artifactsDir?: string;
}

export interface DeployTweiReturnType {
  token: Address;
  ledger: Address;
  deploymentBlock: bigint;
  abiHash: Hex;
}

async function bytecodeOf(artifactsDir: string, file: string): Promise<Hex> {
  const artifact = JSON.parse(await readFile(`${artifactsDir}/${file}`, "utf8")) as { bytecode: Hex };
  return artifact.bytecode;
}

/** keccak256 of the token's and ledger's ABIs, recorded in deployments/<network>.json. */
export const ABI_HASH: Hex = keccak256(stringToHex(JSON.stringify([tweiAbi, tweiLedgerAbi])));

/**
 * Deploys the Twei token and its ledger (the token is deployed first, at the address the
 * ledger's own address is predicted from), writes the rule set and grants the roles.
 *
 * @example
 * const { token, ledger } = await deployTwei({ publicClient, walletClient, relayer })
 */
export async function deployTwei(parameters: DeployTweiParameters): Promise<DeployTweiReturnType> {
  const { publicClient, walletClient } = parameters;
  const artifactsDir = parameters.artifactsDir ?? "artifacts/contracts";
  const deployer = walletClient.account.address;
  const admin = parameters.admin ?? deployer;
  const nonce = await publicClient.getTransactionCount({ address: deployer, blockTag: "pending" });
  const predictedLedger = getContractAddress({ from: deployer, nonce: BigInt(nonce + 1) });

  const send = (hash: Hex) => waitForSuccess(publicClient, hash);

  const tokenReceipt = await send(
    await walletClient.deployContract({
      abi: tweiAbi,
      bytecode: await bytecodeOf(artifactsDir, "Twei.sol/Twei.json"),
      args: [predictedLedger],
      nonce,
      chain: walletClient.chain,
    }),
  );
  const token = tokenReceipt.contractAddress;
  if (!token) throw new Error("the token deployment created no contract");
  const ledgerReceipt = await send(
    await walletClient.deployContract({
      abi: tweiLedgerAbi,
      bytecode: await bytecodeOf(artifactsDir, "TweiLedger.sol/TweiLedger.json"),
      args: [
        deployer,
        token,
        parameters.epochSeconds ?? DEFAULT_EPOCH_SECONDS,
        parameters.emissionCap ?? DEFAULT_EMISSION_CAP,
      ],
      nonce: nonce + 1,
      chain: walletClient.chain,
    }),
  );
  const ledger = ledgerReceipt.contractAddress;
  if (ledger?.toLowerCase() !== predictedLedger.toLowerCase())
    throw new Error(`the ledger was deployed at ${ledger}, not at the predicted ${predictedLedger}`);

  const write = async (functionName: "setRuleSet" | "grantRole" | "renounceRole", args: readonly unknown[]) =>
    send(
      await walletClient.writeContract({
        address: ledger,
        abi: tweiLedgerAbi,
        functionName,
        args,
      } as never),
    );

  const roles = await Promise.all(
    (["POLICY_ADMIN_ROLE", "PAUSER_ROLE", "RELAYER_ROLE", "DEFAULT_ADMIN_ROLE"] as const).map((functionName) =>
      publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName }),
    ),
  );
  const [policyAdminRole, pauserRole, relayerRole, defaultAdminRole] = roles as [Hex, Hex, Hex, Hex];
  // The deployer writes the rule set as policy admin, then hands the roles to the admin.
  await write("grantRole", [policyAdminRole, deployer]);
  await write("setRuleSet", [parameters.ruleAmounts ?? DEFAULT_RULE_AMOUNTS]);
  if (admin.toLowerCase() !== deployer.toLowerCase()) {
    await write("grantRole", [policyAdminRole, admin]);
    await write("grantRole", [defaultAdminRole, admin]);
  }
  await write("grantRole", [pauserRole, admin]);
  if (parameters.relayer) await write("grantRole", [relayerRole, parameters.relayer]);
  if (admin.toLowerCase() !== deployer.toLowerCase()) {
    await write("renounceRole", [policyAdminRole, deployer]);
    await write("renounceRole", [defaultAdminRole, deployer]);
  }

  return { token, ledger, deploymentBlock: tokenReceipt.blockNumber, abiHash: ABI_HASH };
}
