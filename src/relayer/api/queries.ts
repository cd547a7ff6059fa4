import type { RequestHandler } from "express";
import { getAddress } from "viem";
import { z } from "zod";
import { levelFor } from "../../core/levels.js";
import { HttpProblem, parseInput } from "../../http/problem.js";
import { LRUCache } from "lru-cache";
import type { BatchEvidence } from "../../evidence/batchEvidence.js";
import { capWaitView } from "../settlement/notices.js";
import { siteOf, withTimeout } from "./authenticate.js";
import { batchEvidenceOf, createTreeCache } from "./batchEvidenceOf.js";
import type { RelayerContext } from "./relayerContext.js";

const eventParams = z.object({
  siteId: z.coerce.number().int().min(0).max(0xffffffff),
  eventId: z.string().min(1).max(128),
});
const batchParams = z.object({ batchId: z.string().regex(/^[1-9]\d{0,18}$/, "a positive batch id") });
const userParams = z.object({
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "not a 20-byte hex address"),
});

async function onChain<T>(ctx: RelayerContext, work: Promise<T>): Promise<T | null> {
  try {
    return await withTimeout(ctx.chainTimeoutMs, work);
  } catch {
    return null;
  }
}

/** `GET /v1/events/:siteId/:eventId`: an event's status, batch, transaction and merkle proof (the site's own events only). */
export function getEvent(ctx: RelayerContext): RequestHandler {
  const treeOf = createTreeCache();
  return async (req, res) => {
    const site = siteOf(res);
    const { siteId, eventId } = parseInput(eventParams, req.params, "path");
    if (siteId !== site.siteId) throw new HttpProblem(403, "site_mismatch", "The API key belongs to another site");
    const event = await ctx.store.event(siteId, eventId);
    if (!event)
      throw new HttpProblem(404, "event_not_found", "No such event", {
        detail: `site ${siteId} has no event ${eventId}`,
      });
    const batch = event.batchId === null ? undefined : await ctx.store.batch(event.batchId);
    // A pending event of a site waiting for room under a cap goes out once the ledger has room.
    const capWait = event.status === "pending" ? await ctx.store.capWait(siteId) : undefined;
    let proof: string[] | null = null;
    if (batch && event.leafIndex !== null) {
      const tree = treeOf(batch, await ctx.store.batchEvents(batch.batchId));
      proof = tree.proof(event.leafIndex);
    }
    res.json({
      siteId,
      eventId,
      status: capWait ? "waiting_for_cap" : event.status,
      // Why it failed for good (`failed`), or why it waits (`held`, `waiting_for_cap`).
      failure: event.failure,
      held:
        event.status === "held"
          ? { reason: "the site is deactivated on the ledger; it goes out once active again" }
          : null,
      waitingForCap: capWait ? capWaitView(capWait) : null,
      eventHash: event.eventHash,
      envelope: { nonce: event.envelopeNonce.toString(), index: event.envelopeIndex, digest: event.envelopeDigest },
      batchId: batch ? batch.batchId.toString() : null,
      evidenceRoot: batch?.evidenceRoot ?? null,
      leafIndex: event.leafIndex,
      // The proof's leaf encoding (src/evidence/evidenceTree.ts); version 2 leaves start with leafIndex.
      evidenceVersion: batch?.evidenceVersion ?? null,
      proof,
      txHash: batch?.txHash ?? batch?.attempts.at(-1)?.txHash ?? null,
      blockNumber: batch?.blockNumber?.toString() ?? null,
      // The rule set its actions are priced under (the batch's, once cut; null: accepted before versions were kept).
      ruleSetVersion: batch?.ruleSetVersion ?? event.ruleSetVersion,
      actions: event.actions.map((a) => ({ ...a, account: getAddress(a.account), postId: a.postId.toString() })),
    });
  };
}

/** How many events' worth of batch evidence `GET /v1/batches/:id` keeps assembled (about 1 KB each). */
export const EVIDENCE_CACHE_EVENTS = 100_000;
/** How many accounts' chain figures `GET /v1/users/:address` keeps, and for how long. */
export const USER_CACHE_ACCOUNTS = 10_000;
export const USER_CACHE_TTL_MS = 2_000;

/**
 * `GET /v1/batches/:batchId`: the evidence auditors download, and the batch's on-chain status.
 * A batch's evidence never changes once recorded (its events, envelopes and root are fixed):
 * it is assembled once and kept in an LRU bounded by the events it holds.
 */
