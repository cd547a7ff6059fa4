// TWEI_SITE_ID=1 TWEI_POLICY=policy.json npm run set-policy -- --network <name>
// Commits a site's policy document (the rules' thresholds the relayer applies, any JSON object)
// by hash on the ledger of deployments/$TWEI_NETWORK.json (default: the Hardhat network's name; under
// $TWEI_DEPLOYMENTS_ROOT when set, else the working directory):
// the site's first policy is in force at once, a change after the ledger's change delay. Sent from
// the network's first account, which must hold the ledger's policy-admin role. The relayer refuses
// to start on a policy whose hash the ledger does not hold in force for each of its sites; the
// auditor replays each batch with the policy in force at its block, fetched by this hash.
import { readFile } from "node:fs/promises";
import { waitForSuccess } from "../src/chain/waitForSuccess.js";
import { policyHash } from "../src/rules/policyHash.js";
import { connectPolicyAdmin } from "./connectPolicyAdmin.js";

const usage = "usage: TWEI_SITE_ID=<site id> TWEI_POLICY=<policy file.json> npm run set-policy -- --network <name>";
const policyPath = process.env.TWEI_POLICY;
const siteId = Number(process.env.TWEI_SITE_ID);
if (!policyPath || !Number.isInteger(siteId) || siteId < 0 || siteId > 0xffffffff) {
  console.error(usage);
  process.exit(2);
}
let document: unknown;
try {
  document = JSON.parse(await readFile(policyPath, "utf8"));
} catch {
  console.error(`set-policy: cannot read JSON from ${policyPath}`);
  process.exit(2);
}
if (document === null || typeof document !== "object" || Array.isArray(document)) {
  console.error(`set-policy: ${policyPath} is not a JSON object`);
  process.exit(2);
}
const hash = policyHash(document);
const { admin, ledger, publicClient, sender, close } = await connectPolicyAdmin(
  "set-policy",
  process.env.TWEI_DEPLOYMENTS_ROOT || undefined,
);
console.log(`committing site ${siteId}'s policy ${policyPath} (hash ${hash}), sent by ${sender} (policy admin)`);
const tx = await admin.writeContract({ ...ledger, functionName: "schedulePolicy", args: [siteId, hash] });
const receipt = await waitForSuccess(publicClient, tx);
const schedule = await publicClient.readContract({ ...ledger, functionName: "sitePolicy", args: [siteId] });
console.log(
  schedule.scheduledAt === 0n
    ? `in force now: ${schedule.policyHash}, tx ${tx} in block ${receipt.blockNumber}`
    : `scheduled: ${schedule.scheduledPolicyHash} takes effect at ${new Date(Number(schedule.scheduledAt) * 1_000).toISOString()} (${schedule.policyHash} is in force until then), tx ${tx} in block ${receipt.blockNumber}`,
);
await close();
