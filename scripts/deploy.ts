// npm run deploy -- --network <name>: deploys the Twei token and its ledger, writes the default
// rule set, grants the roles, and writes deployments/<network>.json for the relayer, indexer
// and auditor. The deployer key comes from the network's accounts (Hardhat's keystore or the
// environment, never the repo). Optional environment (src/chain/deployRoles.ts):
//   TWEI_ADMIN, TWEI_POLICY_ADMIN, TWEI_PAUSER  the default admin, policy admin and pauser
//                 (each the deployer by default; warned about when one key holds two on a live network)
//   TWEI_UNPAUSER  who may resume settlement after a pause (default: TWEI_ADMIN; warned about when
//                 it is the pauser's key on a live network)
//   TWEI_RELAYER  the address that receives the relayer role (default: none; grant it later)
//   TWEI_RULES    the rule set file written at deployment (default deployments/rules/launch.json:
//                 publishing free, reads pay, so a new site's first users earn before anything
//                 costs; switch with `npm run set-rules` to deployments/rules/default.json later)
//   TWEI_MINT_CAP, TWEI_BURN_CAP  the ledger's overall caps, in Twei per epoch, for all sites
//                 together (default 1000000 each; src/chain/deployCaps.ts); a site's own caps come
//                 with register-site; change them later with scheduleEmissionCaps
//   TWEI_EPOCH_SECONDS  the caps' epoch, in seconds (default 86400: a day)
//   TWEI_ADMIN_DELAY, TWEI_CHANGE_DELAY, TWEI_RULE_SET_GRACE  seconds (delays: 0 locally, 2 days and
//                 1 day on a live network; grace: an hour)
//   TWEI_NETWORK  the deployment's name: the file is deployments/$TWEI_NETWORK.json, the name the
//                 relayer, indexer and auditor are started with (default: the Hardhat network's name;
//                 name a real network's deployment, e.g. base-sepolia, and commit its file)
// On a development chain (chain id 31337) it also deploys the Ethereum Attestation Service and
// registers the Twei personhood schema (src/chain/deployEas.ts), recorded under "eas" with the
// block EAS was deployed in (eas.deployedAtBlock: where the relayer's personhood index starts).
//   TWEI_RPC_URL  the node (network localhost: default http://127.0.0.1:8545; network live: required)
import { readFile } from "node:fs/promises";
import { network } from "hardhat";
import { formatUnits, getAddress, type PublicClient } from "viem";
import { deployCapsFromEnv } from "../src/chain/deployCaps.js";
import { deployEas } from "../src/chain/deployEas.js";
import { deployRolesFromEnv, LOCAL_CHAIN_IDS } from "../src/chain/deployRoles.js";
import { deployTwei, type DeployerClient } from "../src/chain/deployTwei.js";
import { writeDeployment } from "../src/chain/deployments.js";
import { parseRuleSetFile } from "../src/core/ruleSetFile.js";

const rulesPath = process.env.TWEI_RULES || "deployments/rules/launch.json";
const rules = parseRuleSetFile(await readFile(rulesPath, "utf8"), rulesPath);
const caps = deployCapsFromEnv(process.env);

const connection = await network.create();
const { viem, networkName } = connection;
const deploymentName = process.env.TWEI_NETWORK || networkName;
const publicClient = await viem.getPublicClient();
const [deployer] = await viem.getWalletClients();
if (!deployer) throw new Error(`network "${networkName}" has no account to deploy from`);
const { warnings, ...roles } = deployRolesFromEnv(process.env, {
  deployer: deployer.account.address,
  chainId: await publicClient.getChainId(),
});
for (const warning of warnings) console.warn(`warning: ${warning}`);

console.log(
  `deploying Twei to ${networkName} (chain ${await publicClient.getChainId()}) from ${deployer.account.address}`,
);
const deployed = await deployTwei({
  publicClient: publicClient as unknown as PublicClient,
  walletClient: deployer as unknown as DeployerClient,
  ...roles,
  ...caps,
  ruleAmounts: rules.amounts,
});
const eas = LOCAL_CHAIN_IDS.has(await publicClient.getChainId())
  ? await deployEas({
      publicClient: publicClient as unknown as PublicClient,
      walletClient: deployer as unknown as DeployerClient,
    })
  : undefined;
const path = await writeDeployment({
  network: deploymentName,
  chainId: await publicClient.getChainId(),
  token: getAddress(deployed.token),
  ledger: getAddress(deployed.ledger),
  deploymentBlock: deployed.deploymentBlock,
  abiHash: deployed.abiHash,
  deployer: getAddress(deployer.account.address),
  deployedAt: new Date().toISOString(),
  ...(eas ? { eas } : {}),
});
console.table({ token: deployed.token, ledger: deployed.ledger, block: deployed.deploymentBlock.toString() });
if (eas) console.log(`EAS ${eas.eas} (block ${eas.deployedAtBlock}), personhood schema ${eas.personhoodSchema}`);
console.log(`rule set "${rules.name}" from ${rulesPath}`);
console.log(
  `overall caps per ${caps.epochSeconds} s epoch: ${formatUnits(caps.emissionCap, 18)} Twei minted, ${formatUnits(caps.burnCap, 18)} Twei burned`,
);
console.log(`wrote ${path}: start the relayer, indexer and auditor with TWEI_NETWORK=${deploymentName}`);
await connection.close();
