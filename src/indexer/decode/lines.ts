import { KIND_COUNT } from "../../core/kinds.js";

/** What one report line (one action kind) adds up to: paid actions, and burns that could not be paid. */
export interface LineTotals {
  paid: bigint;
  paidCount: number;
  shortfall: bigint;
  shortfallCount: number;
}

/** One LineTotals per action kind, indexed by kind id. */
export type KindLines = LineTotals[];

export function emptyLines(): KindLines {
  return Array.from({ length: KIND_COUNT }, () => ({ paid: 0n, paidCount: 0, shortfall: 0n, shortfallCount: 0 }));
}

/**
 * Adds (sign 1) or removes (sign -1, on a rollback) one action's outcome to `lines`.
 *
 * @example
 * addAction(lines, ActionKind.LikesOwn, 10n ** 17n, true, 1)
 */
export function addAction(lines: KindLines, kind: number, amount: bigint, paid: boolean, sign: 1 | -1): void {
  const line = lines[kind];
  if (line === undefined) throw new RangeError(`unknown action kind ${kind}`);
  if (paid) {
    line.paid += sign === 1 ? amount : -amount;
    line.paidCount += sign;
  } else {
    line.shortfall += sign === 1 ? amount : -amount;
    line.shortfallCount += sign;
  }
}

/** Adds `delta` into `into`, kind by kind. */
export function addLines(into: KindLines, delta: KindLines): void {
  for (let kind = 0; kind < KIND_COUNT; kind++) {
    const a = into[kind];
    const b = delta[kind];
    if (a === undefined || b === undefined) continue;
    a.paid += b.paid;
    a.paidCount += b.paidCount;
    a.shortfall += b.shortfall;
    a.shortfallCount += b.shortfallCount;
  }
}

/** Whether no action (paid or not) is left in `lines`: its row can go. */
export function isEmptyLines(lines: KindLines): boolean {
  return lines.every((line) => line.paidCount === 0 && line.shortfallCount === 0);
}

/**
 * Stores lines as sparse JSON, amounts as decimal strings (never floating point):
 * `[[kind, paid, paidCount, shortfall, shortfallCount], …]` for the kinds in use.
 */
export function encodeLines(lines: KindLines): string {
  const used: (string | number)[][] = [];
  lines.forEach((line, kind) => {
    if (line.paidCount !== 0 || line.shortfallCount !== 0)
      used.push([kind, line.paid.toString(), line.paidCount, line.shortfall.toString(), line.shortfallCount]);
  });
  return JSON.stringify(used);
}

/** The inverse of {@link encodeLines}. */
export function decodeLines(text: string): KindLines {
  const lines = emptyLines();
  for (const [kind, paid, paidCount, shortfall, shortfallCount] of JSON.parse(text) as [
    number,
    string,
    number,
    string,
    number,
  ][]) {
    const line = lines[kind];
    if (line === undefined) throw new RangeError(`unknown action kind ${kind}`);
    line.paid = BigInt(paid);
    line.paidCount = paidCount;
    line.shortfall = BigInt(shortfall);
    line.shortfallCount = shortfallCount;
  }
  return lines;
}
