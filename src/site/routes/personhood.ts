import type { Router } from "express";
import type { Hex } from "viem";
import { attestPersonhood } from "../../chain/personhoodAttestation.js";
import { HttpProblem } from "../../http/problem.js";
import { dayWindow } from "../core/ipLimits.js";
import { ipLimitProblem } from "../ipLimitProblem.js";
import type { SiteContext } from "../siteContext.js";

/** A claim with no UID after this long is a sender that died: another request may attest. */
const STALE_CLAIM_MS = 120_000;

/**
 * `POST /personhood/attest`: the site vouches on-chain (EAS, the policy's personhood schema)
 * that the signed-in reader is a person, once, when the reader asks ("Verify I'm a person" in
 * the widget): explicit, never at sign-in, so a site that checks more (`attester.check`: an
 * e-mail, a subscription) asks for it at that moment, and a reader who only browses puts nothing
 * on the chain. 201 `{ uid, attester, schema }`. Refusals: 401 `not_signed_in`, 409
 * `already_attested` (the site attested them, or they hold a valid attestation already) or
 * `attestation_in_flight`, 429 `ip_attestation_limit` (per IP per UTC day) or `rate_limited`,
 * 503 `attestation_failed` (the transaction did not go through; nothing is kept, a retry is safe).
 * Mounted only when the site has an attester.
 */
export function personhoodRoutes(router: Router, ctx: SiteContext): void {
  const attester = ctx.config.attester;
  const policy = ctx.config.policy.personhood;
  if (!attester || !policy) return;
  // One transaction at a time from the attester's key: concurrent ones would take the same nonce.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  router.post("/personhood/attest", async (req, res) => {
    const user = await ctx.sessions.require(req);
    ctx.limit(req, user);
    const already = (await ctx.store.attestation(user))?.uid ?? (await ctx.personhood.of(user));
    if (already)
      throw new HttpProblem(409, "already_attested", "You are verified as a person already", {
        detail: `attestation ${already}`,
      });
    await attester.check?.(user, req);
    const at = Date.now();
    if (!(await ctx.store.claimAttestation(user, at, at - STALE_CLAIM_MS)))
      throw new HttpProblem(409, "attestation_in_flight", "Your verification is being written already", {
        detail: "wait a moment and reload",
        retryAfter: 5,
      });
    if (
      !(await ctx.store.takeIpAllowance(req.ip ?? "?", "attestation", dayWindow(at), ctx.ipLimits.attestationsPerDay))
    ) {
      await ctx.store.releaseAttestation(user);
      throw ipLimitProblem.attestations((dayWindow(at) + 86_400_000 - at) / 1000);
    }
    let uid: Hex;
    try {
      uid = await serially(() =>
        attestPersonhood({
          publicClient: ctx.config.publicClient,
          walletClient: attester.walletClient,
          policy,
          recipient: user,
        }),
      );
    } catch {
      await ctx.store.releaseAttestation(user);
      // The cause (an RPC URL, a revert) stays on the server.
      throw new HttpProblem(503, "attestation_failed", "The verification could not be written on the chain", {
        detail: "try again shortly",
        retryAfter: 5,
      });
    }
    await ctx.store.recordAttestation(user, uid, Date.now());
    ctx.personhood.forget(user);
    res.status(201).json({ uid, attester: attester.walletClient.account.address, schema: policy.schema });
  });
}
