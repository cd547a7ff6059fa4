import { bytesToHex, getAddress, hexToBytes, type Address, type Hex } from "viem";
import { type ActionKind, BPS, FIRST_BURN_KIND, isActionKind, ActionKind as Kind } from "./kinds.js";

/**
 * The packed actions the ledger's `settle` takes and its `BatchSettled` event echoes
 * (layout documented in contracts/interfaces/ITweiLedger.sol):
 *   postCount:u16, postCount x (postId:u64, author:address)     posts the batch registers
 *   refCount:u16, refCount x postId:u64                         posts its actions refer to (<= 256)
 *   accountCount:u16, accountCount x (account:address, its actions)
 *   an action: kind:u8 | last << 7, units:u16, postRef:u8   (`last` set on a group's last action)
 * Actions name posts by their index among the references: 4 bytes an action instead of 11,
 * which the ledger's gas per action shows; a flag ends a group instead of a count byte.
 */

/** One ledger action: a kind, its units (basis points for Read-to-Earn, else a count) and its post. */
export interface LedgerAction {
  readonly kind: ActionKind;
  readonly units: number;
  readonly postId: bigint;
}

/** An action with the account it pays or charges. */
export interface AccountAction extends LedgerAction {
  readonly account: Address;
}

/** A post registered by a batch. */
export interface PostRegistration {
  readonly postId: bigint;
  readonly author: Address;
}

/** The actions of one account, applied together so the account is credited once. */
export interface AccountGroup {
  readonly account: Address;
  readonly actions: readonly LedgerAction[];
}

export interface PackedBatch {
  readonly posts: readonly PostRegistration[];
  readonly groups: readonly AccountGroup[];
}

/** An action as decoded from a settled batch, with its position among the batch's actions. */
export interface DecodedAction extends AccountAction {
  readonly actionIndex: number;
}

/** In an action's kind byte: set on the last action of its account's group. */
export const LAST_ACTION_FLAG = 0x80;
/** The most distinct posts one batch's actions may refer to. */
export const MAX_POST_REFS = 256;
export const MAX_COUNT_U16 = 0xffff;
const MAX_POST_ID = 2n ** 64n - 1n;

export class PackedActionsError extends Error {
  override name = "PackedActionsError";
}

function checkAction(action: LedgerAction): void {
  if (!isActionKind(action.kind)) throw new PackedActionsError(`unknown action kind ${action.kind}`);
  const maxUnits = action.kind === Kind.ReadToEarn ? BPS : MAX_COUNT_U16;
  if (!Number.isInteger(action.units) || action.units < 1 || action.units > maxUnits)
    throw new PackedActionsError(`units ${action.units} out of range 1..${maxUnits} for kind ${action.kind}`);
  // Its post id is checked among the batch's references, which hold every action's.
}

/**
 * Groups actions by account, in the order each account first appears, with each account's
 * mints before its burns (so a burn can draw on what the same batch pays the account).
 *
 * @example
 * groupByAccount([{ account, kind: ActionKind.LikesOwn, units: 1, postId: 7n }])
 */
export function groupByAccount(actions: readonly AccountAction[]): AccountGroup[] {
  const byAccount = new Map<string, { account: Address; mints: LedgerAction[]; burns: LedgerAction[] }>();
  for (const { account, kind, units, postId } of actions) {
    // Stryker disable next-line MethodExpression: toUpperCase would be as good a case-blind key.
    const key = account.toLowerCase();
    let entry = byAccount.get(key);
    if (entry === undefined) {
      entry = { account: getAddress(account), mints: [], burns: [] };
      byAccount.set(key, entry);
    }
    (kind < FIRST_BURN_KIND ? entry.mints : entry.burns).push({ kind, units, postId });
  }
  const groups: AccountGroup[] = [];
  for (const { account, mints, burns } of byAccount.values()) groups.push({ account, actions: [...mints, ...burns] });
  return groups;
}

/** The distinct posts a batch's actions refer to, in first-appearance order. */
export function postRefsOf(groups: readonly AccountGroup[]): bigint[] {
  const refs = new Set<bigint>();
  for (const group of groups) for (const action of group.actions) refs.add(action.postId);
  return [...refs];
}

/**
 * Encodes a batch's post registrations and account groups into the ledger's packed form.
 * Throws a PackedActionsError when the actions refer to more than 256 distinct posts (split
 * such a batch).
 *
 * @example
 * const packed = encodePackedActions({ posts: [], groups: groupByAccount(actions) })
 */
