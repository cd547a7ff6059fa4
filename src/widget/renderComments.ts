import { html, nothing } from "lit";
import { avatar } from "./avatar.js";
import { statusLine } from "./statusLine.js";
import type { PostComment, PostState } from "./types.js";

export interface CommentHandlers {
  react(commentId: string, reaction: "like" | "dislike"): void;
  submit(text: string): void;
  busy: boolean;
}

function comment(state: PostState, c: PostComment, on: CommentHandlers) {
  const reacted = c.myReaction && c.myReaction.status.state !== "rejected";
  const canReact = state.reader !== null && !c.mine && !reacted && !on.busy;
  return html`<div class="comment" data-comment=${c.commentId}>
    ${avatar(c.author, c.name)}
    <div style="flex:1">
      <div><b>${c.name}</b> <span class="muted">LVL ${c.level ?? "?"}</span></div>
      <div>${c.text}</div>
      <div class="row">
        <button class="ghost" data-testid="like" ?disabled=${!canReact} @click=${() => on.react(c.commentId, "like")}>
          Like ${c.likes}
        </button>
        <button
          class="ghost"
          data-testid="dislike"
          ?disabled=${!canReact}
          @click=${() => on.react(c.commentId, "dislike")}
        >
          Dislike ${c.dislikes}
        </button>
      </div>
      ${c.mine ? statusLine(c.status, "Your comment") : nothing}
      ${c.myReaction ? statusLine(c.myReaction.status, `Your ${c.myReaction.reaction}`) : nothing}
    </div>
  </div>`;
}

/** Comment-to-Earn: the comments, their likes, the level gate and the reader's box. */
export function renderComments(state: PostState, on: CommentHandlers) {
  const min = state.rules.commentToEarnMinLevel;
  const level = state.user?.level ?? null;
  const gated = level === null || level < min;
  return html`<section class="box" part="comments">
    <h3 data-testid="comment-count">${state.comments.length} Comments</h3>
    ${state.comments.map((c) => comment(state, c, on))}
    <h4>Comment-to-Earn</h4>
    ${
      gated
        ? html`<div class="gate" data-testid="gate">Available from LVL ${min}</div>
            ${
              level !== null
                ? html`<div class="muted">
                    You are LVL ${level}: your comments earn no Comment Rewards yet (each costs the Comment Tribute).
                  </div>`
                : nothing
            }`
        : html`<div class="muted">
            Your comments of ${state.rules.minCommentLength}+ characters earn Comment Rewards.
          </div>`
    }
    ${
      state.user
        ? html`<div class="row" style="align-items:flex-start;margin-top:6px">
            ${avatar(state.user.address, state.user.name)}
            <div style="flex:1">
              <textarea data-testid="comment-text" placeholder="Add your comment"></textarea>
              <button
                data-testid="comment-submit"
                ?disabled=${on.busy}
                @click=${(e: Event) => {
                  const box = (e.target as HTMLElement).parentElement?.querySelector("textarea");
                  if (box && box.value.trim()) {
                    on.submit(box.value);
                    box.value = "";
                  }
                }}
              >
                Add your comment
              </button>
            </div>
          </div>`
        : html`<div class="muted">Sign in to add your comment.</div>`
    }
  </section>`;
}
