import { network } from "hardhat";
import { getAddress, type PublicClient } from "viem";
import { tweiLedgerAbi } from "../src/chain/abi.js";
import { readDeployment } from "../src/chain/deployments.js";

/**
 * The ledger of deployments/$TWEI_NETWORK.json (default: the Hardhat network's name) and the
 * network's first account, checked to hold the ledger's policy-admin role: what set-rules and
 * set-policy send from. Exits 1 naming the account when it does not hold the role.
 *
 * @example
 * const { admin, ledger, publicClient, sender, close } = await connectPolicyAdmin("set-rules")
 */
export async function connectPolicyAdmin(command: string, deploymentsRoot?: string) {
  const connection = await network.create();
  const { viem, networkName } = connection;
  const deployment = await readDeployment(process.env.TWEI_NETWORK || networkName, deploymentsRoot);
  const publicClient = (await viem.getPublicClient()) as unknown as PublicClient;
  const [admin] = await viem.getWalletClients();
  if (!admin) throw new Error(`network "${networkName}" has no account to send from`);
  const ledger = { address: deployment.ledger, abi: tweiLedgerAbi } as const;
  const sender = getAddress(admin.account.address);
  const policyAdminRole = await publicClient.readContract({ ...ledger, functionName: "POLICY_ADMIN_ROLE" });
  if (!(await publicClient.readContract({ ...ledger, functionName: "hasRole", args: [policyAdminRole, sender] }))) {
    console.error(
      `${command}: ${sender} (the network's first account) is not a policy admin of the ledger ${deployment.ledger}: send from the policy admin's key (TWEI_DEPLOYER_KEY on network live)`,
    );
    process.exit(1);
  }
  return { admin, ledger, publicClient, sender, close: () => connection.close() };
}
