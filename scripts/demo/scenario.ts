import type { Address } from "viem";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";

/**
 * The demo's story, as data: who does what on the site, with every number the reports depend
 * on. `playDemoScenario` sends it through the SDK; the end-to-end test computes the expected
 * report lines from these numbers and the rule amounts on its own.
 */

/** The article the author publishes (our own text; its word count sets the time to read it). */
export const ARTICLE = {
  sitePostId: "critical-minerals-supply-chains",
  title: "Who really controls the critical-mineral supply chain?",
  text: `Lithium, cobalt, nickel, graphite and the rare earths have become the quiet backbone of the
energy transition. A single electric-car battery needs around eight kilograms of lithium, thirty-five
of nickel and fourteen of cobalt, and a wind turbine's permanent magnets need neodymium and dysprosium
that few countries refine. Mining is spread across continents: lithium brines in Chile and Argentina,
hard rock in Australia, cobalt in the Democratic Republic of the Congo, nickel in Indonesia. Processing
is not. More than half of the world's lithium chemicals, about three quarters of its refined cobalt and
nearly all of its rare-earth magnets come from one country's plants. That concentration, not the
geology, is the bottleneck. Export licences on gallium and graphite have already shown how quickly a
midstream chokepoint becomes a price shock downstream. The answers on the table are slow and
expensive: new refineries in friendlier jurisdictions, long-term offtake contracts, strategic
stockpiles, and recycling that recovers metals from spent batteries. None of them works alone.
Diversifying refining takes a decade of permits, skilled labour and patient capital, and recycling
only scales once today's batteries reach the end of their lives. Until then, the supply chain is
only as resilient as its narrowest link, and that link sits in the middle, not in the mine.`,
} as const;

/** The article's word count, as the site reports it. */
export const ARTICLE_WORDS = ARTICLE.text.split(/\s+/).filter(Boolean).length;

/** The launch post the site's editor publishes for free under the launch rule set. */
export const WELCOME_POST = { sitePostId: "welcome-to-the-minerals-desk", wordCount: 150 } as const;

/** The demo's people: Hardhat dev accounts 3 to 11 (dev keys, never for real funds). */
export const PEOPLE = {
  editor: { name: "Edda (site editor)", index: 3 },
  author: { name: "Amara (author)", index: 4 },
  // The seed page's five commenters (shared/seed-page.md).
  r1: { name: "Africa", index: 5 },
  r2: { name: "Bermudez", index: 6 },
  r3: { name: "ZmeeLove", index: 7 },
  r4: { name: "Habibi", index: 8 },
  r5: { name: "Muchacho (new reader)", index: 9 },
  r6: { name: "Goran (skimmer)", index: 10 },
} as const;

export type Person = keyof typeof PEOPLE;

export const addressOf = (person: Person): Address => hardhatAccount(PEOPLE[person].index).address;
export const accountOf = (person: Person) => hardhatAccount(PEOPLE[person].index);

/** Who reads the welcome post in full during the launch (they reach level 13+ that way). */
export const LAUNCH_READERS: readonly Person[] = ["author", "r1", "r2", "r3", "r4"];

/** Seconds each reader spends on the article (its time to read is ARTICLE_WORDS × 60 / 200 s). */
export const ARTICLE_READS: ReadonlyArray<{ person: Person; seconds: number }> = [
  { person: "r1", seconds: 64 },
  { person: "r2", seconds: 48 },
  { person: "r3", seconds: 32 },
  { person: "r4", seconds: 300 },
  { person: "r5", seconds: 20 },
  { person: "r6", seconds: 8 },
];

export const VOTES: ReadonlyArray<{ person: Person; vote: "plus" | "minus" }> = [
  { person: "r1", vote: "plus" },
  { person: "r2", vote: "plus" },
  { person: "r3", vote: "plus" },
  { person: "r4", vote: "minus" },
  { person: "r5", vote: "plus" },
];

/** The seed page's five comments, their gists in the commenters' own words. */
export const COMMENTS: ReadonlyArray<{ person: Person; commentId: string; text: string }> = [
  {
    person: "r1",
    commentId: "c-africa",
    text: "Honestly, the money on the table is too little to matter next to what one country already spends on refining.",
  },
  {
    person: "r2",
    commentId: "c-bermudez",
    text: "Securing these materials for clean energy has to be the priority, whatever it costs in the short run.",
  },
  {
    person: "r3",
    commentId: "c-zmeelove",
    text: "Diversifying is the right call, but it is slow: a decade of permits before one new refinery runs.",
  },
  {
    person: "r4",
    commentId: "c-habibi",
    text: "Export controls and new alliances may backfire: they invite the very retaliation they mean to deter.",
  },
  {
    person: "r5",
    commentId: "c-muchacho",
    text: "The investment is insurance: it protects us against the next supply shock, and that is worth paying for.",
  },
];

