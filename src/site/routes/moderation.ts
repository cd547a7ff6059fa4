import { createHash, timingSafeEqual } from "node:crypto";
import type { Request, Router } from "express";
import { z } from "zod";
import { HttpProblem, parseInput } from "../../http/problem.js";
import type { SiteContext } from "../siteContext.js";

const actionBody = z.strictObject({ action: z.enum(["hide", "restore"]) });
const digest = (key: string) => createHash("sha256").update(key).digest();

/**
 * Moderation the way comment platforms do it: a moderator (with an API key of theirs, from the
 * site's configuration, sent as `Authorization: Bearer <key>`) hides a comment or restores it.
 * A hidden comment is shown to no one but its author and takes no reactions. Hidden within the
 * moderation window, its comment_created is never sent (it never earns); restored, it is held
 * again until the window passes. Codes: 401 `moderator_key_required`, 403 `moderator_key_invalid`,
 * 404 `comment_not_found`.
 */
export function moderationRoutes(router: Router, ctx: SiteContext): void {
  const keys = (ctx.config.moderation?.keys ?? []).map(digest);
  const requireModerator = (req: Request) => {
    const key = /^Bearer (\S{1,200})$/.exec(req.headers.authorization ?? "")?.[1];
    if (!key)
      throw new HttpProblem(401, "moderator_key_required", "A moderator's API key is required", {
        detail: "send Authorization: Bearer <key>",
      });
    const given = digest(key);
    // Every key is compared (in constant time each), so the answer's timing says nothing about which.
    if (!keys.map((k) => timingSafeEqual(k, given)).includes(true))
      throw new HttpProblem(403, "moderator_key_invalid", "This is not a moderator's key");
  };

  router.post("/moderation/comments/:commentId", async (req, res) => {
    ctx.limit(req);
    requireModerator(req);
    const { action } = parseInput(actionBody, req.body, "body");
    const comment = await ctx.store.comment(req.params.commentId as string);
    if (!comment) throw new HttpProblem(404, "comment_not_found", "No such comment");
    let status: "visible" | "held" | "hidden" = "hidden";
    if (action === "restore") {
      // Never sent (hidden within its window): held again until the window passes, then sent.
      const sent = comment.eventId ? await ctx.store.sentEvent(comment.eventId) : undefined;
      // Rejected by the rules when it was sent: stays hidden (only its author sees it, with the reason).
      status = !comment.eventId ? "visible" : !sent ? "held" : sent.answer === "accepted" ? "visible" : "hidden";
    }
    await ctx.store.setCommentStatus(comment.commentId, status);
    res.json({ commentId: comment.commentId, status });
  });
}
