import type { RequestHandler } from "express";
import { isAddressEqual, type Address, type Hex } from "viem";
import { amountFor } from "../../core/ruleSet.js";
import { hashEvents, hashSiteEvent } from "../../evidence/encodeSiteEvent.js";
import { hashEnvelope, recoverDigestSigner } from "../../evidence/envelope.js";
import { siteEventSchema, type SiteEvent } from "../../evidence/siteEvent.js";
import { HttpProblem, parseInput } from "../../http/problem.js";
import { evaluateEvent } from "../../rules/evaluateEvent.js";
import type { RulesState } from "../../rules/rulesState.js";
import { NonceReusedError } from "../storage/relayerStore.js";
import { authenticate, withTimeout } from "./authenticate.js";
import type { RelayerContext } from "./relayerContext.js";
import { z } from "zod";

export const MAX_EVENTS_PER_REQUEST = 1_000;

export const postEventsBody = z.strictObject({
  siteId: z.number().int().min(0).max(0xffffffff),
  /** The site's envelope nonce: a uint64 in decimal, never reused for other events. */
  nonce: z
    .string()
    .regex(/^(0|[1-9]\d{0,19})$/, "a uint64 in decimal")
    .transform((value) => BigInt(value))
    .refine((value) => value < 2n ** 64n, "a uint64 in decimal"),
  /** The site signer's EIP-712 signature of the envelope {siteId, nonce, eventsHash}. */
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte hex signature"),
  events: z.array(siteEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST),
});

/** Event types that spend the acting user's Twei: their funds are read from the chain first. */
const SPENDS = new Set<SiteEvent["type"]>([
  "post_published",
  "post_minus",
  "comment_created",
  "comment_disliked",
  "report_purchased",
]);

/**
 * `POST /v1/events`: verifies the envelope's signature against the site's on-chain signer,
 * applies the rules to each event and commits the accepted ones (fsync'd) before answering
 * with every event's fate.
 */
export function postEvents(ctx: RelayerContext): RequestHandler {
  return async (req, res) => {
    const site = await authenticate(ctx, req);
    const body = parseInput(postEventsBody, req.body, "body");
    if (body.siteId !== site.siteId)
      throw new HttpProblem(403, "site_mismatch", "The API key belongs to another site", {
        detail: `the key is site ${site.siteId}'s, the envelope names site ${body.siteId}`,
      });
    let state;
    let ruleSet;
    try {
      [state, ruleSet] = await withTimeout(
        ctx.chainTimeoutMs,
        Promise.all([ctx.sites.chainState(site), ctx.reader.ruleSet()]),
      );
    } catch {
      throw new HttpProblem(503, "chain_unavailable", "The chain cannot be read", {
        detail: "the site's signer or the rule set is not known yet; retry later",
        retryAfter: 5,
      });
    }
    if (!state.active || !state.signer)
      throw new HttpProblem(403, "site_inactive", "The site is not active on the ledger", {
        detail: `site ${site.siteId} is deactivated or not registered on-chain`,
      });

    const events = body.events;
    const incoming = events.map((event) => ({ event, eventHash: hashSiteEvent(event) }));
    const eventsHash = hashEvents(incoming.map((e) => e.eventHash));
    const envelope = { siteId: body.siteId, nonce: body.nonce, eventsHash };
    const digest = hashEnvelope({ chainId: ctx.chainId, ledger: ctx.ledger }, envelope);
    let signer: Address;
    try {
      signer = await recoverDigestSigner(digest, body.signature as Hex);
    } catch {
      throw new HttpProblem(403, "invalid_signature", "The envelope's signature is not valid");
    }
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

    const { amounts } = ruleSet;
    let fates;
    try {
      fates = await ctx.store.acceptEnvelope(
        { ...envelope, digest, signature: body.signature as Hex, receivedAt: Date.now(), events: incoming },
        (event, view) => {
          const rulesState: RulesState = {
            post: view.post,
            comment: view.comment,
            has: view.has,
            count: view.count,
            earned: view.earned,
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
