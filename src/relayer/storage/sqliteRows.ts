import type { Address } from "viem";
import { FIRST_BURN_KIND, type ActionKind } from "../../core/kinds.js";
import type { AccountAction } from "../../core/packedActions.js";
import type { RuleEffects } from "../../rules/rulesState.js";
import type { EventFate } from "./relayerStore.js";

// How the SQLite store's values sit in its rows: column readers, and the JSON of an event's
// actions (`actions_json`), reservations (`reserve_json`) and effects (`effects_json`).

export type Row = Record<string, unknown>;
type PackedAction = [string, number, number, string];
export type Reservation = [string, string, string]; // account, minted, burned

export const str = (row: Row, key: string) => row[key] as string;
export const num = (row: Row, key: string) => Number(row[key]);

export function packActions(actions: readonly AccountAction[]): string {
  return JSON.stringify(actions.map((a): PackedAction => [a.account, a.kind, a.units, a.postId.toString()]));
}

export function unpackActions(json: string): AccountAction[] {
  return (JSON.parse(json) as PackedAction[]).map(([account, kind, units, postId]) => ({
    account: account as Address,
    kind: kind as ActionKind,
    units,
    postId: BigInt(postId),
  }));
}

/** What an event's acceptance wrote into the rules' tables, to undo if it fails. */
export interface StoredEffects {
  readonly markers: readonly string[];
  readonly counters: readonly string[];
  /** Wei added to running sums, as [key, decimal wei] (absent before rules version 3). */
  readonly tallies?: readonly (readonly [string, string])[];
  /** The site post id it published. */
  readonly post?: string;
  /** The comment id it created. */
  readonly comment?: string;
}

export function packEffects(effects: RuleEffects): string {
  const stored: StoredEffects = {
    markers: effects.markers,
    counters: effects.counters,
    ...(effects.tallies && effects.tallies.length > 0
      ? { tallies: effects.tallies.map(({ key, amount }) => [key, amount.toString()] as const) }
      : {}),
    ...(effects.post ? { post: effects.post.postId } : {}),
    ...(effects.comment ? { comment: effects.comment.commentId } : {}),
  };
  return JSON.stringify(stored);
}

export function unpackEffects(json: string | null): StoredEffects | undefined {
  return json === null ? undefined : (JSON.parse(json) as StoredEffects);
}

/** What an event's actions reserve, per account (lowercase): minted and burned under `price`. */
export function reservationsOf(
  actions: readonly AccountAction[],
  price: (action: AccountAction) => bigint,
): Reservation[] {
  const reserve = new Map<string, { mints: bigint; burns: bigint }>();
  for (const action of actions) {
    const key = action.account.toLowerCase();
    const amount = price(action);
    const entry = reserve.get(key) ?? { mints: 0n, burns: 0n };
    if (action.kind < FIRST_BURN_KIND) entry.mints += amount;
    else entry.burns += amount;
    reserve.set(key, entry);
  }
  return [...reserve].map(([account, { mints, burns }]): Reservation => [account, mints.toString(), burns.toString()]);
}

/** Reservations count while an event is on its way: not once the chain holds it, or it failed. */
export const RESERVING_STATUSES = "('pending', 'held', 'batched')";

/** The fate of an event whose id the site used before: a duplicate (same content) or a conflict. */
export function priorFate(eventId: string, priorHash: string, eventHash: string): EventFate {
  return priorHash === eventHash
    ? { eventId, status: "duplicate", code: "duplicate", message: "this event was accepted before" }
    : {
        eventId,
        status: "conflict",
        code: "event_id_conflict",
        message: "an event with this id and other content was accepted before",
      };
}
