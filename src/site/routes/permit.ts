import type { Router } from "express";
import { parseUnits } from "viem";
import { z } from "zod";
import { tweiAbi } from "../../chain/abi.js";
import { HttpProblem, parseInput } from "../../http/problem.js";
import { TweiApiError } from "../../sdk/createTweiClient.js";
import { PERMIT_TYPES } from "../../sdk/signLedgerPermit.js";
import type { SiteContext } from "../siteContext.js";

const typedDataBody = z.strictObject({ twei: z.string().regex(/^\d{1,9}(\.\d{1,18})?$/, "an amount of Twei") });
const permitBody = z.strictObject({
  value: z.string().regex(/^\d{1,78}$/),
  deadline: z.string().regex(/^\d{1,20}$/),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte hex signature"),
});

/**
 * The allowance: the site writes the EIP-2612 permit (spender: the ledger) for the reader's
 * wallet to sign (`eth_signTypedData_v4`), then submits the signature through the relayer's
 * `POST /v1/permits`, which pays the gas. The reader sends no transaction.
 */
export function permitRoutes(router: Router, ctx: SiteContext): void {
  const { config } = ctx;

  router.post("/permit/typed-data", async (req, res) => {
    const owner = await ctx.sessions.require(req);
    ctx.limit(req, owner);
    const { twei } = parseInput(typedDataBody, req.body, "body");
    const nonce = await config.publicClient
      .readContract({ address: config.token, abi: tweiAbi, functionName: "nonces", args: [owner] } as never)
      .catch(() => {
        throw new HttpProblem(503, "chain_unavailable", "The chain cannot be read now; try again shortly");
      });
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3_600);
    res.json({
      typedData: {
        domain: { name: "Twei", version: "1", chainId: config.chainId, verifyingContract: config.token },
        types: {
          EIP712Domain: [
            { name: "name", type: "string" },
            { name: "version", type: "string" },
            { name: "chainId", type: "uint256" },
            { name: "verifyingContract", type: "address" },
          ],
          ...PERMIT_TYPES,
        },
        primaryType: "Permit",
        message: {
          owner,
          spender: config.ledger,
          value: parseUnits(twei, 18).toString(),
          nonce: String(nonce),
          deadline: deadline.toString(),
        },
      },
    });
  });

  router.post("/permit", async (req, res) => {
    const owner = await ctx.sessions.require(req);
    ctx.limit(req, owner);
    const body = parseInput(permitBody, req.body, "body");
    try {
      const answer = await config.twei.submitPermit({
        owner,
        value: BigInt(body.value),
        deadline: BigInt(body.deadline),
        signature: body.signature as `0x${string}`,
      });
      await ctx.user(owner, true);
      res.json({ submitted: true, ...answer });
    } catch (error) {
      if (error instanceof TweiApiError)
        throw new HttpProblem(error.status >= 500 ? 503 : 422, error.code, "The relayer did not take the permit", {
          detail: String(error.problem.detail ?? error.message),
        });
      throw new HttpProblem(503, "relayer_unreachable", "The relayer cannot be reached; try again shortly");
    }
  });
}
