import { isAddressEqual, zeroAddress, type Address } from "viem";
import { ActionKind, isActionKind, kindInfo } from "../core/kinds.js";
import type { AccountAction, PostRegistration } from "../core/packedActions.js";

/** The kinds the post's author may not do on their own post (the ledger's `TweiLedgerSelfAction`). */
const NOT_BY_AUTHOR: ReadonlySet<number> = new Set([ActionKind.ReadToEarn, ActionKind.SpentForMinuses]);

/**
 * What the ledger would refuse of an event's actions, checked before the event is accepted, so
 * that it is refused at the door with a reason instead of failing at settlement: a zero
 * address, an unknown kind, units outside 1..the bound of the rule set in force (`maxUnits`, as
 * the ledger's `settle` reads them: a bound of 0 disables the kind), an author-directed action
 * to someone else than the post's author, or a read or minus of one's own post. Undefined when
 * the ledger accepts them. Pure.
 *
 * @example
 * const refusal = ledgerRefusal({ actions, registers, maxUnits: ruleSet.maxUnits, authorOf: (postId) => author })
 * if (refusal) reject("ledger_refuses", refusal)
 */
export function ledgerRefusal(parameters: {
  readonly actions: readonly AccountAction[];
  readonly registers?: PostRegistration | undefined;
  /** The unit bound per kind of the rule set the event is priced under (the ledger's `maxUnits`). */
  readonly maxUnits: readonly number[];
  /** The author of the post an action names (the registering event's own author for its post). */
  readonly authorOf: (postId: bigint) => Address | undefined;
}): string | undefined {
  const { actions, registers } = parameters;
  if (registers && isAddressEqual(registers.author, zeroAddress)) return "the post's author is the zero address";
  const authorOf = (postId: bigint) =>
    registers && registers.postId === postId ? registers.author : parameters.authorOf(postId);
  for (const [index, action] of actions.entries()) {
    const where = `action ${index}`;
    if (isAddressEqual(action.account, zeroAddress)) return `${where} names the zero address`;
    if (!isActionKind(action.kind)) return `${where} has the unknown kind ${action.kind}`;
    const bound = parameters.maxUnits[action.kind] ?? 0;
    if (bound === 0) return `${where} (${kindInfo(action.kind).label}) is a kind the rule set in force disables`;
    if (!Number.isInteger(action.units) || action.units < 1 || action.units > bound)
      return `${where} (${kindInfo(action.kind).label}) has ${action.units} units, outside 1..${bound} (the rule set in force's bound)`;
    const author = authorOf(action.postId);
    if (author === undefined) return `${where} names a post that is not registered`;
    if (kindInfo(action.kind).toAuthor && !isAddressEqual(action.account, author))
      return `${where} (${kindInfo(action.kind).label}) pays someone else than the post's author`;
    if (NOT_BY_AUTHOR.has(action.kind) && isAddressEqual(action.account, author))
      return `${where} (${kindInfo(action.kind).label}) is the post's author's own`;
  }
  return undefined;
}
