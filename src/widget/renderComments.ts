import { html, nothing } from "lit";
import { avatar } from "./avatar.js";
import { formatTwei, timeAgo } from "./format.js";
import { statusLine } from "./statusLine.js";
import type { PostComment, PostState } from "./types.js";

export interface CommentHandlers {
  react(commentId: string, reaction: "like" | "dislike"): void;
  submit(text: string): void;
  busy: boolean;
  /** The last action's error in this box, in plain words. */
  error: string | null;
}

function comment(state: PostState, c: PostComment, on: CommentHandlers) {
  const reacted = c.myReaction && c.myReaction.status.state !== "rejected";
  const canReact = state.reader !== null && !c.mine && !reacted && !on.busy;
  const likesOut = state.reader?.likesLeft === 0;
  return html`<div class="comment" data-comment=${c.commentId}>
    ${avatar(c.author, c.name)}
    <div style="flex:1">
      <div>
        <b title=${c.author}>${c.name}</b> <span class="muted">Level ${c.level ?? "…"} ·</span>
        <time class="muted" datetime=${c.createdAt} title=${new Date(c.createdAt).toLocaleString()}
          >${timeAgo(c.createdAt)}</time
        >
      </div>
      <div>${c.text}</div>
      <div class="row">
        <button
          class="ghost"
          data-testid="like"
          ?disabled=${!canReact || likesOut}
          @click=${() => on.react(c.commentId, "like")}
        >
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
      ${c.mine ? statusLine(c.status, "Your comment", state.links) : nothing}
      ${c.myReaction ? statusLine(c.myReaction.status, `Your ${c.myReaction.reaction}`, state.links) : nothing}
    </div>
  </div>`;
}

/** The reader's daily like budget (policy version 3), next to the comments' like buttons. */
function likesLeft(state: PostState) {
  const left = state.reader?.likesLeft;
  const max = state.rules.maxLikesPerUserPerDay;
  if (left === null || left === undefined || max === null) return nothing;
  return left <= 0
    ? html`<div class="state rejected" data-testid="likes-left">You have run out of Likes for today</div>`
    : html`<div class="muted" data-testid="likes-left">Likes left today: ${left} of ${max}</div>`;
}

/** The reader's box to write a comment: its cost, the length it needs, a live count. */
function composer(state: PostState, on: CommentHandlers) {
  const user = state.user;
  if (!user) return html`<div class="muted">Sign in to add your comment.</div>`;
  const min = state.rules.minCommentLength;
  const cost = state.prices?.comment;
  const update = (e: Event) => {
    const box = e.target as HTMLTextAreaElement;
    const length = [...box.value.trim()].length;
    const root = box.parentElement;
    const counter = root?.querySelector("[data-testid=comment-length]");
    const submit = root?.querySelector("button");
    if (counter)
      counter.textContent = length < min ? `${length} of at least ${min} characters` : `${length} characters`;
    if (submit) submit.disabled = length < min || on.busy;
  };
  return html`<div class="row" style="align-items:flex-start;margin-top:6px">
    ${avatar(user.address, user.name)}
    <div style="flex:1">
      <label for="twei-comment">Add your comment</label>
      <textarea
        id="twei-comment"
        data-testid="comment-text"
        aria-describedby="twei-comment-help"
        @input=${update}
      ></textarea>
      <div class="muted" id="twei-comment-help">
        <span data-testid="comment-length">0 of at least ${min} characters</span>${
          cost ? html` · <span data-testid="comment-cost">posting costs ${formatTwei(cost.wei)} Twei</span>` : nothing
        }
      </div>
      <button
        data-testid="comment-submit"
        disabled
        @click=${(e: Event) => {
          const box = (e.target as HTMLElement).parentElement?.querySelector("textarea");
          if (box && [...box.value.trim()].length >= min) {
            on.submit(box.value);
            box.value = "";
            box.dispatchEvent(new Event("input"));
          }
        }}
      >
        Add your comment
      </button>
    </div>
  </div>`;
}

/** Comment-to-Earn: the comments, their likes, the level gate and the reader's box. */
export function renderComments(state: PostState, on: CommentHandlers) {
  const min = state.rules.commentToEarnMinLevel;
  const level = state.user?.level ?? null;
  const gated = level === null || level < min;
  return html`<section class="box" part="comments" aria-labelledby="twei-comments-title">
    <h2 id="twei-comments-title">Comment-to-Earn</h2>
    <div class="muted" data-testid="comment-count">${state.comments.length} Comments</div>
    ${state.comments.map((c) => comment(state, c, on))} ${likesLeft(state)}
    ${
      gated
        ? html`<div class="gate" data-testid="gate">Available from LVL ${min}</div>
            ${
              level !== null
                ? html`<div class="muted">
                    You are level ${level}: your comments earn no Comment Rewards yet, and each costs the Comment
                    Tribute.
                  </div>`
                : nothing
            }`
        : html`<div class="muted">
            Your comments of ${state.rules.minCommentLength}+ characters earn Comment Rewards.
          </div>`
    }
    ${composer(state, on)}
    ${on.error ? html`<div class="banner" role="alert" data-testid="error">${on.error}</div>` : nothing}
  </section>`;
}
