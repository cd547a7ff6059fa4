import { parseArgs } from "node:util";
import { createPublicClient, http, parseUnits } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { tweiAbi } from "../chain/abi.js";
import { scrubUrls } from "../observability/logger.js";
import { TweiApiError } from "../sdk/createTweiClient.js";
import { signLedgerPermit } from "../sdk/signLedgerPermit.js";
import { privateKeySchema, siteClientFromEnv, SiteClientEnvError } from "./siteClientFromEnv.js";

/**
 * `npm run send-permit`: a user's EIP-2612 permit letting the ledger burn up to --amount Twei of
 * theirs, signed with TWEI_USER_KEY and sent by the site to the relayer (`POST /v1/permits`), which
 * submits it on-chain (the user pays no gas). On a real site the user signs in their own wallet
 * (the widget does); this command is for an operator's rehearsal and for scripts. The token's
 * permit nonce is read from TWEI_RPC_URL. Environment: see src/ops/siteClientFromEnv.ts.
 */
const usage = `usage: TWEI_USER_KEY=0x… TWEI_API_KEY=… TWEI_SITE_ID=… TWEI_SITE_SIGNER_KEY=0x… [TWEI_RELAYER_URL=…] [TWEI_NETWORK=localhost] [TWEI_RPC_URL=…]
  npm run send-permit -- [--amount 10] [--deadline-hours 24]`;

try {
  const { values } = parseArgs({
    options: { amount: { type: "string", default: "10" }, "deadline-hours": { type: "string", default: "24" } },
  });
  if (!/^\d+(\.\d{1,18})?$/.test(values.amount)) throw new SiteClientEnvError("  --amount: Twei, e.g. 10 or 2.5");
  const hours = Number(values["deadline-hours"]);
  if (!Number.isInteger(hours) || hours < 1) throw new SiteClientEnvError("  --deadline-hours: whole hours from 1");
  const userKey = privateKeySchema.safeParse(process.env.TWEI_USER_KEY);
  if (!userKey.success)
    throw new SiteClientEnvError(`  TWEI_USER_KEY: ${userKey.error.issues[0]?.message ?? "invalid"}`);

  const { twei, deployment, env } = await siteClientFromEnv(process.env);
  const owner = privateKeyToAccount(userKey.data);
  const chain = createPublicClient({ transport: http(env.TWEI_RPC_URL) });
  const nonce = await chain.readContract({
    address: deployment.token,
    abi: tweiAbi,
    functionName: "nonces",
    args: [owner.address],
  });
  const value = parseUnits(values.amount, 18);
  const deadline = BigInt(Math.floor(Date.now() / 1_000) + hours * 3_600);
  const signature = await signLedgerPermit({
    owner,
    token: deployment.token,
    ledger: deployment.ledger,
    chainId: deployment.chainId,
    value,
    nonce,
    deadline,
  });
  const answer = await twei.submitPermit({ owner: owner.address, value, deadline, signature });
  console.log(
    `permit for ${owner.address}: the ledger may burn up to ${values.amount} Twei until ${new Date(Number(deadline) * 1_000).toISOString()}`,
  );
  console.log(JSON.stringify(answer));
} catch (error) {
  if (error instanceof SiteClientEnvError) {
    console.error(`${usage}\n${error.message}`);
    process.exit(2);
  }
  const message =
    error instanceof TweiApiError
      ? error.message
      : scrubUrls(error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error));
  console.error(`send-permit failed: ${message}`);
  process.exit(1);
}
