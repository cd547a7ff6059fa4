import { html, nothing } from "lit";
import { statusLine } from "./statusLine.js";
import type { PostState } from "./types.js";

/** Plus / Minus on the post, with the reader's daily budget of pluses. */
export function renderVotes(state: PostState, vote: (direction: "plus" | "minus") => void, busy: boolean) {
  const reader = state.reader;
  const voted = reader?.vote && reader.vote.status.state !== "rejected" ? reader.vote : null;
  const out = reader !== null && reader.plusesLeft <= 0;
  return html`<section class="box" part="votes">
    <div class="row">
      <button data-testid="plus" ?disabled=${!reader || !!voted || out || busy} @click=${() => vote("plus")}>
        + Plus
      </button>
      <button class="ghost" data-testid="minus" ?disabled=${!reader || !!voted || busy} @click=${() => vote("minus")}>
        − Minus
      </button>
      ${voted ? html`<span class="muted">You gave this post a ${voted.vote}.</span>` : nothing}
    </div>
    ${
      reader
        ? out
          ? html`<div class="state rejected" data-testid="budget">You have run out of Pluses for today</div>`
          : html`<div class="muted" data-testid="budget">
              Pluses left today: ${reader.plusesLeft} of ${state.rules.maxPlusesPerUserPerDay}
            </div>`
        : html`<div class="muted">Sign in to vote.</div>`
    }
    ${statusLine(reader?.vote?.status, "Your vote")}
  </section>`;
}
