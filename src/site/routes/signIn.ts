import type { Router } from "express";
import { getAddress } from "viem";
import { createSiweMessage, generateSiweNonce, parseSiweMessage } from "viem/siwe";
import { z } from "zod";
import { HttpProblem, parseInput } from "../../http/problem.js";
import { dayWindow } from "../core/ipLimits.js";
import { ipLimitProblem } from "../ipLimitProblem.js";
import type { SiteContext } from "../siteContext.js";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "not a 20-byte hex address");
const messageBody = z.strictObject({ address });
const verifyBody = z.strictObject({
  message: z.string().min(1).max(4_000),
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/, "a hex signature"),
});

/**
 * Sign-In with Ethereum (EIP-4361): the site writes the message (its canonical domain, a one-time nonce,
 * the chain), the wallet signs it (EIP-1193 `personal_sign`), the site verifies the signature
 * with viem and starts a session for that address. Events are only ever reported for it.
 */
export function signInRoutes(router: Router, ctx: SiteContext): void {
  router.post("/siwe/message", async (req, res) => {
    ctx.limit(req);
    const body = parseInput(messageBody, req.body, "body");
    // The configured origin, never the request's Host: a phishing proxy forwarding its own Host
    // would otherwise get a message its victims' wallets show as its own domain.
    const { origin, host } = ctx.canonical;
    const nonce = generateSiweNonce();
    const message = createSiweMessage({
      address: getAddress(body.address),
      chainId: ctx.config.chainId,
      domain: host,
      uri: origin,
      nonce,
      version: "1",
      statement: `Sign in to ${ctx.config.siteName} to earn Twei. This costs nothing and sends no transaction.`,
      issuedAt: new Date(),
      expirationTime: new Date(Date.now() + 10 * 60_000),
    });
    await ctx.sessions.issue(nonce, getAddress(body.address), message);
    res.json({ message });
  });

  router.post("/siwe/verify", async (req, res) => {
    ctx.limit(req);
    const body = parseInput(verifyBody, req.body, "body");
    const parsed = parseSiweMessage(body.message);
    const issued = parsed.nonce === undefined ? undefined : await ctx.sessions.take(parsed.nonce);
    if (!issued || issued.message !== body.message)
      throw new HttpProblem(
        401,
        "siwe_unknown_message",
        "This sign-in message was not issued here, or was used already",
        {
          detail: "ask for a new message and sign it",
        },
      );
    const valid = await ctx.config.publicClient
      .verifySiweMessage({
        message: body.message,
        signature: body.signature as `0x${string}`,
        address: issued.address,
        nonce: parsed.nonce,
        domain: ctx.canonical.host,
      })
      .catch(() => false);
    if (!valid) throw new HttpProblem(401, "siwe_invalid_signature", "The signature does not match the address");
    // An account the site never saw counts against its IP's new accounts today (a farm's
    // fresh wallets meet this first); a known one always signs in.
    const at = Date.now();
    if (
      !(await ctx.store.admitAccount(issued.address, req.ip ?? "?", dayWindow(at), ctx.ipLimits.newAccountsPerDay, at))
    )
      throw ipLimitProblem.newAccounts((dayWindow(at) + 86_400_000 - at) / 1000);
    const token = await ctx.sessions.start(res, issued.address);
    // Across origins the widget may keep the session as a bearer token (third-party cookies blocked).
    res.json({ address: issued.address, ...(ctx.config.crossOrigin ? { token } : {}) });
  });

  router.post("/signout", async (req, res) => {
    await ctx.sessions.end(req, res);
    res.json({ address: null });
  });

  router.get("/me", async (req, res) => {
    const user = await ctx.sessions.user(req);
    if (!user) {
      res.json({ address: null });
      return;
    }
    const info = await ctx.user(user, true);
    res.json({
      address: user,
      name: ctx.nameOf(user),
      relayer: info ? "ok" : "unreachable",
      ...(info ? { balance: info.balance, allowance: info.allowance, earned: info.earned, level: info.level } : {}),
    });
  });
}