export function encodePackedActions(batch: PackedBatch): Hex {
  const { posts, groups } = batch;
  if (posts.length > MAX_COUNT_U16) throw new PackedActionsError(`too many posts: ${posts.length}`);
  if (groups.length > MAX_COUNT_U16) throw new PackedActionsError(`too many account groups: ${groups.length}`);
  const refs = postRefsOf(groups);
  if (refs.length > MAX_POST_REFS)
    throw new PackedActionsError(`the actions refer to ${refs.length} posts; a batch may refer to ${MAX_POST_REFS}`);
  const refIndex = new Map(refs.map((postId, index) => [postId, index]));
  let size = 2 + posts.length * 28 + 2 + refs.length * 8 + 2;
  for (const group of groups) size += 20 + group.actions.length * 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let offset = 0;
  view.setUint16(offset, posts.length);
  offset += 2;
  for (const { postId, author } of posts) {
    if (postId < 0n || postId > MAX_POST_ID) throw new PackedActionsError(`post id ${postId} is not a uint64`);
    view.setBigUint64(offset, postId);
    out.set(hexToBytes(getAddress(author)), offset + 8);
    offset += 28;
  }
  view.setUint16(offset, refs.length);
  offset += 2;
  for (const postId of refs) {
    if (postId < 0n || postId > MAX_POST_ID) throw new PackedActionsError(`post id ${postId} is not a uint64`);
    view.setBigUint64(offset, postId);
    offset += 8;
  }
  view.setUint16(offset, groups.length);
  offset += 2;
  for (const { account, actions } of groups) {
    if (actions.length < 1) throw new PackedActionsError(`the group of ${account} has no actions`);
    out.set(hexToBytes(getAddress(account)), offset);
    offset += 20;
    for (const [i, action] of actions.entries()) {
      checkAction(action);
      view.setUint8(offset, action.kind | (i === actions.length - 1 ? LAST_ACTION_FLAG : 0));
      view.setUint16(offset + 1, action.units);
      view.setUint8(offset + 3, refIndex.get(action.postId)!);
      offset += 4;
    }
  }
  return bytesToHex(out);
}

function addressAt(bytes: Uint8Array, offset: number): Address {
  return getAddress(bytesToHex(bytes.subarray(offset, offset + 20)));
}

/**
 * Decodes packed actions (from `settle`'s input or the `BatchSettled` event) into the posts
 * they register and every action with its account and index.
 *
 * @example
 * const { posts, actions } = decodePackedActions(log.args.actions)
 */
export function decodePackedActions(packed: Hex): {
  posts: PostRegistration[];
  actions: DecodedAction[];
} {
  const bytes = hexToBytes(packed);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (offset: number, length: number): void => {
    if (offset + length > bytes.length) throw new PackedActionsError(`packed actions end early at byte ${offset}`);
  };
  let offset = 0;
  need(offset, 2);
  const postCount = view.getUint16(offset);
  offset += 2;
  const posts: PostRegistration[] = [];
  for (let i = 0; i < postCount; i++) {
    need(offset, 28);
    posts.push({ postId: view.getBigUint64(offset), author: addressAt(bytes, offset + 8) });
    offset += 28;
  }
  need(offset, 2);
  const refCount = view.getUint16(offset);
  offset += 2;
  need(offset, refCount * 8);
  const refs: bigint[] = [];
  for (let i = 0; i < refCount; i++) refs.push(view.getBigUint64(offset + i * 8));
  offset += refCount * 8;
  need(offset, 2);
  const groupCount = view.getUint16(offset);
  offset += 2;
  const actions: DecodedAction[] = [];
  for (let g = 0; g < groupCount; g++) {
    need(offset, 20);
    const account = addressAt(bytes, offset);
    offset += 20;
    for (let last = false; !last;) {
      need(offset, 4);
      const kindByte = view.getUint8(offset);
      last = (kindByte & LAST_ACTION_FLAG) !== 0;
      const kind = kindByte & ~LAST_ACTION_FLAG;
      if (!isActionKind(kind)) throw new PackedActionsError(`unknown action kind ${kind} at byte ${offset}`);
      const postId = refs[view.getUint8(offset + 3)];
      if (postId === undefined) throw new PackedActionsError(`unknown post reference at byte ${offset + 3}`);
      actions.push({ actionIndex: actions.length, account, kind, units: view.getUint16(offset + 1), postId });
      offset += 4;
    }
  }
  if (offset !== bytes.length) throw new PackedActionsError(`packed actions run past byte ${offset}`);
  return { posts, actions };
}
