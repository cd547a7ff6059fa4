/**
 * Server-side reading time, measured from the browser's engagement heartbeats (never a total
 * the client sends). The model:
 *
 * - the widget sends a heartbeat every `heartbeatMs` while the page is open, saying whether the
 *   tab is visible and focused and whether the reader scrolled or moved since the last one;
 * - the site credits the time since the previous heartbeat, by its own clock, only when the tab
 *   was visible and focused, at most `heartbeatMs × 1.5` per beat (a gap longer than that, a
 *   closed laptop or a throttled tab, earns only that much), and nothing once the reader has
 *   been idle (no scroll or input) for `idleAfterMs`;
 * - beats closer together than half the interval credit nothing (a faster client gains no time);
 * - the credited time stops at the post's time to read; the site sends one `post_read` when it
 *   gets there. A reader who leaves keeps what was credited: a reload, a click to another post,
 *   a new session or a short offline gap resumes the same meter. Only when the reader has not
 *   come back for `partialAfterMs` (30 min by default) does the site send a partial `post_read`
 *   with what was measured (src/site/sweepIdleReads.ts);
 * - one reader has one clock across all their meters, tabs and devices (`ReaderClock`): a
 *   stretch of the site's time is credited to one post at most. The focused tab that beat most
 *   recently gets it; two that both claim focus at once (only a script, or two devices side by
 *   side) share it, so together they never earn faster than one reader.
 *
 * What it does not stop: a scripted browser that keeps a tab visible, focused and scrolling for
 * the whole time to read is paid like a person (it has to spend the real time, once per wallet
 * and post, within the per-user and per-IP rate limits and the ledger's emission caps); many
 * wallets behind many IPs each earn their own read. Levels earned over time and the caps bound
 * what such a farm gets; they do not tell it from people.
 *
 * `clockRate` speeds the clock for the demo's tests only (the site refuses a rate other than 1
 * outside a local development chain).
 */
export interface ReadingMeterOptions {
  readonly heartbeatMs: number;
  readonly idleAfterMs: number;
  /** Milliseconds of the site's clock; `Date.now` by default. */
  readonly now?: () => number;
  /** Measured seconds per real second (demo tests only). */
  readonly clockRate?: number;
}

export interface Beat {
  readonly visible: boolean;
  readonly focused: boolean;
  /** The reader scrolled, moved the pointer or pressed a key since the last beat. */
  readonly active: boolean;
}

export interface Reading {
  /** Seconds credited so far (measured, capped at the time to read). */
  readonly seconds: number;
  readonly secondsToRead: number;
  /** The credited time reached the time to read. */
  readonly complete: boolean;
}

/**
 * One reader's meter on one post: what the store keeps per (reader, post), so credited time
 * survives a restart and is shared by the site's processes.
 */
export interface MeterState {
  /** The site's clock (ms) at the last beat that counted. */
  readonly lastBeatAt: number;
  readonly lastActiveAt: number;
  readonly creditedMs: number;
  readonly toReadMs: number;
}

/** What a meter state shows the reader. */
export const readingOf = (s: MeterState): Reading => ({
  seconds: Math.floor(s.creditedMs / 1000),
  secondsToRead: s.toReadMs / 1000,
  complete: s.creditedMs >= s.toReadMs,
});

/**
 * Applies one heartbeat at `at` (the site's clock) to a meter: pure, so a store can run it
 * inside the transaction that reads and writes the meter.
 *
 * @example
 * const next = applyBeat(previous, { visible: true, focused: true, active: true }, Date.now(), 120, options)
 *
 * `creditedUntil` is the reader's clock (see applyReaderBeat): nothing before it is credited.
 */
export function applyBeat(
  previous: MeterState | undefined,
  beat: Beat,
  at: number,
  secondsToRead: number,
  options: Pick<ReadingMeterOptions, "heartbeatMs" | "idleAfterMs" | "clockRate">,
  creditedUntil = -Infinity,
): MeterState {
  // The first beat starts the clock; it credits nothing.
  if (!previous) return { lastBeatAt: at, lastActiveAt: at, creditedMs: 0, toReadMs: secondsToRead * 1000 };
  const gap = at - previous.lastBeatAt;
  if (gap < options.heartbeatMs / 2) return previous;
  const lastActiveAt = beat.active ? at : previous.lastActiveAt;
  const idle = at - lastActiveAt > options.idleAfterMs;
  let creditedMs = previous.creditedMs;
  if (beat.visible && beat.focused && !idle) {
    // Time the reader's clock already credited (to this post or another) is not credited again.
    const since = Math.max(previous.lastBeatAt, creditedUntil);
    const credit = Math.max(0, Math.min(at - since, options.heartbeatMs * 1.5)) * (options.clockRate ?? 1);
    creditedMs = Math.min(previous.toReadMs, previous.creditedMs + credit);
  }
  return { lastBeatAt: at, lastActiveAt, creditedMs, toReadMs: previous.toReadMs };
}

/**
 * The reader's one clock, shared by all their meters: the site's time (ms) up to which their
 * reading was credited to some post, and which post got it last.
 */
export interface ReaderClock {
  readonly creditedUntil: number;
  readonly slug: string;
}

/** A meter and its reader's clock after a beat. */
export interface ReaderBeat {
  readonly meter: MeterState;
  readonly clock: ReaderClock;
}

/**
 * Applies one heartbeat of a reader on the post `slug` at `at`, with the reader's clock: like
 * `applyBeat`, but the time credited starts no earlier than the clock's `creditedUntil`, so a
 * stretch of time already credited to any post (another tab, another device) is never
 * credited again. Pure: a store runs it in the transaction that holds the meter and the clock.
 *
 * @example
 * const { meter, clock } = applyReaderBeat({ meter, clock }, "my-post", beat, Date.now(), 120, options)
 */
export function applyReaderBeat(
  previous: { readonly meter: MeterState | undefined; readonly clock: ReaderClock | undefined },
  slug: string,
  beat: Beat,
  at: number,
  secondsToRead: number,
  options: Pick<ReadingMeterOptions, "heartbeatMs" | "idleAfterMs" | "clockRate">,
): ReaderBeat {
  const clock = previous.clock ?? { creditedUntil: at, slug };
  const meter = applyBeat(previous.meter, beat, at, secondsToRead, options, clock.creditedUntil);
  // A beat that credited time moves the reader's clock to `at`: that stretch is spent.
  return meter.creditedMs > (previous.meter?.creditedMs ?? 0)
    ? { meter, clock: { creditedUntil: at, slug } }
    : { meter, clock };
}

export interface ReadingMeter {
  /** Records a heartbeat of `key` (one reader on one post) and returns what is credited. */
  beat(key: string, secondsToRead: number, beat: Beat): Reading;
  /** What is credited to `key` so far, or undefined when it never sent a beat. */
  peek(key: string): Reading | undefined;
}

/** The meter in memory (one process; the site kit keeps meters in its SiteStore instead). */
export function createReadingMeter(options: ReadingMeterOptions): ReadingMeter {
  const now = options.now ?? Date.now;
  const meters = new Map<string, MeterState>();
  return {
    beat(key, secondsToRead, beat) {
      const next = applyBeat(meters.get(key), beat, now(), secondsToRead, options);
      meters.set(key, next);
      return readingOf(next);
    },
    peek(key) {
      const state = meters.get(key);
      return state && readingOf(state);
    },
  };
}
