import { html, nothing } from "lit";
import { formatTwei } from "./format.js";
import { statusLine } from "./statusLine.js";
import type { PostState } from "./types.js";

/** Plus / Minus on the post with its counts, the reader's daily budget of pluses, and what a minus costs. */
export function renderVotes(
  state: PostState,
  vote: (direction: "plus" | "minus") => void,
  busy: boolean,
  error: string | null,
) {
  const reader = state.reader;
  const voted = reader?.vote && reader.vote.status.state !== "rejected" ? reader.vote : null;
  const out = reader !== null && reader.plusesLeft <= 0;
  const count = (n: number | null) => (n === null ? "" : ` ${n}`);
  const minusPrice = state.prices?.minus;
  return html`<section class="box" part="votes" aria-label="Vote on this post">
    <div class="row">
      <button data-testid="plus" ?disabled=${!reader || !!voted || out || busy} @click=${() => vote("plus")}>
        + Plus<span data-testid="plus-count">${count(state.post.pluses)}</span>
      </button>
      <button class="ghost" data-testid="minus" ?disabled=${!reader || !!voted || busy} @click=${() => vote("minus")}>
        − Minus<span data-testid="minus-count">${count(state.post.minuses)}</span>
      </button>
      ${voted ? html`<span class="muted">You gave this post a ${voted.vote}.</span>` : nothing}
    </div>
    ${
      reader
        ? out
          ? html`<div class="state rejected" data-testid="budget">You have run out of Pluses for today</div>`
          : html`<div class="muted" data-testid="budget">
              Pluses left today: ${reader.plusesLeft} of
              ${state.rules.maxPlusesPerUserPerDay}${
                minusPrice ? ` · a minus costs you ${formatTwei(minusPrice.wei)} Twei` : ""
              }
            </div>`
        : html`<div class="muted">Sign in to vote.</div>`
    }
    ${error ? html`<div class="banner" role="alert" data-testid="error">${error}</div>` : nothing}
    ${statusLine(reader?.vote?.status, "Your vote", state.links)}
  </section>`;
}
