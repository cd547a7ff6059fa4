import express, { type Express } from "express";
import { notFound, problemHandler } from "../../http/problem.js";
import { postEvents } from "./postEvents.js";
import { requireSite } from "./authenticate.js";
import { limitPublic } from "./limitPublic.js";
import { postPermit } from "./postPermit.js";
import { getPolicy } from "./getPolicy.js";
import { getRules } from "./getRules.js";
import { getBatch, getEvent, getUser, health, ready } from "./queries.js";
import type { RelayerContext } from "./relayerContext.js";

/** The largest request body: 1,000 events of a few hundred bytes each, with room. */
export const MAX_BODY_BYTES = 1_000_000;

/**
 * The relayer's HTTP API, apart from `listen` so tests can mount it.
 *
 * @example
 * const server = createApp(ctx).listen(0, "127.0.0.1")
 */
export function createApp(ctx: RelayerContext): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  const site = requireSite(ctx);
  const json = express.json({ limit: MAX_BODY_BYTES, strict: true });
  const limited = limitPublic(ctx);
  // The API key is checked before any body is read. Events are parsed in worker threads from
  // the raw text; permits as JSON here.
  app.post("/v1/events", site, express.text({ type: () => true, limit: MAX_BODY_BYTES }), postEvents(ctx));
  app.post("/v1/permits", site, json, postPermit(ctx));
  app.get("/healthz", health());
  app.get("/readyz", ready(ctx));
  app.get("/metrics", async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  app.get("/v1/events/:siteId/:eventId", site, getEvent(ctx));
  // Public routes: rate limited per client address.
  app.get("/v1/batches/:batchId", limited, getBatch(ctx));
  app.get("/v1/users/:address", limited, getUser(ctx));
  app.get("/v1/rules", limited, getRules(ctx));
  app.get("/v1/policies/:hash", limited, getPolicy(ctx));
  app.use(notFound);
  app.use(
    problemHandler({
      onUnexpected: (error) =>
        ctx.log.error(
          { error: error instanceof Error ? error.message : String(error) },
          "unexpected error in a request",
        ),
    }),
  );
  return app;
}
