import { KIND_COUNT } from "../../core/kinds.js";

/** What one report line (one action kind) adds up to: paid actions, and burns that could not be paid. */
export interface LineTotals {
  paid: bigint;
  paidCount: number;
  shortfall: bigint;
  shortfallCount: number;
}

/**
 * Lines indexed by kind id; a kind nothing happened to is a hole (undefined), which keeps the
 * many small aggregates of a range cheap to build.
 */
export type KindLines = (LineTotals | undefined)[];

export function emptyLines(): KindLines {
  return new Array<LineTotals | undefined>(KIND_COUNT);
}

const lineAt = (lines: KindLines, kind: number): LineTotals => {
  let line = lines[kind];
  if (line === undefined) {
    if (!(kind >= 0 && kind < KIND_COUNT)) throw new RangeError(`unknown action kind ${kind}`);
    line = { paid: 0n, paidCount: 0, shortfall: 0n, shortfallCount: 0 };
    lines[kind] = line;
  }
  return line;
};

/**
 * Adds (sign 1) or removes (sign -1, on a rollback) one action's outcome to `lines`.
 *
 * @example
 * addAction(lines, ActionKind.LikesOwn, 10n ** 17n, true, 1)
 */
export function addAction(lines: KindLines, kind: number, amount: bigint, paid: boolean, sign: 1 | -1): void {
  const signed = sign === 1 ? amount : -amount;
  const line = lines[kind];
  if (line === undefined) {
    // The first action of a kind sets the line: no bigint arithmetic (most lines get one action).
    if (!(kind >= 0 && kind < KIND_COUNT)) throw new RangeError(`unknown action kind ${kind}`);
    lines[kind] = paid
      ? { paid: signed, paidCount: sign, shortfall: 0n, shortfallCount: 0 }
      : { paid: 0n, paidCount: 0, shortfall: signed, shortfallCount: sign };
  } else if (paid) {
    line.paid += signed;
    line.paidCount += sign;
  } else {
    line.shortfall += signed;
    line.shortfallCount += sign;
  }
}

/** Adds `delta` into `into`, kind by kind. */
export function addLines(into: KindLines, delta: KindLines): void {
  for (let kind = 0; kind < KIND_COUNT; kind++) {
    const b = delta[kind];
    if (b === undefined) continue;
    const a = lineAt(into, kind);
    a.paid += b.paid;
    a.paidCount += b.paidCount;
    a.shortfall += b.shortfall;
    a.shortfallCount += b.shortfallCount;
  }
}

/** Whether no action (paid or not) is left in `lines`: its row can go. */
export function isEmptyLines(lines: KindLines): boolean {
  for (const line of lines) if (line !== undefined && (line.paidCount !== 0 || line.shortfallCount !== 0)) return false;
  return true;
}

/**
 * Stores lines as sparse JSON, amounts as decimal strings (never floating point):
 * `[[kind, paid, paidCount, shortfall, shortfallCount], …]` for the kinds in use; `[]` when none.
 */
export function encodeLines(lines: KindLines): string {
  // Built by hand: JSON.stringify of small arrays is the hot spot of a commit.
  let out = "";
  for (let kind = 0; kind < lines.length; kind++) {
    const line = lines[kind];
    if (line !== undefined && (line.paidCount !== 0 || line.shortfallCount !== 0))
      out += `${out === "" ? "" : ","}[${kind},"${line.paid}",${line.paidCount},"${line.shortfall}",${line.shortfallCount}]`;
  }
  return `[${out}]`;
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
    const line = lineAt(lines, kind);
    line.paid = BigInt(paid);
    line.paidCount = paidCount;
    line.shortfall = BigInt(shortfall);
    line.shortfallCount = shortfallCount;
  }
  return lines;
}

/** Two encoded lines added, encoded (the SQL function `merge_lines` of the SQLite store). */
export function mergeEncodedLines(a: string, b: string): string {
  const lines = decodeLines(a);
  addLines(lines, decodeLines(b));
  return encodeLines(lines);
}
