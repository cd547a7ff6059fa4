import { randomBytes } from "node:crypto";
import type { Request, Response } from "express";
import type { Address } from "viem";
import { HttpProblem } from "../http/problem.js";

const COOKIE = "twei_session";
const NONCE_TTL_MS = 10 * 60_000;
const SESSION_TTL_MS = 24 * 60 * 60_000;

/**
 * Sign-In with Ethereum sessions, in memory: a nonce is issued for one address and used once;
 * a session is an HttpOnly cookie naming an address whose owner signed the site's message.
 */
export function createSessions(options: { readonly secure: boolean }, now: () => number = Date.now) {
  // Off loopback the cookie is Secure: a session never travels over plain http.
  const flags = `HttpOnly; SameSite=Strict; Path=/${options.secure ? "; Secure" : ""}`;
  const nonces = new Map<string, { address: Address; message: string; expires: number }>();
  const sessions = new Map<string, { address: Address; expires: number }>();
  const cookieOf = (req: Request): string | undefined =>
    req.headers.cookie
      ?.split(";")
      .map((part) => part.trim().split("="))
      .find(([name]) => name === COOKIE)?.[1];
  return {
    /** Remembers the message issued with `nonce` for `address`. */
    issue(nonce: string, address: Address, message: string) {
      for (const [key, value] of nonces) if (value.expires < now()) nonces.delete(key);
      nonces.set(nonce, { address, message, expires: now() + NONCE_TTL_MS });
    },
    /** Takes (once) the message issued with `nonce`, or undefined when unknown, used or expired. */
    take(nonce: string) {
      const issued = nonces.get(nonce);
      nonces.delete(nonce);
      return issued && issued.expires >= now() ? issued : undefined;
    },
    start(res: Response, address: Address) {
      const id = randomBytes(24).toString("base64url");
      sessions.set(id, { address, expires: now() + SESSION_TTL_MS });
      res.setHeader("Set-Cookie", `${COOKIE}=${id}; ${flags}; Max-Age=${SESSION_TTL_MS / 1000}`);
    },
    end(req: Request, res: Response) {
      const id = cookieOf(req);
      if (id) sessions.delete(id);
      res.setHeader("Set-Cookie", `${COOKIE}=; ${flags}; Max-Age=0`);
    },
    /** The signed-in address, or undefined. */
    user(req: Request): Address | undefined {
      const id = cookieOf(req);
      const session = id === undefined ? undefined : sessions.get(id);
      if (!session || session.expires < now()) return undefined;
      return session.address;
    },
    /** The signed-in address, or a 401 `not_signed_in` problem. */
    require(req: Request): Address {
      const user = this.user(req);
      if (!user) throw new HttpProblem(401, "not_signed_in", "Sign in with your wallet first");
      return user;
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
