import type { Router } from "express";
import { z } from "zod";
import { HttpProblem, parseInput } from "../../http/problem.js";
import { answerWalletRequest, WALLET_METHODS } from "../answerWalletRequest.js";
import type { SiteContext } from "../siteContext.js";

const body = z.strictObject({
  account: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  method: z.enum(WALLET_METHODS),
  params: z.array(z.unknown()).max(3).default([]),
});

/**
 * The demo wallet: an EIP-1193 `request` endpoint that signs with the local node's DEV
 * accounts on the server, so the demo can be tried without a wallet extension. It exists only
 * on a local development chain (the site refuses it elsewhere) and the widget labels it as such.
 */
export function demoWalletRoutes(router: Router, ctx: SiteContext): void {
  const accounts = ctx.config.demoWallet ?? [];
  router.post("/demo-wallet", async (req, res) => {
    ctx.limit(req);
    const call = parseInput(body, req.body, "body");
    const holder = accounts.find((a) => a.account.address.toLowerCase() === call.account.toLowerCase())?.account;
    if (!holder) throw new HttpProblem(404, "demo_account_not_found", "No such demo wallet account");
    res.json({ result: await answerWalletRequest(holder, ctx.config.chainId, call.method, call.params) });
  });
}
