import type { Address } from "viem";
import type { ActionKind } from "../../core/kinds.js";
import type { AccountAction } from "../../core/packedActions.js";

// How the SQLite store's values sit in its rows: column readers, and the JSON of an event's
// actions (`actions_json`) and reservations (`reserve_json`).

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
