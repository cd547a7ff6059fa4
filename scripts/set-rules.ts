// TWEI_RULES=deployments/rules/default.json npm run set-rules -- --network <name>
// Schedules a rule set file's amounts (with the default unit bounds) on the ledger of
// deployments/$TWEI_NETWORK.json (default: the Hardhat network's name), sent from the network's
// first account, which must hold the ledger's policy-admin role (network localhost: the node's
// first dev account; network live: TWEI_DEPLOYER_KEY from the environment or Hardhat's keystore).
import { readFile } from "node:fs/promises";
import { network } from "hardhat";
import { getAddress, type PublicClient } from "viem";
import { tweiLedgerAbi } from "../src/chain/abi.js";
import { readDeployment } from "../src/chain/deployments.js";
import { waitForSuccess } from "../src/chain/waitForSuccess.js";
import { DEFAULT_UNIT_BOUNDS } from "../src/core/ruleSet.js";
import { parseRuleSetFile } from "../src/core/ruleSetFile.js";

const rulesPath = process.env.TWEI_RULES;
if (!rulesPath) {
  console.error("usage: TWEI_RULES=<rule set file> npm run set-rules -- --network <name>");
  process.exit(2);
}
const rules = parseRuleSetFile(await readFile(rulesPath, "utf8"), rulesPath);
const connection = await network.create();
const { viem, networkName } = connection;
const deployment = await readDeployment(process.env.TWEI_NETWORK || networkName);
const publicClient = (await viem.getPublicClient()) as unknown as PublicClient;
const [admin] = await viem.getWalletClients();
if (!admin) throw new Error(`network "${networkName}" has no account to send from`);
const ledger = { address: deployment.ledger, abi: tweiLedgerAbi } as const;
const sender = getAddress(admin.account.address);
const policyAdminRole = await publicClient.readContract({ ...ledger, functionName: "POLICY_ADMIN_ROLE" });
if (!(await publicClient.readContract({ ...ledger, functionName: "hasRole", args: [policyAdminRole, sender] }))) {
  console.error(
    `set-rules: ${sender} (the network's first account) is not a policy admin of the ledger ${deployment.ledger}: send from the policy admin's key (TWEI_DEPLOYER_KEY on network live)`,
  );
  process.exit(1);
}
console.log(`scheduling rule set "${rules.name}" from ${rulesPath}, sent by ${sender} (policy admin)`);
const hash = await admin.writeContract({
  ...ledger,
  functionName: "scheduleRuleSet",
  args: [rules.amounts as never, DEFAULT_UNIT_BOUNDS as never],
});
const receipt = await waitForSuccess(publicClient, hash);
const [current, scheduled] = await publicClient.readContract({ ...ledger, functionName: "ruleSchedule" });
const when = (seconds: bigint) => new Date(Number(seconds) * 1_000).toISOString();
// With a change delay of 0 the new set is in force at once and nothing stays scheduled.
console.log(
  scheduled.version === 0
    ? `in force now: version ${current.version} (since ${when(current.effectiveAt)}), tx ${hash} in block ${receipt.blockNumber}`
    : `scheduled: version ${scheduled.version} takes effect at ${when(scheduled.effectiveAt)} (version ${current.version} is in force until then), tx ${hash} in block ${receipt.blockNumber}`,
);
await connection.close();
