import type { RequestHandler } from "express";

/**
 * CORS for the gateway's configured origins only (the sites whose pages embed the widget):
 * credentials allowed (the session cookie), the bearer token and JSON bodies allowed in a
 * preflight. Another origin gets no CORS headers, so its pages' scripts cannot read answers.
 *
 * @example
 * router.use(corsFor(["https://news.example"]))
 */
export function corsFor(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    res.vary("Origin");
    const origin = req.headers.origin;
    if (origin && allowed.has(origin)) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Access-Control-Allow-Credentials", "true");
      if (req.method === "OPTIONS") {
        res.setHeader("Access-Control-Allow-Methods", "GET, POST");
        res.setHeader("Access-Control-Allow-Headers", "content-type, authorization");
        res.setHeader("Access-Control-Max-Age", "600");
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
