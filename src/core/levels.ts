import { parseUnits } from "viem";

/**
 * The public level curve: a user's level comes from the Twei they have earned (minted to
 * them) on-chain, never from what they hold. Reaching level L takes (L - 1)² × 0.5 Twei:
 * level 1 at 0, level 2 at 0.5, level 13 (the default Comment-to-Earn level) at 72 Twei.
 */
export const LEVEL_CURVE_VERSION = 1;
const STEP = parseUnits("0.5", 18);

/** The Twei (wei) a user must have earned to reach `level`. */
export function earnedForLevel(level: number): bigint {
  if (!Number.isInteger(level) || level < 1) throw new RangeError(`level ${level} is not a positive integer`);
  const n = BigInt(level - 1);
  return n * n * STEP;
}

// Newton's method from above; 0 and 1 are their own roots and leave the loop at once.
function isqrt(value: bigint): bigint {
  let x = value;
  let y = (x + 1n) / 2n;
  while (y < x) {
    x = y;
    y = (x + value / x) / 2n;
  }
  return x;
}

/**
 * The level of a user who has earned `earned` wei of Twei.
 *
 * @example
 * levelFor(parseUnits("72", 18)) // 13
 */
export function levelFor(earned: bigint): number {
  if (earned < 0n) throw new RangeError("earned cannot be negative");
  return Number(isqrt(earned / STEP)) + 1;
}
