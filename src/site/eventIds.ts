import { randomBytes } from "node:crypto";
import type { Address } from "viem";

/** The event ids the site uses: one per user action, so a retry is a duplicate, never a second payment. */
export const eventIds = {
  read: (slug: string, user: Address) => `read:${slug}:${user}`,
  vote: (slug: string, user: Address) => `vote:${slug}:${user}`,
  comment: (commentId: string) => `comment:${commentId}`,
  reaction: (commentId: string, user: Address) => `react:${commentId}:${user}`,
  report: (slug: string, user: Address, n: string) => `report:${slug}:${user}:${n}`,
};

/** A fresh id no other site process can pick (comments, report purchases). */
export const freshId = (): string => randomBytes(9).toString("base64url");
