import type { HardhatViemHelpers } from "@nomicfoundation/hardhat-viem/types";
import type { PublicClient } from "viem";
import { deployTwei, type DeployerClient, type DeployTweiParameters } from "../../src/chain/deployTwei.js";

export type TestDeployOptions = Pick<
  DeployTweiParameters,
  | "ruleAmounts"
  | "unitBounds"
  | "epochSeconds"
  | "emissionCap"
  | "burnCap"
  | "changeDelay"
  | "ruleSetGrace"
  | "adminDelay"
  | "pauser"
  | "unpauser"
>;

/**
 * Deploys token and ledger on a Hardhat network with the production deploy code. Wallet 0
 * deploys and administers (and pauses and unpauses, unless `pauser`/`unpauser` name other
 * accounts), wallet 1 is the relayer.
 */
export async function deployForTest(viem: HardhatViemHelpers, options: TestDeployOptions = {}) {
  const publicClient = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  const [admin, relayer] = wallets;
  if (!admin || !relayer) throw new Error("the test network needs at least two accounts");
  const deployed = await deployTwei({
    publicClient: publicClient as unknown as PublicClient,
    walletClient: admin as unknown as DeployerClient,
    relayer: relayer.account.address,
    ...options,
  });
  const token = await viem.getContractAt("Twei", deployed.token);
  const ledger = await viem.getContractAt("TweiLedger", deployed.ledger);
  const ledgerAsRelayer = await viem.getContractAt("TweiLedger", deployed.ledger, { client: { wallet: relayer } });
  return { publicClient, wallets, admin, relayer, token, ledger, ledgerAsRelayer, deployed };
}
