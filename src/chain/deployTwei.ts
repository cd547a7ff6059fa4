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
  zeroAddress,
} from "viem";
import {
  DEFAULT_BURN_CAP,
  DEFAULT_EMISSION_CAP,
  DEFAULT_EPOCH_SECONDS,
  DEFAULT_RULE_AMOUNTS,
  DEFAULT_UNIT_BOUNDS,
  type RuleAmounts,
} from "../core/ruleSet.js";
import { tweiAbi, tweiLedgerAbi } from "./abi.js";
import { waitForSuccess } from "./waitForSuccess.js";

export type DeployerClient = WalletClient<Transport, Chain | undefined, Account>;

export interface DeployTweiParameters {
  publicClient: PublicClient;
  walletClient: DeployerClient;
  /** Gets the default admin role (moved in two steps with `adminDelay`); the deployer by default. */
  admin?: Address;
  /** Gets the policy admin role (rule sets, caps, sites); the deployer by default. */
  policyAdmin?: Address;
  /** Gets the pauser role; the deployer by default. */
  pauser?: Address;
  /** Gets the unpauser role (resumes settlement; keep it off the hot pauser key); the admin by default. */
  unpauser?: Address;
  /** Gets the relayer role; none by default. */
  relayer?: Address;
  /** The first rule set (version 1, in force from deployment). */
  ruleAmounts?: RuleAmounts;
  /** Its unit bound per kind (DEFAULT_UNIT_BOUNDS by default). */
  unitBounds?: readonly number[];
  epochSeconds?: bigint;
  /** The overall mint cap per epoch. */
  emissionCap?: bigint;
  /** The overall burn cap per epoch. */
  burnCap?: bigint;
  /** Seconds a default admin transfer waits; 0 by default (set it on live networks). */
  adminDelay?: number;
  /** Seconds between announcing a rule-set or cap change and its effect; 0 by default (dev chains). */
  changeDelay?: number;
  /** Seconds a replaced rule set is still honoured for batches priced under it; an hour by default. */
  ruleSetGrace?: number;
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

/** How long a replaced rule set is honoured by default: an hour. */
export const DEFAULT_RULE_SET_GRACE = 3_600;

/**
 * Deploys the Twei token and its ledger (the token is deployed first, at the address the
 * ledger's own address is predicted from). The ledger's constructor takes the roles, the delays,
 * the caps and the first rule set, so nothing is granted or written afterwards.
 *
 * @example
 * const { token, ledger } = await deployTwei({ publicClient, walletClient, relayer })
 */
export async function deployTwei(parameters: DeployTweiParameters): Promise<DeployTweiReturnType> {
  const { publicClient, walletClient } = parameters;
  const artifactsDir = parameters.artifactsDir ?? "artifacts/contracts";
  const deployer = walletClient.account.address;
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
  const deployerOr = (address: Address | undefined) => address ?? deployer;
  const admin = deployerOr(parameters.admin);
  const config = {
    admin,
    policyAdmin: deployerOr(parameters.policyAdmin),
    pauser: deployerOr(parameters.pauser),
    unpauser: parameters.unpauser ?? admin,
    relayer: parameters.relayer ?? zeroAddress,
    adminDelay: parameters.adminDelay ?? 0,
    changeDelay: parameters.changeDelay ?? 0,
    ruleSetGrace: parameters.ruleSetGrace ?? DEFAULT_RULE_SET_GRACE,
    epochLength: parameters.epochSeconds ?? DEFAULT_EPOCH_SECONDS,
    mintCap: parameters.emissionCap ?? DEFAULT_EMISSION_CAP,
    burnCap: parameters.burnCap ?? DEFAULT_BURN_CAP,
    amounts: parameters.ruleAmounts ?? DEFAULT_RULE_AMOUNTS,
    maxUnits: parameters.unitBounds ?? DEFAULT_UNIT_BOUNDS,
  };
  const ledgerReceipt = await send(
    await walletClient.deployContract({
      abi: tweiLedgerAbi,
      bytecode: await bytecodeOf(artifactsDir, "TweiLedger.sol/TweiLedger.json"),
      args: [token, config as never],
      nonce: nonce + 1,
      chain: walletClient.chain,
    }),
  );
  const ledger = ledgerReceipt.contractAddress;
  if (ledger?.toLowerCase() !== predictedLedger.toLowerCase())
    throw new Error(`the ledger was deployed at ${ledger}, not at the predicted ${predictedLedger}`);

  return { token, ledger, deploymentBlock: tokenReceipt.blockNumber, abiHash: ABI_HASH };
}
