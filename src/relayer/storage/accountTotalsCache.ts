import type { SqliteDatabase } from "./sqliteDatabase.js";
import { RESERVING_STATUSES, str, type Reservation, type Row } from "./sqliteRows.js";

export type Totals = { mints: bigint; burns: bigint };

/** What the SQLite store knows of each account (lowercase address) beyond its tables. */
export interface AccountTotalsCache {
  /** Pending mints and burns of committed events not yet on-chain; absent when both are zero. */
  readonly pending: ReadonlyMap<string, Totals>;
  addPending(account: string, mints: bigint, burns: bigint): void;
  earnedOf(account: string): bigint;
  /** Remembers the `earned` just written for the account. */
  setEarned(account: string, earned: bigint): void;
}

/**
 * The accounts' pending totals, rebuilt from the database, and their cached `earned`.
 *
 * @example
 * const { pending, addPending, earnedOf } = createAccountTotalsCache(database)
 */
export function createAccountTotalsCache({ db, q }: SqliteDatabase): AccountTotalsCache {
  // Pending mints and burns per account live in memory, rebuilt at open from the events not
  // yet included on-chain (each stores its reservations), so accepting events writes no account
  // rows. Only `earned` is stored, when a batch settles. Memory is updated only after commits.
  const pending = new Map<string, Totals>();
  const addPending = (account: string, mints: bigint, burns: bigint) => {
    const current = pending.get(account) ?? { mints: 0n, burns: 0n };
    const next = { mints: current.mints + mints, burns: current.burns + burns };
    if (next.mints === 0n && next.burns === 0n) pending.delete(account);
    else pending.set(account, next);
  };
  for (const row of db.prepare(`SELECT reserve_json FROM events WHERE status IN ${RESERVING_STATUSES}`).iterate())
    for (const [account, minted, burned] of JSON.parse(str(row as Row, "reserve_json")) as Reservation[])
      addPending(account, BigInt(minted), BigInt(burned));
  const earnedCache = new Map<string, bigint>();
  const earnedOf = (account: string): bigint => {
    const hit = earnedCache.get(account);
    if (hit !== undefined) return hit;
    const row = q("SELECT earned FROM accounts WHERE account = ?").get(account);
    const earned = row ? BigInt(str(row, "earned")) : 0n;
    if (earnedCache.size > 100_000) earnedCache.clear();
    earnedCache.set(account, earned);
    return earned;
  };
  return {
    pending,
    addPending,
    earnedOf,
    setEarned(account, earned) {
      earnedCache.set(account, earned);
    },
  };
}
