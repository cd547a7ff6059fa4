import type { Express } from "express";

export type AppName = "relayer" | "indexer" | "site";

/**
 * One route of one app, as the fuzz test asks it: the credentials it takes, and the names of the
 * fields (body) and parameters (query) its schema knows, so that generated input reaches past
 * "unknown key" as often as it stops there.
 */
export interface FuzzRoute {
  readonly app: AppName;
  readonly method: "GET" | "POST";
  /** Express pattern, mount path included (`/twei/api/posts/:slug`). */
  readonly path: string;
  /** `site-key`: the relayer's Bearer API key; `session`: the site's session cookie. */
  readonly auth: "none" | "site-key" | "session";
  readonly fields?: readonly string[];
  readonly query?: readonly string[];
  /** The relayer's event intake: the generated body is a signed envelope of hostile events. */
  readonly signedEnvelope?: true;
  /** Asking it with a valid session would end that session: fuzz it with foreign cookies only. */
  readonly endsSession?: true;
}

const event = ["eventId", "type", "occurredAt", "user", "postId", "secondsRead", "commentId", "length", "wordCount"];

/** Every route of the three apps. The fuzz test fails when an app has a route not listed here. */
export const FUZZ_ROUTES: readonly FuzzRoute[] = [
  { app: "relayer", method: "POST", path: "/v1/events", auth: "site-key", signedEnvelope: true, fields: event },
  {
    app: "relayer",
    method: "POST",
    path: "/v1/permits",
    auth: "site-key",
    fields: ["owner", "value", "deadline", "signature"],
  },
  { app: "relayer", method: "GET", path: "/healthz", auth: "none" },
  { app: "relayer", method: "GET", path: "/readyz", auth: "none" },
  { app: "relayer", method: "GET", path: "/metrics", auth: "none" },
  { app: "relayer", method: "GET", path: "/v1/events/:siteId/:eventId", auth: "site-key" },
  { app: "relayer", method: "GET", path: "/v1/batches/:batchId", auth: "none" },
  { app: "relayer", method: "GET", path: "/v1/users/:address", auth: "none" },
  { app: "relayer", method: "GET", path: "/v1/rules", auth: "none" },
  { app: "relayer", method: "GET", path: "/v1/policies/:hash", auth: "none" },

  { app: "indexer", method: "GET", path: "/healthz", auth: "none" },
  { app: "indexer", method: "GET", path: "/metrics", auth: "none" },
  { app: "indexer", method: "GET", path: "/readyz", auth: "none" },
  { app: "indexer", method: "GET", path: "/v1/stats", auth: "none" },
  { app: "indexer", method: "GET", path: "/v1/posts/report", auth: "none", query: ["site", "sitePostId", "account"] },
  { app: "indexer", method: "GET", path: "/v1/posts/:postId/report", auth: "none", query: ["account"] },
  { app: "indexer", method: "GET", path: "/v1/users/:address", auth: "none" },
  { app: "indexer", method: "GET", path: "/v1/report-instances/:id", auth: "none" },
  { app: "indexer", method: "GET", path: "/v1/report-instances", auth: "none", query: ["postId", "buyer", "limit"] },

  { app: "site", method: "GET", path: "/", auth: "session" },
  { app: "site", method: "GET", path: "/articles/:slug", auth: "session" },
  { app: "site", method: "GET", path: "/twei/twei-widget.js", auth: "none" },
  { app: "site", method: "GET", path: "/twei/api/config", auth: "none" },
  { app: "site", method: "GET", path: "/twei/api/tx/:hash", auth: "none" },
  { app: "site", method: "POST", path: "/twei/api/siwe/message", auth: "none", fields: ["address"] },
  { app: "site", method: "POST", path: "/twei/api/siwe/verify", auth: "none", fields: ["message", "signature"] },
  { app: "site", method: "POST", path: "/twei/api/signout", auth: "session", endsSession: true },
  { app: "site", method: "GET", path: "/twei/api/me", auth: "session" },
  { app: "site", method: "GET", path: "/twei/api/posts/:slug", auth: "session" },
  { app: "site", method: "POST", path: "/twei/api/posts/:slug/vote", auth: "session", fields: ["vote"] },
  { app: "site", method: "POST", path: "/twei/api/posts/:slug/comments", auth: "session", fields: ["text"] },
  {
    app: "site",
    method: "POST",
    path: "/twei/api/posts/:slug/comments/:commentId/reaction",
    auth: "session",
    fields: ["reaction"],
  },
  { app: "site", method: "POST", path: "/twei/api/posts/:slug/report", auth: "session" },
  { app: "site", method: "POST", path: "/twei/api/permit/typed-data", auth: "session", fields: ["twei"] },
  {
    app: "site",
    method: "POST",
    path: "/twei/api/permit",
    auth: "session",
    fields: ["value", "deadline", "signature"],
  },
  {
    app: "site",
    method: "POST",
    path: "/twei/api/posts/:slug/heartbeat",
    auth: "session",
    fields: ["visible", "focused", "active"],
  },
  // A moderator's key, not a session: fuzzed without one, every request is a 401 or 400.
  { app: "site", method: "POST", path: "/twei/api/moderation/comments/:commentId", auth: "none", fields: ["action"] },
  { app: "site", method: "POST", path: "/twei/api/personhood/attest", auth: "session" },
  { app: "site", method: "POST", path: "/twei/api/demo-wallet", auth: "none", fields: ["account", "method", "params"] },
];

interface Layer {
  readonly route?: { readonly path: string; readonly methods: Record<string, boolean> };
  readonly handle?: { readonly stack?: readonly Layer[] };
  readonly rawPath?: string;
}

/**
 * Every route an Express 5 app answers, as `METHOD /mount/path/:param`, read from its router
 * stack (nested routers included), so a route added to an app and not to {@link FUZZ_ROUTES}
 * is noticed.
 *
 * @example
 * listRoutes(createIndexerApp(store)) // ["GET /healthz", …]
 */
export function listRoutes(app: Express): string[] {
  const walk = (stack: readonly Layer[], prefix: string): string[] =>
    stack.flatMap((layer) => {
      if (layer.route) {
        const path = `${prefix}${layer.route.path}`;
        return Object.keys(layer.route.methods)
          .filter((method) => method !== "_all")
          .map((method) => `${method.toUpperCase()} ${path}`);
      }
      if (layer.handle?.stack) return walk(layer.handle.stack, `${prefix}${layer.rawPath ?? ""}`);
      return [];
    });
  return walk((app as unknown as { router: { stack: Layer[] } }).router.stack, "");
}
