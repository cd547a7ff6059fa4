import type { LogQueryRefusal } from "./logQueryRefusal.js";

export interface CreateLogRangeParameters {
  /** The first span asked for, in blocks (default 2,000). */
  readonly initial?: bigint;
  /** Never ask for more (default 100,000). */
  readonly max?: bigint;
  /**
   * Successful full-size queries after which a span refused for its result count or size may be
   * tried again (default 16): where the logs thin out, the range grows back past it.
   */
  readonly forgetAfter?: number;
}

export interface LogRange {
  /** The span the next query asks for. */
  readonly size: bigint;
  /** The largest span worth asking for now: a block-range limit is for good, a result or size limit only for a while. */
  readonly ceiling: bigint;
  /** The last block of the next query starting at `from`, never past `toBlock`. */
  end(from: bigint, toBlock: bigint): bigint;
  /** A query over `span` blocks was answered: a full-size one doubles the size, up to the ceiling. */
  answered(span: bigint): void;
  /**
   * A query over `span` blocks was refused as too big: the size drops (to the provider's
   * suggestion when it gave one, else half) and the ceiling below `span`. Returns false when
   * `span` was one block, which no range can make smaller.
   */
  refused(span: bigint, refusal: LogQueryRefusal): boolean;
}

/**
 * The block span of eth_getLogs queries, adapted to what the RPC accepts: shrinks on each
 * refusal, grows again on success. One per reader and RPC, kept across calls so a follower
 * does not learn the limits anew at each poll.
 *
 * @example
 * const range = createLogRange({ initial: 2_000n })
 * const to = range.end(from, head) // then range.answered(to - from + 1n) or range.refused(to - from + 1n, refusal)
 */
export function createLogRange(parameters: CreateLogRangeParameters = {}): LogRange {
  const max = parameters.max ?? 100_000n;
  const forgetAfter = parameters.forgetAfter ?? 16;
  if (max < 1n) throw new RangeError("the largest log range must be at least one block");
  let size = parameters.initial ?? 2_000n;
  if (size < 1n) size = 1n;
  if (size > max) size = max;
  /** Set by a block-range refusal: the provider's fixed limit. */
  let hard = max;
  /** Set by a result-count, size or timeout refusal: depends on how dense the logs are. */
  let soft = max;
  let sinceSoft = 0;
  const ceiling = () => (soft < hard ? soft : hard);
  return {
    get size() {
      return size;
    },
    get ceiling() {
      return ceiling();
    },
    end(from, toBlock) {
      const to = from + size - 1n;
      return to < toBlock ? to : toBlock;
    },
    answered(span) {
      if (span < size) return;
      if (soft < hard && ++sinceSoft >= forgetAfter) {
        soft = hard;
        sinceSoft = 0;
      }
      const grown = size * 2n;
      size = grown > ceiling() ? ceiling() : grown;
    },
    refused(span, refusal) {
      if (span <= 1n) return false;
      if (refusal.reason === "block-range") {
        if (span - 1n < hard) hard = span - 1n;
      } else {
        if (span - 1n < soft) soft = span - 1n;
        sinceSoft = 0;
      }
      const hinted = refusal.suggested ? refusal.suggested.toBlock - refusal.suggested.fromBlock + 1n : 0n;
      let next = hinted > 0n && hinted < span ? hinted : span / 2n;
      if (next > ceiling()) next = ceiling();
      size = next < 1n ? 1n : next;
      return true;
    },
  };
}
