/**
 * The newcomer hold: the reads of an account with no history are kept by the site, not paid,
 * until the account comes back on another day. A fresh wallet and an honest newcomer look the
 * same on their first visit; what a farm cannot make cheaply is history, so a newcomer's first
 * reads are paid when they return (nothing is lost: the meters stay open and the sweep sends
 * them), and a script that mints wallets, reads once and moves on is paid nothing.
 */

/** A site's newcomer hold. */
export interface NewcomerHold {
  /** Distinct UTC days with reading time an account needs before its reads are paid (0: no hold). */
  readonly readingDays: number;
  /** An account the chain paid up to this level is not a newcomer (it has history elsewhere or from before). */
  readonly liftLevel: number;
}

/** Read on two days, or paid half a read before (level 2, the level at which votes earn). */
export const DEFAULT_NEWCOMER_HOLD: NewcomerHold = { readingDays: 2, liftLevel: 2 };

/** The least time between a newcomer's first reading and the day their hold lifts, per further day: two days cannot be one night's 23:50 and 00:10. */
export const HOURS_BETWEEN_READING_DAYS = 20;

const DAY_MS = 86_400_000;

/** The UTC day (days since the epoch) of a time in milliseconds. */
export const utcDay = (at: number): number => Math.floor(at / DAY_MS);

/** What the site knows of a reader when it decides whether to hold their read. */
export interface NewcomerFacts {
  /** The reader's level as the relayer reports it (from what the chain minted to them); null when unknown. */
  readonly level: number | null;
  /** Whether the reader holds a valid proof of personhood the site's policy names (false without one, or without a policy). */
  readonly attested: boolean;
  /** UTC days on which the site credited them reading time, and the first such time (ms). */
  readonly readingDays: number;
  readonly firstReadAt: number | null;
}

/**
 * Whether a reader is still a newcomer at `at`: their reads are held. Not a newcomer once the
 * chain paid them up to `liftLevel`, once they hold proof of personhood, or once they read on
 * `readingDays` distinct UTC days spanning at least 20 h per day after the first.
 *
 * @example
 * isNewcomer(DEFAULT_NEWCOMER_HOLD, { level: 1, attested: false, readingDays: 1, firstReadAt: t }, t) // true
 */
export function isNewcomer(hold: NewcomerHold | undefined, facts: NewcomerFacts, at: number): boolean {
  if (!hold || hold.readingDays <= 0) return false;
  if (facts.attested) return false;
  if (facts.level !== null && facts.level >= hold.liftLevel) return false;
  if (facts.readingDays < hold.readingDays || facts.firstReadAt === null) return true;
  return at - facts.firstReadAt < (hold.readingDays - 1) * HOURS_BETWEEN_READING_DAYS * 3_600_000;
}
