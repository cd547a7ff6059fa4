import type { Request } from "express";
import { getAddress, isAddressEqual, type Address } from "viem";
import { postIdFor } from "../core/postId.js";
import { HttpProblem } from "../http/problem.js";
import { createRateLimiter } from "../relayer/api/rateLimiter.js";
import { secondsToRead } from "../rules/policy.js";
import { canonicalOriginOf } from "./core/canonicalOrigin.js";
import { createEventStatus } from "./eventStatus.js";
import { DEFAULT_IP_LIMITS, type IpLimits } from "./core/ipLimits.js";
import { readingOf, type Reading } from "./core/readingMeter.js";
import { DEFAULT_NEWCOMER_HOLD } from "./core/newcomerHold.js";
import { createNewcomerCheck } from "./newcomerCheck.js";
import { createPersonhoodCheck } from "./personhoodCheck.js";
import { createSessions } from "./sessions.js";
import { DEV_CHAIN_ID, type Article, type SiteConfig } from "./siteConfig.js";
import { createSqlSiteStore } from "./store/createSqlSiteStore.js";
import { openSqliteSiteDriver } from "./store/sqlite/openSqliteSiteDriver.js";

/** A number from a JSON answer of the indexer or relayer. */
export type Json = Record<string, unknown>;

/**
 * Everything the site's routes share: the configuration, its store (the given one, or SQLite at
 * `config.databasePath`), sessions and reading meters in that store, the rate limits, and
 * cached reads of the relayer and the indexer. `close()` stops its timers and closes a store it
 * opened itself.
 */
