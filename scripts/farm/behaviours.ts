import type { SiteAnswer, SiteClient } from "./siteClient.js";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What stopped a strategy: each refusal's code (HTTP problem or the relayer's rejection), counted. */
export class Refusals {
  readonly counts = new Map<string, number>();
  note(code: string): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
  }
  /** From an answer: a problem's code, or a rejected event's code. */
  from(answer: SiteAnswer): void {
    if (answer.status >= 400) this.note(String(answer.json.code ?? answer.status));
    else if (answer.json.answer === "rejected") this.note(String(answer.json.code ?? "rejected"));
  }
  top(n = 2): string {
    const sorted = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, n);
    return sorted.length === 0 ? "nothing" : sorted.map(([code, count]) => `${code} ×${count}`).join(", ");
  }
}

/** Sends one request, waiting out a 429 as a patient client does (at most `tries` times). */
export async function patiently(send: () => Promise<SiteAnswer>, refusals: Refusals, tries = 40): Promise<SiteAnswer> {
  let answer = await send();
  for (let i = 0; answer.status === 429 && i < tries; i++) {
    refusals.note(String(answer.json.code ?? "rate_limited"));
    await sleep(250);
    answer = await send();
  }
  refusals.from(answer);
  return answer;
}

export interface ReadOptions {
  /** Between heartbeats (the widget's interval; a forger sends faster). */
  readonly beatMs: number;
  /** Leaves (a reload or a navigation: the widget sends nothing) once this fraction of the time to read is credited, then comes back. */
  readonly leaveAt?: number;
  /** What happens between leaving and coming back (a reload: nothing; navigation: another read). */
  readonly away?: () => Promise<void>;
  /** Gives up after this long (a farm that is not progressing moves on). */
  readonly maxMs?: number;
  /** A held read (a newcomer's, an unattested reader's) counts as done, not as a refusal: the person reads on. */
  readonly keepHeld?: boolean;
}

/**
 * Reads a post as the widget does: heartbeats while the tab is in front, until the site says
 * the read is complete and sent; optionally leaving part-way (a reload or a navigation) and
 * coming back. Resolves to whether the site sent the read.
 */
export async function read(client: SiteClient, slug: string, options: ReadOptions, refusals: Refusals) {
  const deadline = Date.now() + (options.maxMs ?? 120_000);
  let left = options.leaveAt === undefined;
  while (Date.now() < deadline) {
    const beat = await patiently(
      () => client.call("POST", `/posts/${slug}/heartbeat`, { visible: true, focused: true, active: true }),
      refusals,
    );
    if (beat.status !== 200) return false;
    const { seconds, secondsToRead, sent } = beat.json as { seconds: number; secondsToRead: number; sent: boolean };
    if (sent) return true;
    // The site keeps the read (until the wallet holds proof of personhood, or comes back another
    // day): a farm moves on, a person reads on.
    if (typeof beat.json.held === "string") {
      refusals.note(options.keepHeld ? `${beat.json.held} (kept)` : beat.json.held);
      return false;
    }
    if (!left && options.leaveAt !== undefined && seconds >= options.leaveAt * secondsToRead) {
      left = true;
      await options.away?.();
    }
    await sleep(options.beatMs);
  }
  return false;
}
