import type { RequestHandler } from "express";
import type { Hex } from "viem";
import { HttpProblem } from "../../http/problem.js";
import { canonicalJson, policyHash } from "../../rules/policyHash.js";
import type { RelayerContext } from "./relayerContext.js";

const HASH = /^0x[0-9a-fA-F]{64}$/;

/**
 * `GET /v1/policies/:hash`: a policy document this relayer applies or has applied (kept in its
 * store from each start: src/relayer/storage/relayerStore.ts `savePolicy`), in canonical JSON
 * (the bytes whose keccak256 the ledger holds for its sites, `sitePolicy(siteId)`), published
 * beside the evidence so anyone can check the hash and replay each batch with the policy in force
 * at its block. 400 `invalid_policy_hash` for a malformed hash, 404 `policy_not_found` for a
 * policy it never applied.
 *
 * @example
 * app.get("/v1/policies/:hash", limited, getPolicy(ctx))
 */
export function getPolicy(ctx: Pick<RelayerContext, "policy" | "store">): RequestHandler {
  const current = canonicalJson(ctx.policy);
  const hash = policyHash(ctx.policy);
  return async (req, res) => {
    const asked = String(req.params.hash);
    if (!HASH.test(asked))
      throw new HttpProblem(400, "invalid_policy_hash", "A policy hash is 0x and 64 hex digits", {
        detail: `${asked.slice(0, 80)} is not 0x and 64 hex digits`,
      });
    const body = asked.toLowerCase() === hash ? current : await ctx.store.policyDocument(asked as Hex);
    if (body === undefined)
      throw new HttpProblem(404, "policy_not_found", "This relayer never applied that policy", {
        detail: `this relayer applies the policy ${hash}`,
      });
    res.type("application/json").send(body);
  };
}
