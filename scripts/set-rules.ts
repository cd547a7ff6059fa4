// TWEI_RULES=deployments/rules/default.json npm run set-rules -- --network <name>
// Schedules a rule set file's amounts (with the default unit bounds) on the ledger of
// deployments/$TWEI_NETWORK.json (default: the Hardhat network's name), sent from the network's
// first account, which must hold the ledger's policy-admin role (network localhost: the node's
// first dev account; network live: TWEI_DEPLOYER_KEY from the environment or Hardhat's keystore).
import { readFile } from "node:fs/promises";
import { waitForSuccess } from "../src/chain/waitForSuccess.js";
import { DEFAULT_UNIT_BOUNDS } from "../src/core/ruleSet.js";
import { parseRuleSetFile } from "../src/core/ruleSetFile.js";
import { connectPolicyAdmin } from "./connectPolicyAdmin.js";

const rulesPath = process.env.TWEI_RULES;
if (!rulesPath) {
  console.error("usage: TWEI_RULES=<rule set file> npm run set-rules -- --network <name>");
  process.exit(2);
}
const rules = parseRuleSetFile(await readFile(rulesPath, "utf8"), rulesPath);
const { admin, ledger, publicClient, sender, close } = await connectPolicyAdmin("set-rules");
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
await close();
