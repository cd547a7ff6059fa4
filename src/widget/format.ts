/** Twei has 18 decimals; amounts travel as decimal wei strings and are shown with bigint arithmetic only. */
const UNIT = 10n ** 18n;

/**
 * A wei amount as Twei for people: "1", "0.25", "12.5".
 *
 * @example
 * formatTwei("1500000000000000000") // "1.5"
 */
export function formatTwei(wei: string | bigint): string {
  const value = typeof wei === "bigint" ? wei : BigInt(wei);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / UNIT;
  const fraction = (abs % UNIT).toString().padStart(18, "0").replace(/0+$/, "");
  return `${negative ? "−" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Seconds as "3 min 9 s". */
export function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m} min${s ? ` ${s} s` : ""}` : `${s} s`;
}

/** The rules' and relayer's codes in plain words (the code itself is shown beside them). */
const PLAIN: Record<string, string> = {
  read_too_short: "You did not read long enough to earn for this post.",
  already_read: "You were paid for reading this post already.",
  self_read: "Authors do not earn for reading their own posts.",
  self_vote: "Authors cannot vote on their own posts.",
  already_voted: "You voted on this post already.",
  daily_budget_spent: "You have run out of Pluses for today.",
  already_reacted: "You reacted to this comment already.",
  self_reaction: "You cannot like or dislike your own comment.",
  insufficient_funds: "You do not have enough Twei (or allowance for the ledger) for this.",
  funds_unknown: "Your balance cannot be read from the chain right now; try again shortly.",
  unknown_post: "This post is not known to Twei yet.",
  unknown_comment: "This comment is not known to Twei.",
  relayer_unreachable: "Twei's relayer cannot be reached right now; try again shortly.",
  rate_limited: "Too many requests; slow down a little.",
  not_signed_in: "Sign in with your wallet first.",
  dependency_failed: "An earlier event this one depends on failed.",
  invalid_permit: "The wallet's permit was not accepted by the token.",
};

/** A rejection or failure in plain words. */
export function plainWords(code: string | undefined, message?: string): string {
  if (code && PLAIN[code]) return PLAIN[code];
  if (code?.startsWith("ledger_")) return "The ledger refused this action at settlement.";
  return message || "Something went wrong.";
}

/** UTF-8 text as 0x-hex, for `personal_sign`. */
export function utf8ToHex(text: string): string {
  return `0x${Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
