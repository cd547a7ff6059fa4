import type { RequestHandler } from "express";
import { isAddressEqual, toHex, zeroAddress, type Address, type Hex } from "viem";
import { postIdFor } from "../../core/postId.js";
import { amountFor } from "../../core/ruleSet.js";
import type { SiteEvent } from "../../evidence/siteEvent.js";
import { isDatabaseUnavailable } from "../../storage/databaseUnavailable.js";
import { scrubUrls } from "../../observability/logger.js";
import { HttpProblem } from "../../http/problem.js";
import { evaluateEvent, type RuleOutcome } from "../../rules/evaluateEvent.js";
import { ledgerRefusal } from "../../rules/ledgerRefusal.js";
import { policyHash } from "../../rules/policyHash.js";
import type { RulesState } from "../../rules/rulesState.js";
import { LRUCache } from "lru-cache";
import { NonceReusedError, type CapWait, type StoreRulesView } from "../storage/relayerStore.js";
import { capWaitView } from "../settlement/notices.js";
import { siteOf, withTimeout } from "./authenticate.js";
import type { RelayerContext } from "./relayerContext.js";

/**
 * Refuses a publication whose post id the ledger cannot register: held on-chain already (by
 * another site, or a post ground to collide with it), or by another post of this relayer.
 */
function refusedOnChain(
  siteId: number,
  event: SiteEvent,
  view: StoreRulesView,
  postAuthors: ReadonlyMap<string, Address>,
): RuleOutcome | undefined {
  if (event.type !== "post_published" || view.post(event.postId)) return undefined; // the rules say post_exists
  const chainPostId = postIdFor(siteId, event.postId);
  const author = postAuthors.get(event.postId);
  if (author === undefined)
    return {
      accepted: false,
      code: "post_registry_unknown",
      message: "the ledger's post registry cannot be read now; retry later",
    };
  const hex = toHex(chainPostId, { size: 8 });
  if (author !== zeroAddress || view.postIdTaken(chainPostId, siteId, event.postId))
    return {
      accepted: false,
      code: "post_id_taken",
      message: `the ledger's post id ${hex} of post ${event.postId} is taken by another post (another site's, or a collision of the 64-bit id): publish it under another post id`,
    };
  return undefined;
}

/** Event types that spend the acting user's Twei: their funds are read from the chain first. */
const SPENDS = new Set<SiteEvent["type"]>([
  "post_published",
  "post_minus",
  "comment_created",
  "comment_disliked",
  "report_purchased",
]);

/** Event types that can mint for their user: the ones personhood gates. */
const MINTS_FOR_USER = new Set<SiteEvent["type"]>([
  "post_read",
  "post_plus",
  "comment_created",
  "comment_liked",
  "comment_disliked",
]);

/**
 * The UIDs of valid personhood attestations of the users of `events` who can earn, by lowercase
 * address, as of `block` (the block the envelope is accepted under: the evidence's
 * `acceptedAtBlock`, which the auditor checks them at), and the users whose attestations could
 * not be read (their minting events are refused as `personhood_unknown`, to be sent again).
 */
async function findAttestations(
  ctx: RelayerContext,
  events: readonly SiteEvent[],
  block: bigint,
): Promise<{ found: Map<string, Hex>; unknown: Set<string> }> {
  const found = new Map<string, Hex>();
  const unknown = new Set<string>();
  const index = ctx.personhood;
  if (!index) return { found, unknown };
  const users = [...new Set(events.filter((e) => MINTS_FOR_USER.has(e.type)).map((e) => e.user.toLowerCase()))];
  await Promise.all(
    users.map(async (user) => {
      try {
        const uid = await withTimeout(ctx.chainTimeoutMs, index.find(user as Address, block));
        if (uid !== undefined) found.set(user, uid);
      } catch (error) {
        unknown.add(user);
        // The RPC's error names its URL: never in a log.
        ctx.log.warn(
          { err: scrubUrls(error instanceof Error ? error.message : String(error)) },
          "personhood attestations unreadable",
        );
      }
    }),
  );
  return { found, unknown };
}

/** How long a site is told to wait when the policy in force is not this relayer's (until it restarts with it). */
const POLICY_CHANGED_RETRY_S = 30;

/**
 * `POST /v1/events` (raw JSON text body): verifies the envelope's signature against the site's on-chain signer,
 * applies the rules to each event and commits the accepted ones (fsync'd) before answering
 * with every event's fate. An envelope is refused whole (503 `policy_changed`, retryable) when the
 * ledger holds another policy in force for the site at the block it would be accepted under than
 * the one this relayer applies: the auditor replays its events under the policy in force then.
 */
