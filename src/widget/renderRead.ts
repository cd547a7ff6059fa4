import { html, nothing } from "lit";
import { formatDuration, formatTwei } from "./format.js";
import { statusLine } from "./statusLine.js";
import type { PostState } from "./types.js";

/** The newcomer hold in plain words: why a new account's reads wait, and what pays them. */
function newcomerNote(state: PostState) {
  const newcomer = state.reader?.newcomer;
  // An unattested reader is told what earning needs above: being verified lifts the hold too.
  if (!newcomer || state.reader?.read.status || state.personhood?.attested === false) return nothing;
  const days = newcomer.readingDaysNeeded;
  const nth = ["first", "second", "third", "fourth", "fifth"][days - 1] ?? `${days}th`;
  return html`<div class="muted" data-testid="read-newcomer">
    ${
      state.reader?.read.complete
        ? // The line above says "Read in full." already.
          "Your read is kept and paid when you come back to read on another day."
        : `New accounts are paid from their ${nth} day of reading here. Your reading time is measured and kept, and paid when you come back on another day.`
    }
    (Days you have read here: ${Math.min(newcomer.readingDays, days)} of ${days}.)
  </div>`;
}

/** The Read-to-Earn opportunity box. */
export function renderRead(state: PostState) {
  const read = state.reader?.read;
  const status = read?.status;
  const earned =
    status?.state === "settled" && read?.earned
      ? html`<span data-testid="earned">${formatTwei(read.earned.wei)} Twei</span>`
      : html`<span data-testid="earned">None</span>`;
  const seconds = read?.seconds ?? 0;
  return html`<section class="box" part="read">
    <h2>Read-to-Earn opportunity</h2>
    <dl>
      <dt>Time to Read</dt>
      <dd>${formatDuration(state.post.secondsToRead)}</dd>
      <dt>You earned:</dt>
      <dd>${earned}</dd>
      <dt>Date</dt>
      <dd>${state.post.date}</dd>
    </dl>
    ${
      state.user
        ? html`<progress data-testid="read-progress" max=${state.post.secondsToRead} value=${seconds}></progress>
            <div class="muted" data-testid="read-seconds">
              ${
                read?.complete
                  ? "Read in full."
                  : `Read ${formatDuration(seconds)} of ${formatDuration(state.post.secondsToRead)} (measured by the site while this tab is in front).`
              }
            </div>
            ${newcomerNote(state)}
            ${
              read?.complete && !status && state.personhood?.attested === false
                ? html`<div class="muted" data-testid="read-held">
                    Your read is kept and sent once you are verified as a person (above).
                  </div>`
                : nothing
            }
            ${statusLine(status, "Your read", state.links)}
            ${
              status?.state === "settled" && !read?.earned
                ? html`<div class="muted">Settled; the indexer is catching up…</div>`
                : nothing
            }`
        : html`<div class="muted">Sign in to earn Twei for reading.</div>`
    }
  </section>`;
}
