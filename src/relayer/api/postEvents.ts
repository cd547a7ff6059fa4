import type { RequestHandler } from "express";
import { isAddressEqual, type Hex } from "viem";
import { amountFor } from "../../core/ruleSet.js";
import type { SiteEvent } from "../../evidence/siteEvent.js";
import { HttpProblem } from "../../http/problem.js";
import { evaluateEvent } from "../../rules/evaluateEvent.js";
import type { RulesState } from "../../rules/rulesState.js";
import { NonceReusedError } from "../storage/relayerStore.js";
import { authenticate, withTimeout } from "./authenticate.js";
import type { RelayerContext } from "./relayerContext.js";

/** Event types that spend the acting user's Twei: their funds are read from the chain first. */
const SPENDS = new Set<SiteEvent["type"]>([
  "post_published",
  "post_minus",
  "comment_created",
  "comment_disliked",
  "report_purchased",
]);

/**
 * `POST /v1/events` (raw JSON text body): verifies the envelope's signature against the site's on-chain signer,
 * applies the rules to each event and commits the accepted ones (fsync'd) before answering
 * with every event's fate.
 */
export function postEvents(ctx: RelayerContext): RequestHandler {
  return async (req, res) => {
    const site = await authenticate(ctx, req);
    if (typeof req.body !== "string" || req.body.length === 0)
      throw new HttpProblem(400, "invalid_request", "The request is not valid", {
        detail: "the body is empty: send one signed envelope of events as JSON",
      });
    // The site's signer first: verifying against a known key is cheaper than recovering one.
    let chain;
    try {
      chain = await withTimeout(ctx.chainTimeoutMs, Promise.all([ctx.sites.chainState(site), ctx.reader.ruleSet()]));
    } catch {
      chain = undefined;
    }
    const verified = await ctx.verifier.verify(req.body, chain?.[0].signer ?? null);
    if (!verified.ok) {
      if (verified.problem === "malformed_json")
        throw new HttpProblem(400, "malformed_json", "The request body is not valid JSON");
      throw new HttpProblem(400, "invalid_request", "The request is not valid", {
        detail: `the body has ${verified.fields.length} invalid field(s)`,
        fields: verified.fields,
      });
    }
    const body = { ...verified, nonce: BigInt(verified.nonce) };
    if (body.siteId !== site.siteId)
      throw new HttpProblem(403, "site_mismatch", "The API key belongs to another site", {
        detail: `the key is site ${site.siteId}'s, the envelope names site ${body.siteId}`,
      });
    if (!chain)
      throw new HttpProblem(503, "chain_unavailable", "The chain cannot be read", {
        detail: "the site's signer or the rule set is not known yet; retry later",
        retryAfter: 5,
      });
    const [state, ruleSet] = chain;
    if (!state.active || !state.signer)
      throw new HttpProblem(403, "site_inactive", "The site is not active on the ledger", {
        detail: `site ${site.siteId} is deactivated or not registered on-chain`,
      });

    const events = body.events;
    const incoming = events.map((event, i) => ({ event, eventHash: body.eventHashes[i] as Hex }));
    const { eventsHash, digest, signer } = body;
    const envelope = { siteId: body.siteId, nonce: body.nonce, eventsHash };
    if (!signer) throw new HttpProblem(403, "invalid_signature", "The envelope's signature is not valid");
    if (!isAddressEqual(signer, state.signer))
      throw new HttpProblem(403, "invalid_signature", "The envelope is not signed by the site's signer", {
        detail: `the signature recovers to ${signer}, not to site ${site.siteId}'s signer (check the events, nonce, chain id and ledger address signed)`,
      });

    // Funds of the users who spend, read before the transaction (the rules are synchronous).
    const spenders = [...new Set(events.filter((e) => SPENDS.has(e.type)).map((e) => e.user))];
    const funds = new Map<string, bigint>();
    await Promise.all(
      spenders.map(async (account) => {
        try {
          funds.set(account, await withTimeout(ctx.chainTimeoutMs, ctx.reader.funds(account)));
        } catch {
          // unknown: the rules reject the spend as `funds_unknown`
        }
      }),
    );

    // Levels come from what the chain minted to the commenters (the store's record of this
    // relayer's settlements when the chain cannot say).
    const commenters = [...new Set(events.filter((e) => e.type === "comment_created").map((e) => e.user))];
    const earnedOnChain = new Map<string, bigint>();
    await Promise.all(
      commenters.map(async (account) => {
        try {
          earnedOnChain.set(account, await withTimeout(ctx.chainTimeoutMs, ctx.reader.earned(account)));
        } catch {
          // the store's figure is used
        }
      }),
    );

    const { amounts } = ruleSet;
    let fates;
    try {
      fates = await ctx.store.acceptEnvelope(
        { ...envelope, digest, signature: body.signature, receivedAt: Date.now(), events: incoming },
        (event, view) => {
          const rulesState: RulesState = {
            post: view.post,
            comment: view.comment,
            has: view.has,
            count: view.count,
            earned: (account) => earnedOnChain.get(account.toLowerCase()) ?? view.earned(account),
            spendable(account) {
              const available = funds.get(account.toLowerCase());
              return available === undefined ? undefined : available - view.pendingBurns(account);
            },
          };
          return evaluateEvent({ siteId: site.siteId, event, policy: ctx.policy, amounts, state: rulesState });
        },
        (action) => amountFor(amounts, action.kind, action.units),
      );
    } catch (error) {
      if (error instanceof NonceReusedError)
        throw new HttpProblem(409, "nonce_reused", "The envelope nonce was used for other events", {
          detail: error.message,
        });
      throw error;
    }
    const counts = { accepted: 0, duplicate: 0, conflict: 0, rejected: 0 };
    for (const fate of fates) counts[fate.status]++;
    for (const [outcome, n] of Object.entries(counts)) if (n > 0) ctx.metrics.events.inc({ outcome }, n);
    const answer = { siteId: site.siteId, nonce: body.nonce.toString(), counts, results: fates };
    if (counts.rejected === fates.length)
      throw new HttpProblem(422, "events_rejected", "Every event was rejected by the rules", {
        detail: "see each result's code",
        extra: answer,
      });
    res.status(200).json(answer);
  };
}