export function postEvents(ctx: RelayerContext): RequestHandler {
  const ownPolicy = policyHash(ctx.policy);
  // Whether a site waits for cap room, read from the store at most once a second per site.
  const capWaits = new LRUCache<number, { wait: CapWait | null }>({ max: 10_000, ttl: 1_000 });
  const capWaitOf = async (siteId: number) => {
    let entry = capWaits.get(siteId);
    if (!entry) {
      entry = { wait: (await ctx.store.capWait(siteId)) ?? null };
      capWaits.set(siteId, entry);
    }
    return entry.wait;
  };
  return async (req, res) => {
    const site = siteOf(res);
    if (typeof req.body !== "string" || req.body.length === 0)
      throw new HttpProblem(400, "invalid_request", "The request is not valid", {
        detail: "the body is empty: send one signed envelope of events as JSON",
      });
    // The site's signer first: verifying against a known key is cheaper than recovering one.
    let chain;
    try {
      chain = await withTimeout(ctx.chainTimeoutMs, Promise.all([ctx.sites.stateAtHead(site), ctx.reader.ruleSet()]));
    } catch (error) {
      // The site's state is kept in the store as it is read: a store that does not answer is no chain fault.
      if (isDatabaseUnavailable(error)) throw error;
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
    if (!signer)
      throw new HttpProblem(403, "invalid_signature", "The envelope's signature is not valid", {
        detail: body.signatureProblem ?? "the signature recovers no signer",
      });
    if (!isAddressEqual(signer, state.signer))
      throw new HttpProblem(403, "invalid_signature", "The envelope is not signed by the site's signer", {
        detail: `the signature recovers to ${signer}, not to site ${site.siteId}'s signer (check the events, nonce, chain id and ledger address signed)`,
      });
    // The policy the events would be accepted under must be the one this relayer applies (the
    // preflight checks it at start; the policy admin may change it since). None committed: the
    // preflight's affair, and the auditor replays such a site under its fallback.
    if (state.policyHash === null)
      throw new HttpProblem(503, "chain_unavailable", "The chain cannot be read", {
        detail: `site ${site.siteId}'s policy in force is not known yet; retry later`,
        retryAfter: 5,
      });
    if (!/^0x0+$/.test(state.policyHash) && state.policyHash.toLowerCase() !== ownPolicy.toLowerCase())
      throw new HttpProblem(503, "policy_changed", "The site's policy changed on the ledger", {
        detail: `site ${site.siteId}'s policy in force at block ${state.block} is ${state.policyHash}, this relayer applies ${ownPolicy}: nothing was accepted; retry once the relayer runs the policy in force`,
        retryAfter: POLICY_CHANGED_RETRY_S,
      });

    // Funds of the users who spend, read before the transaction (the rules are synchronous). On a
    // shared store they are read at the block the envelope is accepted under, and the store
    // counts the reservations of batches mined after it (other instances settle meanwhile).
    const fundsBlock = ctx.store.lease ? state.block : undefined;
    const spenders = [...new Set(events.filter((e) => SPENDS.has(e.type)).map((e) => e.user))];
    const funds = new Map<string, bigint>();
    await Promise.all(
      spenders.map(async (account) => {
        try {
          funds.set(account, await withTimeout(ctx.chainTimeoutMs, ctx.reader.funds(account, fundsBlock)));
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

    // Proof of personhood (policy `personhood`): a valid EAS attestation of each user whose event
    // can mint, valid at the block the envelope is accepted under. Unknown (the chain could not
    // say): the event is refused as `personhood_unknown` (retryable), never taken as unattested.
    const attestations = await findAttestations(ctx, events, state.block);

    // Whether each published post id is free on the ledger (a 64-bit id: another site's post, or
    // one ground to collide, may hold it), read before the transaction.
    const postAuthors = new Map<string, Address>();
    await Promise.all(
      [...new Set(events.filter((e) => e.type === "post_published").map((e) => e.postId))].map(async (postId) => {
        try {
          postAuthors.set(
            postId,
            await withTimeout(ctx.chainTimeoutMs, ctx.reader.postAuthor(postIdFor(site.siteId, postId))),
          );
        } catch {
          // unknown: the publication is refused as `post_registry_unknown`
        }
      }),
    );

    const { amounts } = ruleSet;
    let fates;
    try {
      fates = await ctx.store.acceptEnvelope(
        {
          ...envelope,
          digest,
          signature: body.signature,
          receivedAt: Date.now(),
          acceptedAtBlock: state.block,
          ruleSetVersion: ruleSet.version,
          ...(fundsBlock === undefined ? {} : { fundsBlock }),
          events: incoming,
        },
        (event, view) => {
          const refused = refusedOnChain(site.siteId, event, view, postAuthors);
          if (refused) return refused;
          const rulesState: RulesState = {
            post: view.post,
            comment: view.comment,
            has: view.has,
            count: view.count,
            tally: view.tally,
            earned: (account) => earnedOnChain.get(account.toLowerCase()) ?? view.earned(account),
            spendable(account) {
              const available = funds.get(account.toLowerCase());
              return available === undefined ? undefined : available - view.pendingBurns(account);
            },
            attestation: (account) => attestations.found.get(account.toLowerCase()),
            attestationUnknown: (account) => attestations.unknown.has(account.toLowerCase()),
          };
          const outcome = evaluateEvent({ siteId: site.siteId, event, policy: ctx.policy, amounts, state: rulesState });
          if (!outcome.accepted) return outcome;
          const refusal = ledgerRefusal({
            actions: outcome.actions,
            registers: outcome.registers,
            maxUnits: ruleSet.maxUnits,
            authorOf: () => view.post(event.postId)?.author,
          });
          return refusal
            ? { accepted: false, code: "ledger_refuses", message: `the ledger would refuse it: ${refusal}` }
            : outcome;
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
    const answer = {
      siteId: site.siteId,
      nonce: body.nonce.toString(),
      counts,
      ruleSetVersion: ruleSet.version,
      // The site waits for room under a cap of the ledger's: what was accepted waits too (until roomAt).
      // The events are committed already: a store that fails now leaves this out, not the answer.
      waitingForCap:
        counts.accepted > 0
          ? await capWaitOf(site.siteId).then(
              (wait) => wait && capWaitView(wait),
              () => null,
            )
          : null,
      results: fates,
    };
    if (counts.rejected === fates.length)
      throw new HttpProblem(422, "events_rejected", "Every event was rejected by the rules", {
        detail: "see each result's code",
        extra: answer,
      });
    res.status(200).json(answer);
  };
}