export function getBatch(ctx: RelayerContext): RequestHandler {
  const cache = new LRUCache<string, BatchEvidence>({
    maxSize: EVIDENCE_CACHE_EVENTS,
    sizeCalculation: (evidence) => Math.max(1, evidence.events.length),
  });
  return async (req, res) => {
    const { batchId } = parseInput(batchParams, req.params, "path");
    const batch = await ctx.store.batch(BigInt(batchId));
    if (!batch) throw new HttpProblem(404, "batch_not_found", "No such batch");
    let evidence = cache.get(batchId);
    if (!evidence) {
      ({ evidence } = await batchEvidenceOf(ctx.store, batch, { chainId: ctx.chainId, ledger: ctx.ledger }));
      cache.set(batchId, evidence);
    }
    const settledOnChain = await onChain(ctx, ctx.reader.isBatchSettled(batch.batchId));
    res.json({
      ...evidence,
      status: batch.status,
      // The rule-set version its settlement names (null: cut before versions were kept).
      ruleSetVersion: batch.ruleSetVersion,
      onChain: { settled: settledOnChain },
      txHash: batch.txHash ?? batch.attempts.at(-1)?.txHash ?? null,
      blockNumber: batch.blockNumber?.toString() ?? null,
      gasUsed: batch.gasUsed?.toString() ?? null,
      note: batch.note,
      // The thresholds the rules applied (their version is the policy's), for auditors re-running them.
      policy: ctx.policy,
    });
  };
}

/**
 * `GET /v1/users/:address`: balance, allowance to the ledger, level, pending earnings and spends.
 * The chain's figures (balance, allowance, earned) are kept a moment per account in a bounded
 * LRU, so repeated or unauthenticated lookups do not each cost chain reads.
 */
export function getUser(ctx: RelayerContext): RequestHandler {
  type ChainFigures = { balance: bigint; allowance: bigint; earned: bigint | null };
  const cache = new LRUCache<string, ChainFigures>({ max: USER_CACHE_ACCOUNTS, ttl: USER_CACHE_TTL_MS });
  return async (req, res) => {
    const { address } = parseInput(userParams, req.params, "path");
    const account = getAddress(address.toLowerCase());
    const totals = await ctx.store.accountTotals(account);
    let figures = cache.get(account);
    if (!figures) {
      const funds = await onChain(ctx, ctx.reader.balanceAndAllowance(account));
      if (funds) {
        figures = { ...funds, earned: await onChain(ctx, ctx.reader.earned(account)) };
        cache.set(account, figures);
      }
    }
    const chain = figures ?? null;
    // The level comes from what the chain minted to the user; the store's record when it cannot say.
    const earned = figures?.earned ?? totals.earned;
    res.json({
      address: account,
      balance: chain?.balance.toString() ?? null,
      allowance: chain?.allowance.toString() ?? null,
      earned: earned.toString(),
      level: levelFor(earned),
      pendingEarnings: totals.pendingMints.toString(),
      pendingSpends: totals.pendingBurns.toString(),
      chainReachable: chain !== null,
    });
  };
}

/** `GET /healthz` (the process answers) and `GET /readyz` (database and chain reachable). */
export function health(): RequestHandler {
  return (_req, res) => {
    res.json({ status: "ok" });
  };
}

/**
 * `GET /readyz`: 200 when the relayer can accept and settle events; 503 with every reason and
 * what to do otherwise (database down, chain unreachable, start-up checks failed, settlement
 * stopped by a missing role or a paused ledger, the relayer account short of gas money).
 */
export function ready(ctx: RelayerContext): RequestHandler {
  return async (_req, res) => {
    const reasons: { code: string; message: string }[] = [];
    let database = true;
    try {
      await ctx.store.ping();
    } catch {
      database = false;
      reasons.push({ code: "database_down", message: "the relayer's database cannot be read" });
    }
    const block = await onChain(ctx, ctx.reader.blockNumber());
    if (block === null) reasons.push({ code: "chain_unreachable", message: "the chain cannot be read" });
    const { settlement } = ctx;
    if (settlement.startup === "pending")
      reasons.push({ code: "startup_pending", message: "the start-up checks wait for the chain" });
    else reasons.push(...settlement.startup);
    const gate = settlement.gate;
    // A paused ledger is the pausers' decision, not a fault of this relayer: reported, still ready.
    if (settlement.enabled && gate.state === "unauthorized")
      reasons.push({ code: "not_relayer", message: gate.detail });
    let balance: bigint | null = null;
    if (settlement.enabled && block !== null) {
      const figures = await onChain(
        ctx,
        Promise.all([ctx.publicClient.getBalance({ address: settlement.account }), settlement.minBalance()]),
      );
      if (figures) {
        const [held, least] = figures;
        balance = held;
        if (held < least)
          reasons.push({
            code: "low_gas",
            message: `the relayer account ${settlement.account} holds ${held} wei, less than the ${least} wei one batch may cost: fund it`,
          });
      }
    }
    const checks = {
      database,
      chain: block !== null,
      settlement: settlement.enabled ? gate.state : "off",
      balance: balance?.toString() ?? null,
    };
    if (reasons.length > 0)
      throw new HttpProblem(503, "not_ready", "The relayer is not ready", {
        detail: reasons.map((reason) => reason.message).join("; "),
        retryAfter: 5,
        extra: { checks, reasons },
      });
    res.json({ status: "ready", checks, blockNumber: (block as bigint).toString() });
  };
}
