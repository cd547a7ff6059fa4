import { HttpProblem } from "../http/problem.js";

/**
 * The refusals of the per-IP limits (src/site/core/ipLimits.ts), as problem+json: 429 with a
 * code the widget shows in plain words and a Retry-After.
 */
export const ipLimitProblem = {
  newAccounts: (retryAfter: number) =>
    new HttpProblem(429, "ip_new_account_limit", "Too many new accounts signed in from this network today", {
      detail: "sign in with an account this site knows, or try again tomorrow",
      retryAfter,
    }),
  meters: (retryAfter: number) =>
    new HttpProblem(429, "ip_meter_limit", "Too many readers are reading from this network at once", {
      detail: "reading time is not counted until one of them stops; what was counted is kept",
      retryAfter,
    }),
  attestations: (retryAfter: number) =>
    new HttpProblem(429, "ip_attestation_limit", "This network had too many readers verified today", {
      detail: "try again tomorrow",
      retryAfter,
    }),
  reads: (retryAfter: number) =>
    new HttpProblem(429, "ip_read_limit", "This network finished too many reads this hour", {
      detail: "the read is kept and sent once the hour is over",
      retryAfter,
    }),
};
