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

/**
 * How long ago an ISO time was, for people: "just now", "5 min ago", "3 h ago", or the date.
 *
 * @example
 * timeAgo(new Date(Date.now() - 120_000).toISOString()) // "2 min ago"
 */
export function timeAgo(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 60) return "just now";
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)} h ago`;
  return new Date(iso).toISOString().slice(0, 10);
}

/** The rules' and relayer's codes in plain words. */
const PLAIN: Record<string, string> = {
  read_too_short: "You did not read long enough to earn for this post.",
  already_read: "You were paid for reading this post already.",
  self_read: "Authors do not earn for reading their own posts.",
  self_vote: "Authors cannot vote on their own posts.",
  already_voted: "You voted on this post already.",
  daily_budget_spent: "You have run out of Pluses for today.",
  daily_like_budget_spent: "You have run out of Likes for today.",
  new_account_ramp: "New accounts earn a limited amount a day; you have reached today's. It grows with your level.",
  daily_earning_cap: "You have reached today's earning limit; come back tomorrow.",
  already_reacted: "You reacted to this comment already.",
  self_reaction: "You cannot like or dislike your own comment.",
  insufficient_funds: "You do not have enough Twei (or allowance for the ledger) for this.",
  funds_unknown: "Your balance cannot be read from the chain right now; try again shortly.",
  unknown_post: "This post is not known to Twei yet.",
  unknown_comment: "This comment is not known to Twei.",
  relayer_unreachable: "Twei's relayer cannot be reached right now; try again shortly.",
  rate_limited: "Too many requests; slow down a little.",
  ip_new_account_limit:
    "Too many new accounts have signed in from your network today. Sign in with an account this site already knows, or try again tomorrow.",
  ip_meter_limit:
    "Too many people are reading from your network at once: your reading time is not counted until one of them stops. What you read so far is kept.",
  ip_read_limit:
    "Your network has finished too many reads this hour: your read is kept and sent once the hour is over.",
  personhood_required:
    "This site pays only accounts verified as a person, and yours is not yet: verify it above (or get a proof from an attester the site trusts), then try again.",
  newcomer_hold:
    "New accounts are paid once they have read here on more than one day: your read is kept and paid when you come back on another day.",
  personhood_unknown:
    "Whether you are verified as a person cannot be read from the chain right now: your read is kept and sent again shortly.",
  already_attested: "You are verified as a person already.",
  attestation_in_flight: "Your verification is being written to the chain; wait a moment.",
  attestation_failed: "Your verification could not be written to the chain right now; try again shortly.",
  ip_attestation_limit: "Too many readers were verified from your network today; try again tomorrow.",
  not_signed_in: "Sign in with your wallet first.",
  dependency_failed: "An earlier event this one depends on failed.",
  invalid_permit: "The wallet's permit was not accepted by the token.",
  comment_too_short: "A comment needs a few more words.",
  site_unreachable: "The site cannot be reached; check your connection.",
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