export const REACTIONS: ReadonlyArray<{ person: Person; commentId: string; reaction: "like" | "dislike" }> = [
  { person: "r2", commentId: "c-africa", reaction: "like" },
  { person: "r3", commentId: "c-africa", reaction: "like" },
  { person: "r1", commentId: "c-bermudez", reaction: "like" },
  { person: "r4", commentId: "c-zmeelove", reaction: "dislike" },
  { person: "r5", commentId: "c-habibi", reaction: "like" },
  { person: "author", commentId: "c-muchacho", reaction: "like" },
  { person: "r1", commentId: "c-muchacho", reaction: "dislike" },
];

/** Who buys a PnL report of the article. */
export const REPORT_BUYER: Person = "r3";

/** The reader whose report the demo prints beside the author's. */
export const REPORTED_READER: Person = "r3";

/** Everyone who pays a tribute, and so signs a permit for the ledger. */
export const SPENDERS: readonly Person[] = ["author", "r1", "r2", "r3", "r4", "r5"];

/** How much each spender lets the ledger burn (EIP-2612 permit, submitted gaslessly by the relayer). */
export const PERMIT_TWEI = "50";

/** One step of the story: a caption and the site events it sends in one signed envelope. */
export interface DemoStep {
  readonly caption: string;
  readonly events: readonly SiteEventInput[];
}

/** The events of each step, in order (event ids are stable, so a replay is a duplicate). */
export function demoSteps(startTime: number): { launch: DemoStep[]; article: DemoStep[] } {
  let clock = startTime;
  const at = () => (clock += 7);
  const user = addressOf;
  const post = ARTICLE.sitePostId;
  return {
    launch: [
      {
        caption: `${PEOPLE.editor.name} publishes the launch post "${WELCOME_POST.sitePostId}" (free under the launch rules)`,
        events: [
          {
            eventId: "launch-publish",
            type: "post_published",
            occurredAt: at(),
            user: user("editor"),
            postId: WELCOME_POST.sitePostId,
            wordCount: WELCOME_POST.wordCount,
          },
        ],
      },
      {
        caption: `${LAUNCH_READERS.length} early users read the launch post in full (100 Twei each under the launch rules)`,
        events: LAUNCH_READERS.map((person) => ({
          eventId: `launch-read-${person}`,
          type: "post_read" as const,
          occurredAt: at(),
          user: user(person),
          postId: WELCOME_POST.sitePostId,
          secondsRead: 60,
        })),
      },
    ],
    article: [
      {
        caption: `${PEOPLE.author.name} publishes "${ARTICLE.title}" (${ARTICLE_WORDS} words)`,
        events: [
          {
            eventId: "publish-article",
            type: "post_published",
            occurredAt: at(),
            user: user("author"),
            postId: post,
            wordCount: ARTICLE_WORDS,
          },
        ],
      },
      {
        caption: "readers read the article for different lengths of time, and vote on it",
        events: [
          ...ARTICLE_READS.map(({ person, seconds }) => ({
            eventId: `read-${person}`,
            type: "post_read" as const,
            occurredAt: at(),
            user: user(person),
            postId: post,
            secondsRead: seconds,
          })),
          ...VOTES.map(({ person, vote }) => ({
            eventId: `${vote}-${person}`,
            type: vote === "plus" ? ("post_plus" as const) : ("post_minus" as const),
            occurredAt: at(),
            user: user(person),
            postId: post,
          })),
        ],
      },
      {
        caption: `${COMMENTS.length} readers comment`,
        events: COMMENTS.map(({ person, commentId, text }) => ({
          eventId: `comment-${commentId}`,
          type: "comment_created" as const,
          occurredAt: at(),
          user: user(person),
          postId: post,
          commentId,
          length: text.length,
        })),
      },
      {
        caption: "they like and dislike each other's comments",
        events: REACTIONS.map(({ person, commentId, reaction }) => ({
          eventId: `${reaction}-${commentId}-${person}`,
          type: reaction === "like" ? ("comment_liked" as const) : ("comment_disliked" as const),
          occurredAt: at(),
          user: user(person),
          postId: post,
          commentId,
        })),
      },
      {
        caption: `${PEOPLE[REPORT_BUYER].name} buys a PnL report of the article`,
        events: [
          {
            eventId: `report-${REPORT_BUYER}`,
            type: "report_purchased",
            occurredAt: at(),
            user: user(REPORT_BUYER),
            postId: post,
          },
        ],
      },
    ],
  };
}
