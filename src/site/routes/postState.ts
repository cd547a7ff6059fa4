import type { Router } from "express";
import type { Address } from "viem";
import { ActionKind } from "../../core/kinds.js";
import { amountJson } from "../../indexer/reports/reportJson.js";
import { utcDayOf } from "../../rules/policy.js";
import type { Json, SiteContext } from "../siteContext.js";
import { wordCount } from "../siteContext.js";
import { eventIds } from "../eventIds.js";
import type { Article } from "../siteConfig.js";

const DAY_MS = 86_400_000;

/** The reader's own part of the post's state: reading, vote, budget, purchases. */
async function readerState(ctx: SiteContext, article: Article, user: Address) {
  const readId = eventIds.read(article.slug, user);
  const reading = (await ctx.meter.peek(user, article.slug)) ?? {
    seconds: 0,
    secondsToRead: ctx.secondsToRead(article),
    complete: false,
  };
  const readStatus = await ctx.statusOf(await ctx.store.sentEvent(readId));
  let earned: ReturnType<typeof amountJson> | null = null;
  let indexer = true;
  if (readStatus?.state === "settled") {
    const report = await ctx.indexer(
      `/v1/posts/report?site=${ctx.config.siteId}&sitePostId=${encodeURIComponent(article.sitePostId)}&account=${user}`,
    );
    if (report === null) indexer = false;
    const wei = (report?.readToEarn as { wei?: string } | undefined)?.wei;
    if (wei !== undefined && wei !== "0") earned = amountJson(BigInt(wei));
  }

  const voteSent = await ctx.store.sentEvent(eventIds.vote(article.slug, user));
  const dayStartMs = utcDayOf(Math.floor(Date.now() / 1000)) * DAY_MS;
  const plusesToday = await ctx.store.acceptedPluses(user, dayStartMs, dayStartMs + DAY_MS);
  // The rules' daily like budget (policy version 3) counts the likes the relayer accepted on the
  // UTC day; this site sends every like of its readers, so its outbox holds that count.
  const maxLikes = ctx.config.policy.maxLikesPerUserPerDay;
  const likesToday = maxLikes === undefined ? 0 : await ctx.store.acceptedLikes(user, dayStartMs, dayStartMs + DAY_MS);

  const purchases = await ctx.store.sentEvents(user, "report", article.slug);
  let instances: Json[] = [];
  if (purchases.length > 0) {
    const answer = await ctx.indexer(`/v1/report-instances?postId=${ctx.chainPostId(article)}&buyer=${user}`);
    if (answer === null) indexer = false;
    instances = ((answer?.items as Json[] | undefined) ?? []).slice().reverse();
  }
  const used = new Set<string>();
  const bought = await Promise.all(
    purchases.map(async (sent) => {
      const status = await ctx.statusOf(sent);
      return { eventId: sent.eventId, status };
    }),
  );
  const reports = bought.map(({ eventId, status }) => {
    const instance =
      status?.state === "settled"
        ? instances.find((i) => i.batchId === status.batchId && !used.has(String(i.id)))
        : undefined;
    if (instance) used.add(String(instance.id));
    return { eventId, status, instance: instance ?? null };
  });

  // The newcomer hold keeps this reader's reads until they come back another day: null when it does not.
  const newcomer = readStatus ? null : await ctx.newcomers.of(user, Date.now());

  return {
    indexer,
    reader: {
      read: { ...reading, status: readStatus ?? null, earned },
      newcomer,
      vote: voteSent ? { vote: voteSent.detail, status: await ctx.statusOf(voteSent) } : null,
      plusesLeft: Math.max(0, ctx.config.policy.maxPlusesPerUserPerDay - plusesToday),
      /** null: the policy has no daily like budget (before version 3). */
      likesLeft: maxLikes === undefined ? null : Math.max(0, maxLikes - likesToday),
      reports,
    },
  };
}

/** Pluses and minuses settled on the post (the indexer's report: a minus counts paid or not). */
async function voteCounts(ctx: SiteContext, article: Article): Promise<{ pluses: number; minuses: number } | null> {
  const report = await ctx.indexer(
    `/v1/posts/report?site=${ctx.config.siteId}&sitePostId=${encodeURIComponent(article.sitePostId)}`,
  );
  const lines = report?.lines as { kind: number; count: number; shortfall: { count: number } }[] | undefined;
  if (!lines) return null;
  const line = (kind: ActionKind) => lines.find((l) => l.kind === kind);
  const minus = line(ActionKind.SpentForMinuses);
  return {
    pluses: line(ActionKind.EarnedForPluses)?.count ?? 0,
    minuses: (minus?.count ?? 0) + (minus?.shortfall.count ?? 0),
  };
}

