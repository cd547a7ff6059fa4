/** The site backend's answers, as the widget reads them (see src/site/routes/postState.ts). */
export interface Amount {
  wei: string;
  twei: string;
}
export interface ActionStatus {
  state: "pending" | "settled" | "rejected" | "failed" | "unknown";
  code?: string;
  message?: string;
  txHash?: string;
  blockNumber?: string;
  batchId?: string;
}
export interface InstanceLine {
  kind: number;
  label: string;
  amount: string;
}
export interface ReportInstance {
  id: string;
  block: { number: string; hash: string };
  contentHash: string;
  content: {
    lines: InstanceLine[];
    profitSubtotal: string;
    lossSubtotal: string;
    totalEarned: string;
    readToEarn: string;
  };
}
export interface PostComment {
  commentId: string;
  author: string;
  name: string;
  level: number | null;
  text: string;
  /** ISO 8601. */
  createdAt: string;
  likes: number;
  dislikes: number;
  status: ActionStatus;
  mine: boolean;
  myReaction: { reaction: string; status: ActionStatus } | null;
}
export interface PostState {
  post: {
    slug: string;
    title: string;
    date: string;
    words: number;
    secondsToRead: number;
    author: string;
    /** Settled on the post; null when the indexer cannot say. */
    pluses: number | null;
    minuses: number | null;
  };
  rules: {
    commentToEarnMinLevel: number;
    maxPlusesPerUserPerDay: number;
    /** null: no daily like budget (a policy before version 3). */
    maxLikesPerUserPerDay: number | null;
    minCommentLength: number;
    version: number;
  };
  /** Proof of personhood, when the site's policy requires it for earning; null otherwise. */
  personhood: { siteAttests: boolean; attesters: string[]; attested: boolean | null } | null;
  reportPrice: Amount;
  /** What the reader's actions cost now (the rule set in force); null when the relayer cannot say. */
  prices: { comment: Amount | null; minus: Amount | null; dislike: Amount | null } | null;
  services: { relayer: "ok" | "unreachable"; indexer: "ok" | "unreachable" };
  user: {
    address: string;
    name: string;
    level: number | null;
    balance: string | null;
    allowance: string | null;
  } | null;
  reader: {
    read: {
      seconds: number;
      secondsToRead: number;
      complete: boolean;
      status: ActionStatus | null;
      earned: Amount | null;
    };
    /** The site's newcomer hold keeps this reader's reads until they come back another day; null when it does not. */
    newcomer: { readingDays: number; readingDaysNeeded: number } | null;
    vote: { vote: string; status: ActionStatus } | null;
    plusesLeft: number;
    /** Likes the reader may still give today; null without a daily like budget. */
    likesLeft: number | null;
    reports: Array<{ eventId: string; status: ActionStatus; instance: ReportInstance | null }>;
  } | null;
  comments: PostComment[];
  links: { relayer: string; indexer: string };
}
export interface SiteConfig {
  siteId: number;
  chainId: number;
  token: string;
  ledger: string;
  heartbeatMs: number;
  demoWallet: Array<{ address: string; name: string }> | null;
}
