import type { RequestHandler } from "express";
import { HttpProblem } from "../../http/problem.js";
import type { RelayerContext } from "./relayerContext.js";

/**
 * Middleware rate limiting a public route per client address (the connection's peer; the
 * relayer binds to 127.0.0.1 and runs behind no proxy it would trust): 429 with Retry-After
 * over RELAYER_PUBLIC_RATE_PER_SECOND (burst RELAYER_PUBLIC_RATE_BURST).
 */
export function limitPublic(ctx: RelayerContext): RequestHandler {
  return (req, _res, next) => {
    const client = req.socket.remoteAddress ?? "unknown";
    const wait = ctx.publicLimiter.take(`ip:${client}`);
    if (wait > 0)
      throw new HttpProblem(429, "rate_limited", "Too many requests", {
        detail: "this client address is over the public routes' request rate",
        retryAfter: Math.max(1, Math.ceil(wait)),
      });
    next();
  };
}
