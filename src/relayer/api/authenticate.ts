import type { Request, RequestHandler, Response } from "express";
import { HttpProblem } from "../../http/problem.js";
import type { SiteRecord } from "../storage/relayerStore.js";
import type { RelayerContext } from "./relayerContext.js";
import { hashApiKey } from "./siteDirectory.js";

const noted = new WeakMap<RelayerContext, Set<string>>();

/**
 * Logs an unknown API key once per key (by the first characters of its hash, never the key)
 * with the database looked in: the usual cause is a key registered into another data directory.
 */
function noteUnknownKey(ctx: RelayerContext, apiKey: string): void {
  const seen = noted.get(ctx) ?? new Set<string>();
  noted.set(ctx, seen);
  const keyHash = hashApiKey(apiKey).slice(0, 10);
  if (seen.has(keyHash)) return;
  if (seen.size >= 1_000) seen.clear();
  seen.add(keyHash);
  ctx.log.warn(
    { database: ctx.database, keyHash },
    "unknown API key: not in this relayer's database (was the site registered with another RELAYER_DATA_DIR?)",
  );
}

/**
 * The site behind a request's `Authorization: Bearer <api key>`, rate limited per site.
 * Throws 401 without a valid key, 429 (with Retry-After) over the site's rate.
 */
export async function authenticate(ctx: RelayerContext, req: Request): Promise<SiteRecord> {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1])
    throw new HttpProblem(401, "unauthorized", "An API key is required", {
      detail: "send the site's API key as `Authorization: Bearer <key>`",
    });
  const site = await ctx.sites.authenticate(match[1]);
  if (!site) {
    noteUnknownKey(ctx, match[1]);
    throw new HttpProblem(401, "unauthorized", "Unknown API key", {
      detail:
        "no site of this relayer's database has this key; its log names the database it looked in (npm run register-site must use the relayer's RELAYER_DATA_DIR)",
    });
  }
  const wait = ctx.limiter.take(site.siteId);
  if (wait > 0)
    throw new HttpProblem(429, "rate_limited", "Too many requests", {
      detail: `site ${site.siteId} is over its request rate`,
      retryAfter: Math.max(1, Math.ceil(wait)),
    });
  return site;
}

/**
 * Middleware authenticating the site (as {@link authenticate}) before anything reads the
 * request's body: mounted ahead of the body parsers, so an unauthenticated request is answered
 * 401 without its body being read. The handlers find the site with {@link siteOf}.
 */
export function requireSite(ctx: RelayerContext): RequestHandler {
  return async (req, res, next) => {
    res.locals.site = await authenticate(ctx, req);
    next();
  };
}

/** The site {@link requireSite} authenticated for this request. */
export function siteOf(res: Response): SiteRecord {
  const site = res.locals.site as SiteRecord | undefined;
  if (!site) throw new Error("requireSite must run before this handler");
  return site;
}

/** Races a chain read against a timeout, so a hung RPC does not hang the API. */
export async function withTimeout<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the chain did not answer in time")), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
