import type { Request } from "express";
import { HttpProblem } from "../../http/problem.js";
import type { SiteRecord } from "../storage/relayerStore.js";
import type { RelayerContext } from "./relayerContext.js";

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
  if (!site) throw new HttpProblem(401, "unauthorized", "Unknown API key");
  const wait = ctx.limiter.take(site.siteId);
  if (wait > 0)
    throw new HttpProblem(429, "rate_limited", "Too many requests", {
      detail: `site ${site.siteId} is over its request rate`,
      retryAfter: Math.max(1, Math.ceil(wait)),
    });
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
