/**
 * Per-IP limits: the cheap checks a scripted client meets first, before the rules (replayed by
 * the auditor) and the ledger's caps. Pure: the windows and the decisions; the counts live in
 * the site's store (one statement each, so they hold across site processes).
 *
 * What they stop: one machine (one address) minting wallets by the dozen, running a reader per
 * wallet side by side, or finishing reads faster than a household does. What they do not stop:
 * a farm behind residential proxies or many devices, each address inside its limits. They bound
 * it: each address adds at most `newAccountsPerDay` wallets a day, `metersAtOnce` reading at
 * once and `readsPerHour` reads an hour, and each of those reads still costs its full time on
 * the reader's one clock (src/site/core/readingMeter.ts).
 */
export interface IpLimits {
  /** Accounts the site never saw before that may sign in from one IP per UTC day. */
  readonly newAccountsPerDay: number;
  /** Readers whose meter may run from one IP at the same time. */
  readonly metersAtOnce: number;
  /** Reads (`post_read` events sent, full or partial) per IP per clock hour. */
  readonly readsPerHour: number;
  /** Personhood attestations the site makes for readers from one IP per UTC day. */
  readonly attestationsPerDay: number;
}

/** Roomy for a household or a small office behind one address; configurable per site. */
export const DEFAULT_IP_LIMITS: IpLimits = {
  newAccountsPerDay: 5,
  metersAtOnce: 8,
  readsPerHour: 40,
  attestationsPerDay: 5,
};

const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The UTC day (ms at its start) that `at` falls in: the new-accounts window.
 *
 * @example
 * dayWindow(Date.UTC(2026, 0, 2, 15)) // Date.UTC(2026, 0, 2)
 */
export const dayWindow = (at: number): number => at - (at % DAY_MS);

/**
 * The clock hour (ms at its start) that `at` falls in: the reads window.
 *
 * @example
 * hourWindow(Date.UTC(2026, 0, 2, 15, 40)) // Date.UTC(2026, 0, 2, 15)
 */
export const hourWindow = (at: number): number => at - (at % HOUR_MS);

/**
 * A reader counts as reading from an IP while their last beat from it is at most three
 * heartbeats old (one missed or late beat does not free their place).
 *
 * @example
 * runningSince(Date.now(), 5_000) // now − 15 s
 */
export const runningSince = (at: number, heartbeatMs: number): number => at - 3 * heartbeatMs;

/**
 * Whether one more reader's meter may run from an IP where `othersRunning` other readers read now.
 *
 * @example
 * meterRoomOnIp(7, DEFAULT_IP_LIMITS) // true: the eighth reader
 */
export const meterRoomOnIp = (othersRunning: number, limits: IpLimits): boolean => othersRunning < limits.metersAtOnce;
