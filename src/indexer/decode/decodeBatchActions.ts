import type { Address, Hex } from "viem";
import { KIND_COUNT } from "../../core/kinds.js";
import { LAST_ACTION_FLAG } from "../../core/packedActions.js";
import { InvariantError } from "../errors.js";

/** An action of a settled batch, with addresses lower-cased (the indexer's storage form). */
export interface BatchAction {
  readonly actionIndex: number;
  readonly account: Address;
  readonly kind: number;
  readonly units: number;
  readonly postId: bigint;
}

export interface BatchPost {
  readonly postId: bigint;
  readonly author: Address;
}

export interface DecodeBatchActionsReturnType {
  posts: BatchPost[];
  /** Each with `amount` 0 and `paid` true, for batchOutcomes to fill in place (one object per action). */
  actions: (BatchAction & { amount: bigint; paid: boolean })[];
}

/**
 * Decodes the packed actions of a `BatchSettled` event, like src/core's decodePackedActions
 * but without checksumming every address (keccak per account): the hot path of indexing.
 * Addresses come out lower-case; presentation checksums them.
 *
 * @example
 * const { posts, actions } = decodeBatchActions(log.args.actions)
 */
export function decodeBatchActions(packed: Hex): DecodeBatchActionsReturnType {
  const hex = packed.toLowerCase();
  const bytes = Buffer.from(hex.slice(2), "hex");
  const fail = (offset: number): never => {
    throw new InvariantError(`packed actions end early or run long at byte ${offset}`);
  };
  const address = (offset: number) => `0x${hex.slice(2 + offset * 2, 2 + (offset + 20) * 2)}` as Address;
  let offset = 0;
  if (bytes.length < 2) fail(offset);
  const postCount = bytes.readUInt16BE(0);
  offset = 2;
  const posts: BatchPost[] = [];
  for (let i = 0; i < postCount; i++) {
    if (offset + 28 > bytes.length) fail(offset);
    posts.push({ postId: bytes.readBigUInt64BE(offset), author: address(offset + 8) });
    offset += 28;
  }
  // The posts the actions refer to by index (layout: contracts/interfaces/ITweiLedger.sol).
  if (offset + 2 > bytes.length) fail(offset);
  const refCount = bytes.readUInt16BE(offset);
  offset += 2;
  if (offset + refCount * 8 > bytes.length) fail(offset);
  const refs: bigint[] = [];
  for (let i = 0; i < refCount; i++) refs.push(bytes.readBigUInt64BE(offset + i * 8));
  offset += refCount * 8;
  const actionBytes = 4;
  if (offset + 2 > bytes.length) fail(offset);
  const groupCount = bytes.readUInt16BE(offset);
  offset += 2;
  const actions: DecodeBatchActionsReturnType["actions"] = [];
  for (let g = 0; g < groupCount; g++) {
    if (offset + 20 > bytes.length) fail(offset);
    const account = address(offset);
    offset += 20;
    for (let last = false; !last;) {
      if (offset + actionBytes > bytes.length) fail(offset);
      const kindByte = bytes[offset] ?? KIND_COUNT;
      last = (kindByte & LAST_ACTION_FLAG) !== 0;
      const kind = kindByte & ~LAST_ACTION_FLAG;
      if (kind >= KIND_COUNT) throw new InvariantError(`unknown action kind ${kind} at byte ${offset}`);
      const postId = refs[bytes[offset + 3] ?? refs.length];
      if (postId === undefined) throw new InvariantError(`unknown post reference at byte ${offset + 3}`);
      actions.push({
        actionIndex: actions.length,
        account,
        kind,
        units: bytes.readUInt16BE(offset + 1),
        postId,
        amount: 0n,
        paid: true,
      });
      offset += actionBytes;
    }
  }
  if (offset !== bytes.length) fail(offset);
  return { posts, actions };
}
