/**
 * When room comes back under a cap of the ledger's (ITweiLedger's settle): each cap is counted
 * over a sliding window, `used = this epoch's total + ceil(previous epoch's total * remaining /
 * epochLength)`, so with nothing else settled the room grows linearly over an epoch. Pure: the
 * figures come from the ledger's views (`epochUsage`, `siteEpochUsage`, `emissionCaps`, `siteCaps`).
 */

/** One cap's window as the ledger's views show it now (wei; times in unix seconds of the chain). */
export interface CapWindow {
  /** The cap in force now. */
  readonly cap: bigint;
  /** This epoch's total (`Usage.minted` or `Usage.burned`). */
  readonly used: bigint;
  /** What a batch could still mint or burn now (`Usage.mintRoom` or `Usage.burnRoom`). */
  readonly room: bigint;
  /** A change announced and not yet in force (`CapsSchedule.scheduled…` at `scheduledAt`). */
  readonly scheduled?: { readonly cap: bigint; readonly at: bigint };
}

export interface RoomReturnsAtParameters {
  /** The chain's time now (the latest block's timestamp). */
  readonly now: bigint;
  readonly epochLength: bigint;
  /** What the waiting event mints (or burns). */
  readonly need: bigint;
  readonly window: CapWindow;
}

/** The earliest time the window has `need` of room under `cap`, assuming nothing else settles; null: never. */
function underCap(parameters: RoomReturnsAtParameters, cap: bigint): bigint | null {
  const { now, epochLength: len, need, window } = parameters;
  const { used } = window;
  // The previous epoch's weighted share now; when there is no room, at least what fills the cap.
  const weighted = window.room > 0n ? window.cap - used - window.room : window.cap - used;
  const remaining = len - (now % len);
  const epochEnd = now + remaining;
  // An upper bound on the previous epoch's total (the ledger rounds its share up).
  const previous = weighted > 0n ? (weighted * len + remaining - 1n) / remaining : 0n;
  if (cap - used >= need) {
    if (previous === 0n) return now;
    const at = epochEnd - ((cap - used - need) * len) / previous;
    return at > now ? at : now;
  }
  // Not this epoch: the next one starts with this epoch's total as its previous one.
  if (cap < need) return null;
  if (used === 0n) return epochEnd;
  return epochEnd + len - ((cap - need) * len) / used;
}

/**
 * The chain time (unix seconds) from which `need` fits one cap's window again, counting a
 * scheduled change once in force; null when it never does under the caps known (a single
 * event above the cap: it waits for a raise). An estimate: other settlements may use the room
 * first (the settlement loop reads the room again each pass), and a burn an account cannot pay
 * in full counts less than its price. Never early while the window shows some room (the views
 * then give the previous epoch's weighted share exactly, rounded up as the ledger does); when it
 * shows none, that share is only known to fill the cap, and the time is a lower bound.
 *
 * @example
 * roomReturnsAt({ now, epochLength: 86_400n, need: 10n ** 18n, window: { cap, used, room } })
 */
export function roomReturnsAt(parameters: RoomReturnsAtParameters): bigint | null {
  const { now, need, window } = parameters;
  if (need === 0n || window.room >= need) return now;
  const current = underCap(parameters, window.cap);
  const scheduled = window.scheduled;
  if (!scheduled || scheduled.at <= now) return current;
  if (current !== null && current < scheduled.at) return current;
  const after = underCap(parameters, scheduled.cap);
  if (after === null) return null;
  return after > scheduled.at ? after : scheduled.at;
}

/**
 * The latest of several windows' times (every cap must have room); null when any never does.
 *
 * @example
 * latestOf([roomReturnsAt(overall), roomReturnsAt(site)])
 */
export function latestOf(times: readonly (bigint | null)[]): bigint | null {
  let latest = 0n;
  for (const time of times) {
    if (time === null) return null;
    if (time > latest) latest = time;
  }
  return latest;
}
