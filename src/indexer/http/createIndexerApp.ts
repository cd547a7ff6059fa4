import express, { type Express } from "express";
import { getAddress, isAddress, zeroAddress, type Address } from "viem";
import { z } from "zod";
import { postIdFor } from "../../core/postId.js";
import { HttpProblem, notFound, parseInput, problemHandler } from "../../http/problem.js";
import type { Logger } from "../../observability/logger.js";
import type { IndexerStatus } from "../createIndexer.js";
import { createIndexerMetrics, type IndexerMetrics } from "../metrics.js";
import { buildPostReport, NotIndexedYetError } from "../reports/buildPostReport.js";
import { buildUserReport } from "../reports/buildUserReport.js";
import { amountJson, postReportJson, reportInstanceJson, userReportJson } from "../reports/reportJson.js";
import type { IndexerStore } from "../store/IndexerStore.js";

const UINT64_MAX = 2n ** 64n - 1n;
const postIdSchema = z
  .string()
  .regex(/^(\d{1,20}|0x[0-9a-fA-F]{1,16})$/, "a post id is a uint64, decimal or 0x-hex")
  .transform((value) => BigInt(value))
  .refine((value) => value <= UINT64_MAX, "a post id is a uint64");
const addressSchema = z
  .string()
  .refine((value) => isAddress(value, { strict: false }), "not an EVM address")
  .transform((value) => getAddress(value) as Address);
const accountQuery = z.object({ account: addressSchema.optional() });
const bySiteQuery = z.object({
  site: z.coerce.number().int().min(0).max(0xffffffff),
  sitePostId: z.string().min(1).max(256),
  account: addressSchema.optional(),
});
const instancesQuery = z
  .object({
    postId: postIdSchema.optional(),
    buyer: addressSchema.optional(),
    limit: z.coerce.number().int().min(1).max(1_000).default(100),
  })
  .strict();

export interface CreateIndexerAppOptions {
  /** The running indexer's status, for /readyz (lag and errors); the store alone otherwise. */
  readonly status?: () => IndexerStatus;
  /** /readyz fails when the checkpoint is further than this behind the head. */
  readonly maxLagBlocks?: number;
  /**
   * A reader's (INDEXER_SYNC=false) limit, ms: /readyz fails once the writer has not reached the
   * head for this long (its heartbeat, `IndexerStore.lastSyncedAt`, which a reader's
   * `twei_indexer_writer_silence_seconds` also shows). Unset: not checked (the writer knows its own lag).
   */
  readonly maxWriterSilenceMs?: number;
  /** More reasons this process is not ready (the writer's lock being taken again), named for people. */
  readonly problems?: () => readonly string[];
  /** The indexer's metrics (`indexer.metrics`), served on GET /metrics; a registry of the app's own otherwise. */
  readonly metrics?: IndexerMetrics;
  readonly logger?: Logger;
}

/**
 * The indexer's read API (JSON; errors as problem+json):
 * - GET /v1/posts/:postId/report[?account=0x…]: a post's PnL report, for everyone or one account
 * - GET /v1/posts/report?site=<siteId>&sitePostId=<id>[&account=0x…]: the same by the site's post id
 * - GET /v1/users/:address: a user's earned, spent, net and level across posts
 * - GET /v1/report-instances/:id, GET /v1/report-instances?postId=&buyer=&limit=: bought instances
 * - GET /v1/stats: the checkpoint, counts, and the token supply from Transfer logs
 * - GET /healthz (the process is up), GET /readyz (the database answers and the index is caught up)
 * - GET /metrics: Prometheus metrics (sync, lag, reorgs, RPC errors, requests, report build time)
 *
 * @example
 * const server = createIndexerApp(indexer.store, { status: indexer.status, metrics: indexer.metrics }).listen(8546, "127.0.0.1")
 */
