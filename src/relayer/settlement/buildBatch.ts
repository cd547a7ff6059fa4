import { getAddress, type Hex } from "viem";
import { FIRST_BURN_KIND } from "../../core/kinds.js";
import {
  encodePackedActions,
  MAX_POST_REFS,
  type AccountAction,
  type AccountGroup,
  type LedgerAction,
  type PostRegistration,
} from "../../core/packedActions.js";
import { buildEvidenceTree, type EvidenceTree } from "../../evidence/evidenceTree.js";
import type { StoredEvent } from "../storage/relayerStore.js";

/** Where a settled action came from: the event (by position in the batch) and its action. */
export interface ActionOrigin {
  readonly leafIndex: number;
  readonly action: AccountAction;
}

export interface BuiltBatch {
  readonly posts: PostRegistration[];
  readonly groups: AccountGroup[];
  /** One per on-chain action index. */
  readonly origins: ActionOrigin[];
  readonly packed: Hex;
  readonly tree: EvidenceTree;
}

/**
 * Groups actions exactly as src/core's `groupByAccount` does (accounts in order of first
 * appearance, each account's mints before its burns), keeping where
 * each action came from, so a `BurnShortfall`'s action index names its event.
 */
export function groupWithOrigins(items: readonly ActionOrigin[]): { groups: AccountGroup[]; origins: ActionOrigin[] } {
  const byAccount = new Map<string, { mints: ActionOrigin[]; burns: ActionOrigin[] }>();
  for (const item of items) {
    const key = item.action.account.toLowerCase();
    let entry = byAccount.get(key);
    if (!entry) byAccount.set(key, (entry = { mints: [], burns: [] }));
    (item.action.kind < FIRST_BURN_KIND ? entry.mints : entry.burns).push(item);
  }
  const groups: AccountGroup[] = [];
  const origins: ActionOrigin[] = [];
  for (const [key, { mints, burns }] of byAccount) {
    const all = [...mints, ...burns];
    groups.push({
      account: getAddress(key),
      actions: all.map(({ action }): LedgerAction => ({
        kind: action.kind,
        units: action.units,
        postId: action.postId,
      })),
    });
    origins.push(...all);
  }
  return { groups, origins };
}

export type PackedBatchOf = Omit<BuiltBatch, "tree">;

/**
 * Packs a batch's actions from events in leaf order: the posts it registers and the packed
 * actions for `settle` (no evidence tree: cheap enough to size batches by trial).
 *
 * @example
 * const { packed } = packBatch(events)
 */
export function packBatch(events: readonly StoredEvent[]): PackedBatchOf {
  const posts: PostRegistration[] = [];
  const items: ActionOrigin[] = [];
  events.forEach((event, leafIndex) => {
    if (event.registers) posts.push(event.registers);
    for (const action of event.actions) items.push({ leafIndex, action });
  });
  const { groups, origins } = groupWithOrigins(items);
  return { posts, groups, origins, packed: encodePackedActions({ posts, groups }) };
}

/**
 * Builds a batch from events in leaf order: the posts it registers, the packed actions for
 * `settle`, and the evidence tree whose root goes on-chain.
 *
 * @example
 * const { packed, tree } = buildBatch(await store.pendingEvents(siteId, 500))
 */
export function buildBatch(events: readonly StoredEvent[]): BuiltBatch {
  const tree = buildEvidenceTree(
    events.map((event) => ({
      eventHash: event.eventHash,
      envelopeDigest: event.envelopeDigest,
      index: event.envelopeIndex,
    })),
  );
  return { ...packBatch(events), tree };
}

/**
 * The longest run of `events`, from the first, whose actions refer to at most 256 distinct
 * posts: the ledger names a batch's posts by a one-byte reference. Always at least one event
 * (one event's actions name one post).
 *
 * @example
 * const fitting = fitPostRefs(await store.pendingEvents(siteId, 1_000))
 */
export function fitPostRefs(events: readonly StoredEvent[], max = MAX_POST_REFS): StoredEvent[] {
  const posts = new Set<bigint>();
  for (const [index, event] of events.entries()) {
    const added = event.actions.filter((action) => !posts.has(action.postId)).map((action) => action.postId);
    if (index > 0 && new Set([...posts, ...added]).size > max) return events.slice(0, index);
    for (const postId of added) posts.add(postId);
  }
  return [...events];
}

/**
 * A conservative gas estimate for sizing batches before asking the node (cold storage
 * writes dominate: a new post, a new account balance, the batch record).
 */
export function roughGas(events: readonly StoredEvent[]): bigint {
  let actions = 0;
  let posts = 0;
  const accounts = new Set<string>();
  for (const event of events) {
    if (event.registers) posts++;
    actions += event.actions.length;
    for (const action of event.actions) accounts.add(action.account);
  }
  return 120_000n + BigInt(posts) * 50_000n + BigInt(accounts.size) * 40_000n + BigInt(actions) * 4_000n;
}
