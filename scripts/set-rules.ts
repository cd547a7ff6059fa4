// TWEI_RULES=deployments/rules/default.json npm run set-rules -- --network <name>
// Schedules a rule set file's amounts (with the default unit bounds) on the ledger of deployments/<network>.json, from the
// network's account (a policy admin; Hardhat's keystore or the environment, never the repo).
import { readFile } from "node:fs/promises";
import { network } from "hardhat";
import type { PublicClient } from "viem";
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
const deployment = await readDeployment(networkName);
const publicClient = (await viem.getPublicClient()) as unknown as PublicClient;
const [admin] = await viem.getWalletClients();
if (!admin) throw new Error(`network "${networkName}" has no account to send from`);
const hash = await admin.writeContract({
  address: deployment.ledger,
  abi: tweiLedgerAbi,
  functionName: "scheduleRuleSet",
  args: [rules.amounts as never, DEFAULT_UNIT_BOUNDS as never],
});
const receipt = await waitForSuccess(publicClient, hash);
const [current, scheduled] = await publicClient.readContract({
  address: deployment.ledger,
  abi: tweiLedgerAbi,
  functionName: "ruleSchedule",
});
const version = `${JSON.stringify(scheduled, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))} (in force now: version ${current.version})`;
console.log(
  `rule set "${rules.name}" from ${rulesPath} scheduled in tx ${hash} (block ${receipt.blockNumber}): version ${version}`,
);
await connection.close();
