// TWEI_RELAYER=0x… [TWEI_FUND=1] npm run fund-relayer -- --network <name>
// Sends TWEI_FUND (default 1) of the chain's native currency from the network's first account (the
// deployer: network localhost, the node's first dev account; network live, TWEI_DEPLOYER_KEY) to
// the relayer's address, which pays the gas of every settlement, and prints both balances.
import { network } from "hardhat";
import { formatEther, getAddress, isAddress, parseEther, type PublicClient } from "viem";
import { waitForSuccess } from "../src/chain/waitForSuccess.js";

const to = process.env.TWEI_RELAYER ?? "";
const amountText = process.env.TWEI_FUND || "1";
if (!isAddress(to) || !/^\d+(\.\d{1,18})?$/.test(amountText)) {
  console.error(
    "usage: TWEI_RELAYER=<the relayer's address> [TWEI_FUND=<amount in the native currency, default 1>] npm run fund-relayer -- --network <name>",
  );
  process.exit(2);
}
const connection = await network.create();
const publicClient = (await connection.viem.getPublicClient()) as unknown as PublicClient;
const [funder] = await connection.viem.getWalletClients();
if (!funder) throw new Error(`network "${connection.networkName}" has no account to send from`);
const relayer = getAddress(to);
const value = parseEther(amountText);
const hash = await funder.sendTransaction({ to: relayer, value });
const receipt = await waitForSuccess(publicClient, hash);
const balance = await publicClient.getBalance({ address: relayer });
console.log(
  `sent ${amountText} from ${getAddress(funder.account.address)} to the relayer ${relayer} (tx ${hash}, block ${receipt.blockNumber}): the relayer holds ${formatEther(balance)}`,
);
await connection.close();