export function createIndexerApp(store: IndexerStore, options: CreateIndexerAppOptions = {}): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  const metrics =
    options.metrics ??
    createIndexerMetrics({
      status: options.status,
      ...(options.status ? {} : { writerSyncedAt: () => store.lastSyncedAt() }),
    });
  const { maxWriterSilenceMs } = options;
  app.use((req, res, next) => {
    // The route's pattern, not the path: one series per route whatever the ids asked.
    res.once("finish", () =>
      metrics.requests.inc({
        route: (req.route as { path?: string } | undefined)?.path ?? "unmatched",
        status: res.statusCode,
      }),
    );
    next();
  });
  const timed = async <T>(report: "post" | "user", build: () => Promise<T>): Promise<T> => {
    const end = metrics.reportDuration.startTimer({ report });
    try {
      return await build();
    } finally {
      end();
    }
  };

  const postReport = async (postId: bigint, account: Address | undefined) => {
    try {
      const report = await timed("post", () => buildPostReport(store, { postId, account }));
      if (report.siteId === null && report.participants === 0)
        throw new HttpProblem(404, "post_not_found", "No such post", {
          detail: `post ${postId} is not registered on-chain (as of block ${report.block.number})`,
        });
      return postReportJson(report);
    } catch (error) {
      if (error instanceof NotIndexedYetError)
        throw new HttpProblem(503, "not_indexed_yet", "The indexer has not indexed any block yet", { retryAfter: 1 });
      throw error;
    }
  };

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get("/readyz", async (_req, res) => {
    // A database that does not answer makes the process unready (503), not broken (500).
    const read = await store.checkpoint().then(
      (checkpoint) => ({ checkpoint, failed: false }),
      () => ({ checkpoint: null, failed: true }),
    );
    const { checkpoint } = read;
    const status = options.status?.();
    const lag = status?.head != null && checkpoint !== null ? status.head - checkpoint.number : null;
    const problems: string[] = [];
    if (read.failed) problems.push("the database does not answer");
    else if (checkpoint === null) problems.push("nothing indexed yet");
    problems.push(...(options.problems?.() ?? []));
    if (status?.lastError) problems.push(`last sync failed: ${status.lastError}`);
    if (lag !== null && lag > BigInt(options.maxLagBlocks ?? 10)) problems.push(`${lag} blocks behind the head`);
    const writerSyncedAt =
      maxWriterSilenceMs === undefined || read.failed ? null : await store.lastSyncedAt().catch(() => null);
    if (maxWriterSilenceMs !== undefined && !read.failed) {
      const silentMs = writerSyncedAt === null ? null : Date.now() - writerSyncedAt;
      if (silentMs === null) problems.push("the writer has not synced yet");
      else if (silentMs > maxWriterSilenceMs)
        problems.push(
          `the writer has not reached the head for ${Math.round(silentMs / 1000)} s (since ${new Date(writerSyncedAt as number).toISOString()}): reports may be stale`,
        );
    }
    const body = {
      status: problems.length === 0 ? "ready" : "not_ready",
      checkpoint: checkpoint === null ? null : { number: checkpoint.number.toString(), hash: checkpoint.hash },
      head: status?.head?.toString() ?? null,
      lag: lag?.toString() ?? null,
      // A reader's view of the writer's heartbeat (null on the writer, or before its first sync).
      writerSyncedAt: writerSyncedAt === null ? null : new Date(writerSyncedAt).toISOString(),
      problems,
    };
    res.status(problems.length === 0 ? 200 : 503).json(body);
  });
  // The counts scan whole tables, and they change only with the checkpoint: computed once per
  // checkpoint (concurrent requests share the one in flight), however often a public client asks.
  let stats: { hash: string | null; body: Promise<unknown> } | undefined;
  const statsBody = async () => {
    const [checkpoint, counts, zero] = await store.snapshot((reads) =>
      Promise.all([reads.checkpoint(), reads.stats(), reads.balance(zeroAddress)]),
    );
    return {
      checkpoint: checkpoint === null ? null : { number: checkpoint.number.toString(), hash: checkpoint.hash },
      ...counts,
      // Mints are transfers from the zero address and burns transfers to it: its balance is minus the supply.
      supply: amountJson(-zero),
    };
  };
  app.get("/v1/stats", async (_req, res) => {
    const hash = (await store.checkpoint())?.hash ?? null;
    if (stats?.hash !== hash) {
      const body = statsBody();
      stats = { hash, body };
      body.catch(() => {
        if (stats?.body === body) stats = undefined;
      });
    }
    res.json(await stats.body);
  });
  app.get("/v1/posts/report", async (req, res) => {
    const query = parseInput(bySiteQuery, req.query, "query");
    res.json(await postReport(postIdFor(query.site, query.sitePostId), query.account));
  });
  app.get("/v1/posts/:postId/report", async (req, res) => {
    const postId = parseInput(postIdSchema, req.params.postId, "path");
    const { account } = parseInput(accountQuery, req.query, "query");
    res.json(await postReport(postId, account));
  });
  app.get("/v1/users/:address", async (req, res) => {
    const account = parseInput(addressSchema, req.params.address, "path");
    try {
      res.json(userReportJson(await timed("user", () => buildUserReport(store, { account }))));
    } catch (error) {
      if (error instanceof NotIndexedYetError)
        throw new HttpProblem(503, "not_indexed_yet", "The indexer has not indexed any block yet", { retryAfter: 1 });
      throw error;
    }
  });
  app.get("/v1/report-instances/:id", async (req, res) => {
    const id = parseInput(
      z.string().regex(/^\d{1,20}-\d{1,6}$/, "an id is <batchId>-<actionIndex>"),
      req.params.id,
      "path",
    );
    const instance = await store.reportInstance(id);
    if (instance === null)
      throw new HttpProblem(404, "report_instance_not_found", "No such report instance", {
        detail: `no settled PnL Reports burn ${id} is indexed`,
      });
    res.json(reportInstanceJson(instance));
  });
  app.get("/v1/report-instances", async (req, res) => {
    const query = parseInput(instancesQuery, req.query, "query");
    const filter = {
      limit: query.limit,
      ...(query.postId === undefined ? {} : { postId: query.postId }),
      ...(query.buyer === undefined ? {} : { buyer: query.buyer }),
    };
    res.json({ items: (await store.reportInstances(filter)).map(reportInstanceJson) });
  });
  app.use(notFound);
  app.use(
    problemHandler({
      onUnexpected: (error) =>
        options.logger?.error({ err: error instanceof Error ? error.message : String(error) }, "request failed"),
    }),
  );
  return app;
}