export function createSiteContext(config: SiteConfig) {
  const rate = config.reading?.clockRate ?? 1;
  if (rate !== 1 && config.chainId !== DEV_CHAIN_ID)
    throw new Error(`a sped reading clock (${rate}) runs only on a local development chain (${DEV_CHAIN_ID})`);
  if (config.demoWallet && config.chainId !== DEV_CHAIN_ID)
    throw new Error(
      `the demo wallet runs only on a local development chain (${DEV_CHAIN_ID}), never on a live network`,
    );
  const canonical = canonicalOriginOf(config.origin, config.chainId);
  const heartbeatMs = config.reading?.heartbeatMs ?? 5_000;
  const meterOptions = { heartbeatMs, idleAfterMs: config.reading?.idleAfterMs ?? 60_000, clockRate: rate };
  const partialAfterMs = config.reading?.partialAfterMs ?? 30 * 60_000;
  const ipLimits: IpLimits = {
    newAccountsPerDay: config.limits?.newAccountsPerIpPerDay ?? DEFAULT_IP_LIMITS.newAccountsPerDay,
    metersAtOnce: config.limits?.metersPerIpAtOnce ?? DEFAULT_IP_LIMITS.metersAtOnce,
    readsPerHour: config.limits?.readsPerIpPerHour ?? DEFAULT_IP_LIMITS.readsPerHour,
    attestationsPerDay: config.limits?.attestationsPerIpPerDay ?? DEFAULT_IP_LIMITS.attestationsPerDay,
  };
  const personhoodPolicy = config.policy.personhood;
  if (
    config.attester &&
    !personhoodPolicy?.attesters.some((a) => isAddressEqual(a, config.attester!.walletClient.account.address))
  )
    throw new Error("the site's attester must be one of the attesters its policy's personhood names");
  const store =
    config.store ?? createSqlSiteStore(openSqliteSiteDriver({ path: config.databasePath ?? "data/site/site.sqlite" }));
  // The comments the site starts with were written before it started: a minute apart, the last a
  // minute ago. Inserted once (a restart or a second process finds them there).
  const startedAt = Date.now();
  const seeds = config.comments ?? [];
  const ready = Promise.all(
    seeds.map((c, i) =>
      store.insertComment({
        commentId: c.commentId,
        slug: c.slug,
        author: c.author,
        text: c.text,
        createdAt: startedAt - (seeds.length - i) * 60_000,
        status: "visible",
        likes: c.likes ?? 0,
        dislikes: c.dislikes ?? 0,
      }),
    ),
  ).then(() => undefined);
  // Expired nonces and sessions and long-idle meters go once a minute (any process may do it).
  const personhood = createPersonhoodCheck({
    policy: personhoodPolicy,
    publicClient: config.publicClient,
    ...(config.personhoodFromBlock === undefined ? {} : { fromBlock: config.personhoodFromBlock }),
  });
  const purge = setInterval(() => void store.purgeExpired(Date.now()).catch(() => undefined), 60_000);
  purge.unref();
  const perIp = createRateLimiter({ ratePerSecond: config.limits?.perIpPerSecond ?? 20, burst: 40 });
  const perUser = createRateLimiter({ ratePerSecond: config.limits?.perUserPerSecond ?? 5, burst: 20 });
  const users = new Map<string, { at: number; value: Promise<Json | null> }>();
  const health = new Map<string, { at: number; value: Promise<boolean> }>();
  let rulesCache: { at: number; value: Promise<Json | null> } | undefined;

  /**
   * The relayer's view of an account (balance, allowance, level); null when unreachable.
   * Cached: a fresh answer is asked for after 1 s (balances and levels move as batches settle), and until it comes the last one is served
   * (`fresh` waits for a new one).
   */
  async function user(address: Address, fresh = false): Promise<Json | null> {
    const key = address.toLowerCase();
    const cached = users.get(key);
    if (cached && !fresh && Date.now() - cached.at < 1_000) return cached.value;
    const value = config.twei.user(address).then(
      (answer) => answer,
      () => null,
    );
    const previous = cached ? await Promise.race([cached.value, Promise.resolve(undefined)]) : undefined;
    users.set(key, { at: Date.now(), value: previous && !fresh ? value.then((v) => v ?? previous) : value });
    if (previous && !fresh) {
      void value.then((v) => v && users.set(key, { at: Date.now(), value: Promise.resolve(v) }));
      return previous;
    }
    return value;
  }

  const newcomers = createNewcomerCheck({
    hold: config.newcomerHold === false ? undefined : { ...DEFAULT_NEWCOMER_HOLD, ...config.newcomerHold },
    store,
    // The relayer's view of the account, as the widget shows it (cached a moment).
    levelOf: async (address) => {
      const level = (await user(address))?.level;
      return typeof level === "number" && Number.isInteger(level) ? level : null;
    },
    personhood,
  });

  async function indexer(path: string): Promise<Json | null> {
    try {
      const response = await fetch(`${config.indexerUrl}${path}`, { signal: AbortSignal.timeout(3_000) });
      if (!response.ok) return response.status === 404 ? {} : null;
      return (await response.json()) as Json;
    } catch {
      return null;
    }
  }

  return {
    config,
    heartbeatMs,
    store,
    /** Resolves once the seed comments are in the store. */
    ready,
    canonical,
    sessions: createSessions(store, { secure: !canonical.loopback, crossOrigin: config.crossOrigin === true }),
    meterOptions,
    /** A reader who has not come back for this long gets the time measured sent (sweepIdleReads). */
    partialAfterMs,
    sweepEveryMs: config.reading?.sweepEveryMs ?? Math.min(60_000, partialAfterMs / 4),
    ipLimits,
    /** The readers' proof of personhood, when the policy requires it (src/site/personhoodCheck.ts). */
    personhood,
    /** The newcomer hold: whose reads the site keeps until they come back (src/site/newcomerCheck.ts). */
    newcomers,
    /**
     * Reading meters, kept per (reader, post) in the store: they survive a restart and are
     * shared. Heartbeats go through `store.beat` with the reader's clock (routes/reading.ts).
     */
    meter: {
      peek: async (reader: Address, slug: string): Promise<Reading | undefined> => {
        const state = await store.meter(reader, slug);
        return state && readingOf(state);
      },
    },
    async close() {
      clearInterval(purge);
      await ready.catch(() => undefined);
      if (!config.store) await store.close();
    },
    statusOf: createEventStatus(config.twei),
    /** The article, or a 404 `article_not_found` problem. */
    article(slug: string): Article {
      const article = config.articles.find((a) => a.slug === slug);
      if (!article)
        throw new HttpProblem(404, "article_not_found", "No such article", { detail: `no article ${slug}` });
      return article;
    },
    secondsToRead: (article: Article) => secondsToRead(config.policy, wordCount(article)),
    chainPostId: (article: Article) => postIdFor(config.siteId, article.sitePostId),
    nameOf: (address: Address) =>
      config.names?.get(address.toLowerCase()) ?? `${getAddress(address).slice(0, 6)}…${address.slice(-4)}`,
    /** Throws 429 `rate_limited` when the IP or the user asked too often. */
    limit(req: Request, user?: Address) {
      const wait = Math.max(perIp.take(req.ip ?? "?"), user ? perUser.take(user) : 0);
      if (wait > 0)
        throw new HttpProblem(429, "rate_limited", "Too many requests", { retryAfter: wait, detail: "slow down" });
    },
    user,
    /** The relayer's `GET /v1/rules` (cached 10 s), or null when it cannot be read. */
    rules(): Promise<Json | null> {
      if (rulesCache && Date.now() - rulesCache.at < 10_000) return rulesCache.value;
      const value = config.twei.rules().then(
        (answer) => answer as Json,
        () => null,
      );
      rulesCache = { at: Date.now(), value };
      return value;
    },
    /** Whether a service answers its /healthz (cached 2 s). */
    reachable(url: string): Promise<boolean> {
      const cached = health.get(url);
      if (cached && Date.now() - cached.at < 2_000) return cached.value;
      const value = fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
        (response) => response.ok,
        () => false,
      );
      health.set(url, { at: Date.now(), value });
      return value;
    },
    indexer,
  };
}

export type SiteContext = ReturnType<typeof createSiteContext>;

/** The article's word count, as the site reports it when publishing. */
export const wordCount = (article: Article): number =>
  article.wordCount ?? article.text.split(/\s+/).filter(Boolean).length;
