import type { Router } from "express";
import { z } from "zod";
import { HttpProblem, parseInput } from "../../http/problem.js";
import { sendSiteEvent } from "../sendSiteEvent.js";
import type { SiteContext } from "../siteContext.js";
import { eventIds, freshId } from "../eventIds.js";

const voteBody = z.strictObject({ vote: z.enum(["plus", "minus"]) });
const commentBody = z.strictObject({ text: z.string().trim().min(1).max(2_000) });
const reactionBody = z.strictObject({ reaction: z.enum(["like", "dislike"]) });

const now = () => Math.floor(Date.now() / 1000);

/**
 * The reader's actions on a post: each is one site event, signed by the site and sent through
 * the SDK for the signed-in address only. The answer is the relayer's (accepted or rejected
 * with the rules' code); settlement is followed by the post's state. Every claim on an event id
 * is the store's (sendSiteEvent), so two site processes never send one action twice.
 */
export function postActionRoutes(router: Router, ctx: SiteContext): void {
  const { twei } = ctx.config;
  const windowMs = ctx.config.moderation?.windowMs ?? 0;

  router.post("/posts/:slug/vote", async (req, res) => {
    const user = await ctx.sessions.require(req);
    ctx.limit(req, user);
    const article = ctx.article(req.params.slug as string);
    const { vote } = parseInput(voteBody, req.body, "body");
    const eventId = eventIds.vote(article.slug, user);
    const earlier = await ctx.store.sentEvent(eventId);
    if (earlier?.answer === "accepted") throw new HttpProblem(409, "already_voted", "You voted on this post already");
    const sent = await sendSiteEvent(
      twei,
      ctx.store,
      {
        eventId,
        type: vote === "plus" ? "post_plus" : "post_minus",
        occurredAt: now(),
        user,
        postId: article.sitePostId,
      },
      { kind: "vote", slug: article.slug, detail: vote },
    );
    res.json(sent);
  });

  router.post("/posts/:slug/comments", async (req, res) => {
    const user = await ctx.sessions.require(req);
    ctx.limit(req, user);
    const article = ctx.article(req.params.slug as string);
    const { text } = parseInput(commentBody, req.body, "body");
    // A comment costs the Comment Tribute: nobody pays it for a throwaway ("ok"). The bar is the
    // length that can earn Comment Rewards, so every comment the site takes could earn.
    const min = ctx.config.policy.minCommentLength;
    if ([...text.trim()].length < min)
      throw new HttpProblem(422, "comment_too_short", `A comment needs at least ${min} characters`, {
        detail: `this one has ${[...text.trim()].length}`,
      });
    const commentId = `c-${freshId()}`;
    const eventId = eventIds.comment(commentId);
    const comment = { commentId, slug: article.slug, author: user, text, createdAt: Date.now(), eventId };
    if (windowMs > 0) {
      // Held for the moderation window: its author sees it, nobody else; comment_created goes out
      // when the window passes (releaseHeldComments), never for a comment hidden before that.
      await ctx.store.insertComment({ ...comment, status: "held" });
      res.json({ commentId, held: true, releaseAt: new Date(comment.createdAt + windowMs).toISOString() });
      return;
    }
    const sent = await sendSiteEvent(
      twei,
      ctx.store,
      {
        eventId,
        type: "comment_created",
        occurredAt: now(),
        user,
        postId: article.sitePostId,
        commentId,
        length: [...text].length,
      },
      { kind: "comment", slug: article.slug },
    );
    if (sent.answer === "accepted") await ctx.store.insertComment({ ...comment, status: "visible" });
    res.json({ ...sent, commentId });
  });

  router.post("/posts/:slug/comments/:commentId/reaction", async (req, res) => {
    const user = await ctx.sessions.require(req);
    ctx.limit(req, user);
    const article = ctx.article(req.params.slug as string);
    const comment = await ctx.store.comment(req.params.commentId as string);
    // A held or hidden comment is not there for anyone but its author: nobody reacts to it.
    if (!comment || comment.slug !== article.slug || comment.status !== "visible")
      throw new HttpProblem(404, "comment_not_found", "No such comment on this post");
    const { reaction } = parseInput(reactionBody, req.body, "body");
    const eventId = eventIds.reaction(comment.commentId, user);
    if ((await ctx.store.sentEvent(eventId))?.answer === "accepted")
      throw new HttpProblem(409, "already_reacted", "You liked or disliked this comment already");
    const sent = await sendSiteEvent(
      twei,
      ctx.store,
      {
        eventId,
        type: reaction === "like" ? "comment_liked" : "comment_disliked",
        occurredAt: now(),
        user,
        postId: article.sitePostId,
        commentId: comment.commentId,
      },
      { kind: "reaction", slug: article.slug, detail: reaction },
    );
    if (sent.answer === "accepted") await ctx.store.react(comment.commentId, user, reaction, sent.sentAt);
    res.json(sent);
  });

  router.post("/posts/:slug/report", async (req, res) => {
    const user = await ctx.sessions.require(req);
    ctx.limit(req, user);
    const article = ctx.article(req.params.slug as string);
    const eventId = eventIds.report(article.slug, user, freshId());
    const sent = await sendSiteEvent(
      twei,
      ctx.store,
      {
        eventId,
        type: "report_purchased",
        occurredAt: now(),
        user,
        postId: article.sitePostId,
      },
      { kind: "report", slug: article.slug },
    );
    res.json(sent);
  });
}
