import type { RequestHandler } from "express";
import { HttpProblem } from "../../http/problem.js";
import { canonicalJson, policyHash } from "../../rules/policyHash.js";
import type { RelayerContext } from "./relayerContext.js";

const HASH = /^0x[0-9a-fA-F]{64}$/;

/**
 * `GET /v1/policies/:hash`: the policy document this relayer applies, in canonical JSON (the
 * bytes whose keccak256 the ledger holds for its sites, `sitePolicy(siteId)`), published beside
 * the evidence so anyone can check the hash and replay with it. 400 `invalid_policy_hash` for a
 * malformed hash, 404 `policy_not_found` for another policy's.
 *
 * @example
 * app.get("/v1/policies/:hash", limited, getPolicy(ctx))
 */
export function getPolicy(ctx: Pick<RelayerContext, "policy">): RequestHandler {
  const body = canonicalJson(ctx.policy);
  const hash = policyHash(ctx.policy);
  return (req, res) => {
    const asked = String(req.params.hash);
    if (!HASH.test(asked))
      throw new HttpProblem(400, "invalid_policy_hash", "A policy hash is 0x and 64 hex digits", {
        detail: `${asked.slice(0, 80)} is not 0x and 64 hex digits`,
      });
    if (asked.toLowerCase() !== hash)
      throw new HttpProblem(404, "policy_not_found", "This relayer does not apply that policy", {
        detail: `this relayer applies the policy ${hash}`,
      });
    res.type("application/json").send(body);
  };
}
