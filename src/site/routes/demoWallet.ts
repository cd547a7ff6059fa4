import type { Router } from "express";
import { getAddress, type Hex, type TypedDataDefinition } from "viem";
import { z } from "zod";
import { HttpProblem, parseInput } from "../../http/problem.js";
import type { SiteContext } from "../siteContext.js";

const body = z.strictObject({
  account: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  method: z.enum(["eth_chainId", "eth_accounts", "eth_requestAccounts", "personal_sign", "eth_signTypedData_v4"]),
  params: z.array(z.unknown()).max(3).default([]),
});

const typedData = z.object({
  domain: z.record(z.string(), z.unknown()),
  types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
  primaryType: z.string(),
  message: z.record(z.string(), z.unknown()),
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
    const address = getAddress(holder.address);
    switch (call.method) {
      case "eth_chainId":
        res.json({ result: `0x${ctx.config.chainId.toString(16)}` });
        return;
      case "eth_accounts":
      case "eth_requestAccounts":
        res.json({ result: [address] });
        return;
      case "personal_sign": {
        const raw = z
          .string()
          .regex(/^0x[0-9a-fA-F]*$/)
          .parse(call.params[0]) as Hex;
        res.json({ result: await holder.signMessage({ message: { raw } }) });
        return;
      }
      case "eth_signTypedData_v4": {
        const data = typedData.parse(typeof call.params[1] === "string" ? JSON.parse(call.params[1]) : call.params[1]);
        const types = Object.fromEntries(Object.entries(data.types).filter(([name]) => name !== "EIP712Domain"));
        const uints = new Set(
          (types[data.primaryType] ?? []).filter((f) => f.type.startsWith("uint")).map((f) => f.name),
        );
        const message = Object.fromEntries(
          Object.entries(data.message).map(([k, v]) => [k, uints.has(k) ? BigInt(String(v)) : v]),
        );
        const signature = await holder.signTypedData({
          domain: { ...data.domain, chainId: Number(data.domain.chainId) },
          types,
          primaryType: data.primaryType,
          message,
        } as unknown as TypedDataDefinition);
        res.json({ result: signature });
        return;
      }
    }
  });
}
