import { createHash, randomBytes } from "node:crypto";
import type { Request, Response } from "express";
import type { Address } from "viem";
import { HttpProblem } from "../http/problem.js";
import type { IssuedNonce, SiteStore } from "./store/siteStore.js";

const COOKIE = "twei_session";
export const NONCE_TTL_MS = 10 * 60_000;
const SESSION_TTL_MS = 24 * 60 * 60_000;

/** The SHA-256 the store keeps instead of a session's secret (a leaked table opens no session). */
const hashOf = (id: string) => createHash("sha256").update(id).digest("hex");

export interface SessionOptions {
  /** Off loopback the cookie is Secure: a session never travels over plain http. */
  readonly secure: boolean;
  /**
   * Cross-origin (the gateway): the cookie is `SameSite=None` (it must be Secure then), and a
   * bearer token (the same secret) is also accepted in `Authorization`, for browsers that block
   * third-party cookies.
   */
  readonly crossOrigin?: boolean;
  readonly now?: () => number;
}

/**
 * Sign-In with Ethereum sessions, in the site kit's store (so they survive a restart and are
 * shared by several site processes): a nonce is issued for one address and taken once; a session
 * is an HttpOnly cookie (or a bearer token) naming an address whose owner signed the site's
 * message. The store bounds both (its StoreBounds) and purges expired rows.
 */
export function createSessions(store: SiteStore, options: SessionOptions) {
  const now = options.now ?? Date.now;
  const sameSite = options.crossOrigin ? "None" : "Strict";
  const flags = `HttpOnly; SameSite=${sameSite}; Path=/${options.secure || options.crossOrigin ? "; Secure" : ""}`;
  const secretOf = (req: Request): string | undefined => {
    const bearer = options.crossOrigin
      ? /^Bearer ([\w-]{16,64})$/.exec(req.headers.authorization ?? "")?.[1]
      : undefined;
    return (
      bearer ??
      req.headers.cookie
        ?.split(";")
        .map((part) => part.trim().split("="))
        .find(([name]) => name === COOKIE)?.[1]
    );
  };
  return {
    /** Remembers the message issued with `nonce` for `address`. */
    issue: (nonce: string, address: Address, message: string) =>
      store.issueNonce({ nonce, address, message, expiresAt: now() + NONCE_TTL_MS }),
    /** Takes (once) the message issued with `nonce`, or undefined when unknown, used or expired. */
    take: (nonce: string): Promise<IssuedNonce | undefined> => store.takeNonce(nonce, now()),
    /** Starts a session; returns its secret (the cookie's value, and the cross-origin bearer token). */
    async start(res: Response, address: Address): Promise<string> {
      const id = randomBytes(24).toString("base64url");
      await store.createSession({ idHash: hashOf(id), address, createdAt: now(), expiresAt: now() + SESSION_TTL_MS });
      res.setHeader("Set-Cookie", `${COOKIE}=${id}; ${flags}; Max-Age=${SESSION_TTL_MS / 1000}`);
      return id;
    },
    async end(req: Request, res: Response) {
      const id = secretOf(req);
      if (id) await store.endSession(hashOf(id));
      res.setHeader("Set-Cookie", `${COOKIE}=; ${flags}; Max-Age=0`);
    },
    /** The signed-in address, or undefined. */
    async user(req: Request): Promise<Address | undefined> {
      const id = secretOf(req);
      if (id === undefined) return undefined;
      return (await store.session(hashOf(id), now()))?.address;
    },
    /** The signed-in address, or a 401 `not_signed_in` problem. */
    async require(req: Request): Promise<Address> {
      const user = await this.user(req);
      if (!user) throw new HttpProblem(401, "not_signed_in", "Sign in with your wallet first");
      return user;
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
