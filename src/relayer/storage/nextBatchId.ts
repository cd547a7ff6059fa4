import { randomInt } from "node:crypto";

/** The most a batch id moves past the one before it (exclusive): 24 bits of fresh randomness per id. */
export const BATCH_ID_GAP = 2 ** 24;

/** Thrown when a database has used up its ids (after hundreds of millions of batches). */
export class BatchIdsExhaustedError extends Error {
  override readonly name = "BatchIdsExhaustedError";
}

/**
 * The id of a database's next batch: past the last one by 1 + a random gap below
 * {@link BATCH_ID_GAP} (from node:crypto), starting at `namespace * 2^32`.
 *
 * Why random: the ledger marks any id a relayer key settles, so a stolen key that could
 * predict the next ids could settle them first and make the relayer's own batches revert as
 * already settled. Known only to the database until sent, each id is one guess in 2^24 (a
 * squatted id is also caught: the batcher checks a settled id's content). Ids still grow, so
 * batches keep their order (a batch may refer to a post an earlier one registered), and stay
 * below 2^53, exact as JS numbers.
 *
 * @example
 * nextBatchId(null, 7)      // 7 * 2^32 + 1 + r, r random in [0, 2^24)
 * nextBatchId(30064771073, 7) // 30064771073 + 1 + r
 */
export function nextBatchId(last: number | null, namespace: number): number {
  const next = (last ?? namespace * 2 ** 32) + 1 + randomInt(BATCH_ID_GAP);
  if (!Number.isSafeInteger(next)) throw new BatchIdsExhaustedError(`batch ids exhausted after ${last}`);
  return next;
}
