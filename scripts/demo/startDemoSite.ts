import { join } from "node:path";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { startSite, type Site } from "../../src/site/createSite.js";
import type { Article, SiteConfig } from "../../src/site/siteConfig.js";
import { wordCount } from "../../src/site/siteContext.js";
import { addressOf, ARTICLE, COMMENTS, PEOPLE, REACTIONS, type Person } from "./scenario.js";
import { SITE_ARTICLES } from "./siteArticles.js";
import { DEMO_SITE_ID, type DemoStack } from "./startDemoStack.js";

/** Readers who have never used the site: the demo wallet's fresh accounts (Hardhat dev accounts 12 to 14). */
export const FRESH_READERS = [
  { name: "Ines (new reader)", index: 12 },
  { name: "Jonas (new reader)", index: 13 },
  { name: "Kim (new reader)", index: 14 },
] as const;

export interface DemoSiteOptions {
  readonly port?: number;
  /** Measured reading seconds per real second (tests only; a local chain only). */
  readonly clockRate?: number;
  readonly heartbeatMs?: number;
  readonly say?: (line: string) => void;
  /** Replaces parts of the site's configuration (tests: an unreachable relayer or indexer). */
  readonly overrides?: Partial<SiteConfig>;
  /**
   * The newcomer hold (src/site/core/newcomerHold.ts): off by default in the demo, so the demo
   * wallet's fresh readers are paid for their first read; `true` for the kit's default (a new
   * account is paid from its second day of reading).
   */
  readonly newcomerHold?: boolean;
  /** Whether to publish the site's other articles (once per stack). */
  readonly publish?: boolean;
}

/**
 * Starts the demo news site on a running demo stack whose story was played: the author
 * publishes the site's other articles through the SDK, and the site serves them all with the
 * widget, the story's comments and the demo wallet (the fresh readers and two of the story's).
 *
 * @example
 * const site = await startDemoSite(stack); console.log(site.url)
 */
export async function startDemoSite(stack: DemoStack, options: DemoSiteOptions = {}): Promise<Site> {
  const author = addressOf("author");
  const today = new Date().toISOString().slice(0, 10);
  const articles: Article[] = SITE_ARTICLES.map((a) => ({ ...a, author, date: today }));
  const fresh = articles.filter((a) => a.sitePostId !== ARTICLE.sitePostId);
  const now = Math.floor(Date.now() / 1000);
  if (options.publish !== false) {
    await stack.client.sendEvents(
      fresh.map((a) => ({
        eventId: `site-publish-${a.sitePostId}`,
        type: "post_published" as const,
        occurredAt: now,
        user: author,
        postId: a.sitePostId,
        wordCount: wordCount(a),
      })),
    );
    options.say?.(`the author published ${fresh.length} more articles for the site`);
  }

  const names = new Map<string, string>();
  for (const [key, person] of Object.entries(PEOPLE)) names.set(addressOf(key as Person).toLowerCase(), person.name);
  for (const r of FRESH_READERS) names.set(hardhatAccount(r.index).address.toLowerCase(), r.name);
  const count = (commentId: string, reaction: "like" | "dislike") =>
    REACTIONS.filter((r) => r.commentId === commentId && r.reaction === reaction).length;

  const config: Parameters<typeof startSite>[0] = {
    siteName: "The Minerals Desk",
    articles,
    comments: COMMENTS.map((c) => ({
      commentId: c.commentId,
      slug: ARTICLE.sitePostId,
      author: addressOf(c.person),
      text: c.text,
      likes: count(c.commentId, "like"),
      dislikes: count(c.commentId, "dislike"),
    })),
    names,
    twei: stack.client,
    siteId: DEMO_SITE_ID,
    chainId: stack.deployment.chainId,
    token: stack.deployment.token,
    ledger: stack.deployment.ledger,
    publicClient: stack.publicClient,
    relayerUrl: stack.relayerUrl,
    indexerUrl: stack.indexerUrl,
    policy: stack.policy,
    // The site's personhood index starts where EAS was deployed, as the relayer's does.
    ...(stack.deployment.eas?.deployedAtBlock === undefined
      ? {}
      : { personhoodFromBlock: stack.deployment.eas.deployedAtBlock }),
    // With proof of personhood on, the site attests its signed-in readers who ask ("Verify I'm a person").
    ...(stack.attester ? { attester: { walletClient: stack.attester } } : {}),
    reportPriceWei: DEFAULT_RULE_AMOUNTS[ActionKind.PnLReports] ?? 0n,
    reading: { heartbeatMs: options.heartbeatMs ?? 5_000, clockRate: options.clockRate ?? 1 },
    ...(options.newcomerHold === true ? {} : { newcomerHold: false as const }),
    demoWallet: [
      ...FRESH_READERS.map((r) => ({ name: r.name, account: hardhatAccount(r.index) })),
      { name: `${PEOPLE.r1.name} (LVL 13+)`, account: hardhatAccount(PEOPLE.r1.index) },
    ],
    // The site kit's state (sessions, meters, sent events, comments) next to the stack's databases.
    databasePath: join(stack.dataDir, "site.sqlite"),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...options.overrides,
  };
  return startSite(config);
}
