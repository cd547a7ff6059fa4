import type { DecodedRevert } from "../../chain/decodeRevert.js";
import type { RevertClass } from "./classifyRevert.js";

export type ProbeReturnType = { readonly kind: "ok"; readonly gas: bigint } | RevertClass;

export interface IsolatePoisonReturnType<T> {
  /** The first item that the ledger refuses, given the items before it. */
  readonly index: number;
  readonly item: T;
  readonly revert: DecodedRevert;
  /** How many dry runs the search took. */
  readonly probes: number;
}

/**
 * Finds the first item of a batch that makes its dry run revert for the batch's own content
 * (a `poison` revert), by bisecting on prefixes: each prefix is dry-run on its own, and the
 * shortest one that reverts ends with the culprit (the items before it settle). A prefix over
 * a cap (on mints or burns) counts as good: the ledger checks the caps after everything else.
 * Takes about log2(n) dry runs. Throws what `probe` throws (a transient fault), and when no prefix reverts
 * (the batch is no longer refused).
 *
 * @example
 * const { item, revert } = await isolatePoison(events, (prefix) => probe(prefix))
 */
export async function isolatePoison<T>(
  items: readonly T[],
  probe: (prefix: readonly T[]) => Promise<ProbeReturnType>,
): Promise<IsolatePoisonReturnType<T> | undefined> {
  let probes = 0;
  const poisoned = async (length: number): Promise<DecodedRevert | undefined> => {
    probes++;
    const result = await probe(items.slice(0, length));
    return result.kind === "poison" ? result.revert : undefined;
  };
  let high = items.length;
  let revert = await poisoned(high);
  if (!revert) return undefined;
  // Invariant: the prefix of `high` items is poisoned; every prefix shorter than `low` is not.
  let low = 1;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const found = await poisoned(middle);
    if (found) {
      high = middle;
      revert = found;
    } else low = middle + 1;
  }
  const index = high - 1;
  return { index, item: items[index] as T, revert, probes };
}
