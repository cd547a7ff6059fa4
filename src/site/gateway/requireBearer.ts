import { createHash, timingSafeEqual } from "node:crypto";
import type { Request } from "express";
import { HttpProblem } from "../../http/problem.js";

const digest = (key: string) => createHash("sha256").update(key).digest();

/**
 * Checks `Authorization: Bearer <key>` against the given keys, each compared in constant time.
 * 401 `<name>_required` without one, 403 `<name>_invalid` for another.
 *
 * @example
 * requireBearer(req, [process.env.TWEI_GATEWAY_POSTS_KEY], "site_key")
 */
export function requireBearer(req: Request, keys: readonly string[], name: string): void {
  const key = /^Bearer (\S{1,200})$/.exec(req.headers.authorization ?? "")?.[1];
  if (!key)
    throw new HttpProblem(401, `${name}_required`, "An API key is required", {
      detail: "send Authorization: Bearer <key>",
    });
  const given = digest(key);
  if (!keys.map((k) => timingSafeEqual(digest(k), given)).includes(true))
    throw new HttpProblem(403, `${name}_invalid`, "This key is not valid here");
}