/** What a reader's actions cost under the rule set in force (the relayer's `GET /v1/rules`), or null. */
async function pricesOf(ctx: SiteContext) {
  const rules = await ctx.rules();
  const kinds = (rules?.current as { kinds?: { kind: number; amount: string }[] } | undefined)?.kinds;
  if (!kinds) return null;
  const price = (kind: ActionKind) => {
    const amount = kinds.find((k) => k.kind === kind)?.amount;
    return amount === undefined ? null : amountJson(BigInt(amount));
  };
  return {
    comment: price(ActionKind.CommentTributes),
    minus: price(ActionKind.SpentForMinuses),
    dislike: price(ActionKind.DislikesOwn),
  };
}

/** `GET /posts/:slug`: everything the widget shows for the post, for the signed-in reader if any. */
export function postStateRoutes(router: Router, ctx: SiteContext): void {
  router.get("/posts/:slug", async (req, res) => {
    const article = ctx.article(req.params.slug as string);
    const user = await ctx.sessions.user(req);
    ctx.limit(req, user);
    // Asked at once, beside the reader's own state: neither waits for the other.
    const extras = Promise.all([voteCounts(ctx, article), pricesOf(ctx)]);
    await ctx.ready;
    const me = user ? await ctx.user(user) : null;
    // Asked of the relayer itself: a signed-in reader's cached account must not hide an outage.
    const relayerUp = await ctx.reachable(ctx.config.relayerUrl);
    const comments = await Promise.all(
      // Visible comments, and the reader's own whatever their status (held or hidden: nobody else sees them).
      (await ctx.store.comments(article.slug, user ? { viewer: user } : {})).map(async (c) => {
        const info = await ctx.user(c.author);
        const sent = c.eventId ? await ctx.store.sentEvent(c.eventId) : undefined;
        const status = !c.eventId
          ? { state: "settled" }
          : sent
            ? await ctx.statusOf(sent)
            : { state: "pending", message: c.status === "held" ? "held for moderation" : "being sent" };
        const mine = user ? await ctx.store.sentEvent(eventIds.reaction(c.commentId, user)) : undefined;
        return {
          commentId: c.commentId,
          author: c.author,
          name: ctx.nameOf(c.author),
          level: (info?.level as number | undefined) ?? null,
          text: c.text,
          createdAt: new Date(c.createdAt).toISOString(),
          likes: c.likes,
          dislikes: c.dislikes,
          status,
          mine: user === c.author,
          // held: in the moderation window; hidden: by a moderator (only its author sees either).
          moderation: c.status === "visible" ? null : c.status,
          myReaction: mine ? { reaction: mine.detail, status: await ctx.statusOf(mine) } : null,
        };
      }),
    );
    const own = user ? await readerState(ctx, article, user) : null;
    const personhood = ctx.config.policy.personhood
      ? {
          // Whether the site attests its readers itself (POST /personhood/attest), else whom it trusts.
          siteAttests: ctx.config.attester !== undefined,
          attesters: ctx.config.policy.personhood.attesters,
          // The signed-in reader holds a valid attestation: true, false, or null when unknown.
          attested: user
            ? await ctx.personhood.of(user).then((uid) => (uid === undefined ? null : uid !== null))
            : null,
        }
      : null;
    const indexerUp = (own ? own.indexer : true) && (await ctx.reachable(ctx.config.indexerUrl));
    const [votes, prices] = await extras;
    res.json({
      post: {
        slug: article.slug,
        title: article.title,
        date: article.date,
        words: wordCount(article),
        secondsToRead: ctx.secondsToRead(article),
        author: ctx.nameOf(article.author),
        pluses: votes?.pluses ?? null,
        minuses: votes?.minuses ?? null,
      },
      rules: {
        commentToEarnMinLevel: ctx.config.policy.commentToEarnMinLevel,
        maxPlusesPerUserPerDay: ctx.config.policy.maxPlusesPerUserPerDay,
        maxLikesPerUserPerDay: ctx.config.policy.maxLikesPerUserPerDay ?? null,
        minCommentLength: ctx.config.policy.minCommentLength,
        version: ctx.config.policy.version,
      },
      // Proof of personhood, when the site's policy requires it for earning; null otherwise.
      personhood,
      reportPrice: amountJson(ctx.config.reportPriceWei),
      prices,
      services: { relayer: relayerUp ? "ok" : "unreachable", indexer: indexerUp ? "ok" : "unreachable" },
      user: user
        ? {
            address: user,
            name: ctx.nameOf(user),
            level: (me?.level as number | undefined) ?? null,
            balance: (me?.balance as string | undefined) ?? null,
            allowance: (me?.allowance as string | undefined) ?? null,
          }
        : null,
      reader: own?.reader ?? null,
      comments,
      links: { relayer: ctx.config.relayerUrl, indexer: ctx.config.indexerUrl },
    });
  });
}
