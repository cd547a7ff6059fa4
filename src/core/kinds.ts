/**
 * The ledger's 13 action kinds, in the order of the PnL report. The numeric values are the
 * on-chain kind ids (see contracts/interfaces/ITweiLedger.sol).
 */
export const ActionKind = {
  ReadToEarn: 0,
  EarnedForPluses: 1,
  CommentRewards: 2,
  LikesOwn: 3,
  LikesCommenter: 4,
  LikesAuthor: 5,
  DislikesAuthor: 6,
  SpentForMinuses: 7,
  CommentTributes: 8,
  DislikesOwn: 9,
  DislikesCommenter: 10,
  PostPublishTribute: 11,
  PnLReports: 12,
} as const;

export type ActionKind = (typeof ActionKind)[keyof typeof ActionKind];

export const KIND_COUNT = 13;

/** Read-to-Earn units are basis points of a full read. */
export const BPS = 10_000;

/** The first burn kind: kinds below it mint, kinds from it burn. */
export const FIRST_BURN_KIND = ActionKind.SpentForMinuses;

export type KindSection = "earned" | "profit" | "loss";

export interface KindInfo {
  readonly kind: ActionKind;
  /** The line's name in the PnL report. */
  readonly label: string;
  readonly section: KindSection;
  readonly direction: "mint" | "burn";
  /** Paid to or taken from the post's author, who must be the action's account. */
  readonly toAuthor: boolean;
}

const info = (kind: ActionKind, label: string, section: KindSection, toAuthor = false): KindInfo => ({
  kind,
  label,
  section,
  direction: kind < FIRST_BURN_KIND ? "mint" : "burn",
  toAuthor,
});

/** Every kind, indexed by its id. */
export const KINDS: readonly KindInfo[] = [
  info(ActionKind.ReadToEarn, "Read-to-Earn", "earned"),
  info(ActionKind.EarnedForPluses, "Earned for Pluses", "profit", true),
  info(ActionKind.CommentRewards, "Comment Rewards", "profit"),
  info(ActionKind.LikesOwn, "Likes Own", "profit"),
  info(ActionKind.LikesCommenter, "Likes Commenter", "profit"),
  info(ActionKind.LikesAuthor, "Likes Author", "profit", true),
  info(ActionKind.DislikesAuthor, "Dislikes Author", "profit", true),
  info(ActionKind.SpentForMinuses, "Spent for Minuses", "loss"),
  info(ActionKind.CommentTributes, "Comment Tributes", "loss"),
  info(ActionKind.DislikesOwn, "Dislikes Own", "loss"),
  info(ActionKind.DislikesCommenter, "Dislikes Commenter", "loss"),
  info(ActionKind.PostPublishTribute, "Post Publish Tribute", "loss", true),
  info(ActionKind.PnLReports, "PnL Reports", "loss"),
];

export function isActionKind(value: number): value is ActionKind {
  return Number.isInteger(value) && value >= 0 && value < KIND_COUNT;
}

export function kindInfo(kind: ActionKind): KindInfo {
  const found = KINDS[kind];
  if (found === undefined) throw new RangeError(`unknown action kind ${kind}`);
  return found;
}
