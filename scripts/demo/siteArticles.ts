import { ARTICLE } from "./scenario.js";

/**
 * The demo news site's articles (our own text). The critical-minerals article is the one the
 * demo's story happens on; the others are published by the same author when the site starts.
 */
export const SITE_ARTICLES = [
  { slug: ARTICLE.sitePostId, sitePostId: ARTICLE.sitePostId, title: ARTICLE.title, text: ARTICLE.text },
  {
    slug: "port-congestion-eases",
    sitePostId: "port-congestion-eases",
    title: "Port congestion eases, but freight rates lag behind",
    text: `Container ships are queuing less outside the big Asian and European ports than at any time in three
years. Terminal operators credit longer opening hours and better slot booking, and shipping lines have
added capacity that was ordered during the boom.

Freight rates have not followed the queues down. Carriers are sailing slower to save fuel and meet
emission rules, which soaks up ships, and insurers still price detours around contested straits. For
importers that means cheaper waiting but not yet cheaper boxes.`,
  },
  {
    slug: "grid-batteries-summer",
    sitePostId: "grid-batteries-summer",
    title: "Grid batteries carried the evening peak this summer",
    text: `For the first time, large battery parks supplied more power than gas plants during the early
evening peak on several hot days. They charged at midday, when solar output pushed prices close to zero,
and discharged as the sun set and air conditioners kept running.

Operators say the business case now rests on a handful of volatile hours a day. Regulators worry about
what happens in a long windless winter week, when no battery can store enough, and are asking for firm
capacity alongside the new storage.`,
  },
  {
    slug: "recycling-plant-opens",
    sitePostId: "recycling-plant-opens",
    title: "A battery recycling plant opens, waiting for batteries",
    text: `A new hydrometallurgical plant can recover lithium, nickel and cobalt from thirty thousand tonnes
of spent batteries a year. Today it will run mostly on factory scrap, because few electric cars are old
enough to be scrapped.

Its owners are betting on the next decade, when the first large wave of packs retires, and on rules that
require recycled content in new batteries.`,
  },
] as const;
