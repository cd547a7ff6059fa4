import type { Address, Hex } from "viem";
import { keccak256, stringToHex } from "viem";
import {
  encodePackedActions,
  groupByAccount,
  type AccountAction,
  type PostRegistration,
} from "../../src/core/packedActions.js";

/** Packs a batch the way the relayer does: posts first, then actions grouped by account. */
export function packBatch(posts: readonly PostRegistration[], actions: readonly AccountAction[]): Hex {
  return encodePackedActions({ posts, groups: groupByAccount(actions) });
}

/** A stand-in evidence root; the ledger records it without interpreting it. */
export function rootOf(label: string): Hex {
  return keccak256(stringToHex(label));
}

export function action(account: Address, kind: AccountAction["kind"], postId: bigint, units = 1): AccountAction {
  return { account, kind, postId, units };
}
