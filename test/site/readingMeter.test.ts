import { expect } from "chai";
import { describe, it } from "mocha";
import {
  applyReaderBeat,
  createReadingMeter,
  type MeterState,
  type ReaderClock,
} from "../../src/site/core/readingMeter.js";
import { createSiteContext } from "../../src/site/siteContext.js";
import type { SiteConfig } from "../../src/site/siteConfig.js";

const present = { visible: true, focused: true, active: true };

function meter(options: { clockRate?: number; idleAfterMs?: number } = {}) {
  let now = 1_000_000;
  const m = createReadingMeter({
    heartbeatMs: 5_000,
    idleAfterMs: options.idleAfterMs ?? 60_000,
    now: () => now,
    ...options,
  });
  return { m, advance: (ms: number) => (now += ms) };
}

describe("the site's reading meter (server-measured reading time)", function () {
  it("credits the time between heartbeats by the site's clock, from the second beat on", function () {
    const { m, advance } = meter();
    expect(m.beat("r", 60, present).seconds).to.equal(0);
    advance(5_000);
    expect(m.beat("r", 60, present).seconds).to.equal(5);
    advance(5_000);
    expect(m.beat("r", 60, present)).to.deep.equal({ seconds: 10, secondsToRead: 60, complete: false });
  });
  it("a client beating 50 times faster gains no time: 100 beats in 10 s credit 10 s", function () {
    const { m, advance } = meter();
    m.beat("r", 60, present);
    for (let i = 0; i < 100; i++) {
      advance(100);
      m.beat("r", 60, present);
    }
    expect(m.peek("r")?.seconds).to.equal(10);
  });
  it("credits at most 1.5 intervals for a long gap, and nothing while hidden, unfocused or idle", function () {
    const { m, advance } = meter({ idleAfterMs: 20_000 });
    m.beat("r", 600, present);
    advance(60_000);
    expect(m.beat("r", 600, present).seconds).to.equal(7);
    advance(5_000);
    expect(m.beat("r", 600, { ...present, visible: false }).seconds).to.equal(7);
    advance(5_000);
    expect(m.beat("r", 600, { ...present, focused: false }).seconds).to.equal(7);
    for (let i = 0; i < 4; i++) {
      advance(5_000);
      m.beat("r", 600, { ...present, active: false });
    }
    advance(5_000);
    expect(m.beat("r", 600, { ...present, active: false }).seconds).to.equal(27);
  });
  it("stops at the time to read and says the read is complete", function () {
    const { m, advance } = meter();
    m.beat("r", 12, present);
    for (let i = 0; i < 5; i++) {
      advance(5_000);
      m.beat("r", 12, present);
    }
    expect(m.peek("r")).to.deep.equal({ seconds: 12, secondsToRead: 12, complete: true });
  });
  it("runs a sped clock for the demo's tests, and the site refuses one (and the demo wallet) off a development chain", function () {
    const { m, advance } = meter({ clockRate: 20 });
    m.beat("r", 600, present);
    advance(5_000);
    expect(m.beat("r", 600, present).seconds).to.equal(100);
    const live = {
      chainId: 1,
      origin: "https://news.example",
      databasePath: ":memory:",
      policy: {},
      twei: {},
    } as unknown as SiteConfig;
    expect(() => createSiteContext({ ...live, reading: { clockRate: 20 } })).to.throw(/local development chain/);
    expect(() => createSiteContext({ ...live, demoWallet: [] })).to.throw(/never on a live network/);
    expect(() => createSiteContext(live)).not.to.throw();
  });

  it("one clock per reader: two tabs on two posts share the time; the focused one alone gets it all", function () {
    const options = { heartbeatMs: 5_000, idleAfterMs: 60_000 };
    const meters = new Map<string, MeterState | undefined>();
    let clock: ReaderClock | undefined;
    const beat = (slug: string, at: number, focused = true) => {
      const next = applyReaderBeat({ meter: meters.get(slug), clock }, slug, { ...present, focused }, at, 600, options);
      meters.set(slug, next.meter);
      clock = next.clock;
    };
    const credited = (slug: string) => meters.get(slug)?.creditedMs ?? 0;
    // Both claim focus (a script): they beat 2.5 s apart for a minute and share it.
    for (let t = 0; t <= 60_000; t += 5_000) {
      beat("a", t);
      beat("b", t + 2_500);
    }
    expect(credited("a") + credited("b")).to.equal(62_500); // the time from the first beat to the last
    // An honest second tab in the background: the focused one gets all the time, as if alone.
    const before = credited("a");
    for (let t = 65_000; t <= 125_000; t += 5_000) {
      beat("a", t);
      beat("b", t + 2_500, false);
    }
    expect(credited("a") - before).to.equal(125_000 - 62_500); // all the time since the shared minute
  });
});
