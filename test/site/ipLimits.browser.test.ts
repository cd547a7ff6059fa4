import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import type { Page } from "playwright-core";
import { ARTICLE } from "../../scripts/demo/scenario.js";
import { FRESH_READERS } from "../../scripts/demo/startDemoSite.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { startBrowserStack, type BrowserStack, type Chromium } from "./helpers/browserStack.js";
/**
 * 4 measured seconds per real second, a beat every 250 ms: the article (64 s to read) takes some
 * 16 s of beats, long enough to see one reader read while another is refused and to stop the
 * first before the read is done (at 20 it is done in 3 s).
 */
const CLOCK_RATE = 4;
const HEARTBEAT_MS = 250;
/** A reader stops counting as reading from the IP three heartbeats after their last beat (src/site/core/ipLimits.ts). */
const PAST_THREE_BEATS_MS = 3 * HEARTBEAT_MS + 500;
const HOUR_MS = 3_600_000;

/** What the widget says for each refusal: the words of src/widget/format.ts, written out as a reader reads them. */
const WORDS = {
  ip_new_account_limit:
    "Too many new accounts have signed in from your network today. Sign in with an account this site already knows, or try again tomorrow.",
  ip_meter_limit:
    "Too many people are reading from your network at once: your reading time is not counted until one of them stops. What you read so far is kept.",
  ip_read_limit:
    "Your network has finished too many reads this hour: your read is kept and sent once the hour is over.",
} as const;

type Reader = (typeof FRESH_READERS)[number];

// Issue 22, part 4 in the browser: the site kit's per-IP limits, each refusal a problem+json code
// the widget shows in plain words. Every page here comes from 127.0.0.1, one network; each
// reader has their own browser (their own cookies). The demo site allows 2 new accounts a day,
// 1 reader's meter at once and 1 read an hour from one IP. Real stack: Hardhat node, relayer,
// indexer, the demo site with its SQLite store, headless Chromium.
describe("the site's per-IP limits in the widget: each refusal said in plain words", function () {
  this.timeout(900_000);
  let browserStack: BrowserStack;
  const [readerA, readerB, readerC] = FRESH_READERS;
  let browserA: Chromium;
  let browserB: Chromium;
  /** The whole page, and the widget alone at the size it is read at (`NN-<name>-widget.png`). */
  const screenshot = (page: Page, name: string) =>
    browserStack.screenshot(page, name, { element: { selector: "twei-widget", suffix: "widget" } });
  const accessibility = (page: Page) => browserStack.accessibility(page);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const text = (page: Page, testId: string) => page.locator(`[data-testid=${testId}]`).first();
  const progress = async (page: Page): Promise<number> =>
    Number(await page.locator("[data-testid=read-progress]").getAttribute("value"));
  /** Waits until the widget's progress passes `seconds` (the reader's meter credits time). */
  const progressAbove = (page: Page, seconds: number) =>
    page.waitForFunction(
      `(() => { const p = document.querySelector("twei-widget")?.shadowRoot?.querySelector("[data-testid=read-progress]"); return p && Number(p.getAttribute("value")) > ${seconds}; })()`,
      undefined,
      { timeout: 30_000 },
    );
  /** The banner at the top of the widget (a heartbeat's refusal): its words, then the code. */
  const pageBanner = (page: Page, code: "ip_meter_limit" | "ip_read_limit") =>
    page.locator("twei-widget [data-testid=error]").filter({ hasText: `${WORDS[code]} (${code})` });
  /**
   * Samples the widget's top banner every 10 ms for `ms` (in the page): the samples where it did
   * not say `words` in full. A refusal must stay on screen until a beat passes, not flash.
   */
  const samplesWithout = async (page: Page, words: string, ms: number) =>
    (await page.evaluate(`new Promise((resolve) => {
      let missing = 0;
      let samples = 0;
      const sample = setInterval(() => {
        const root = document.querySelector("twei-widget")?.shadowRoot;
        const banner = root && Array.from(root.children).find((e) => e.getAttribute("data-testid") === "error");
        samples += 1;
        if (banner?.textContent?.trim() !== ${JSON.stringify(words)}) missing += 1;
      }, 10);
      setTimeout(() => { clearInterval(sample); resolve({ missing, samples }); }, ${ms});
    })`)) as { missing: number; samples: number };
  /** A page of the article in `browser`, its console errors collected (each marked with `who`). */
  const open = async (browser: Chromium, who: string): Promise<Page> => {
    const page = await browserStack.openPage({
      browser,
      who,
      // Chromium logs each 429 answer to a fetch as "Failed to load resource: … status of 429":
      // those are the refusals under test (the widget handles them); any other error counts.
      countsConsoleError: (text) => !text.includes("the server responded with a status of 429"),
    });
    await page.goto(`${browserStack.site.url}/articles/${ARTICLE.sitePostId}`);
    await page.getByText("Not signed in.").or(page.locator("[data-testid=signed-in]")).waitFor();
    return page;
  };
  const signIn = async (page: Page, reader: Reader) => {
    await page.locator("[data-testid=demo-account]").selectOption(hardhatAccount(reader.index).address);
    await page.locator("[data-testid=demo-sign-in]").click();
  };
  /** What the relayer knows of the reader (`GET /v1/users/:address`). */
  const relayerUser = async (reader: Reader) =>
    (await (
      await fetch(`${browserStack.stack.relayerUrl}/v1/users/${hardhatAccount(reader.index).address}`)
    ).json()) as Record<string, unknown>;

  before(async function () {
    browserStack = await startBrowserStack({
      // The screenshots of each refusal (look at them: the widget as a reader on a crowded network sees it).
      output: "site-ip-limits",
      site: {
        clockRate: CLOCK_RATE,
        heartbeatMs: HEARTBEAT_MS,
        overrides: {
          limits: {
            newAccountsPerIpPerDay: 2,
            metersPerIpAtOnce: 1,
            readsPerIpPerHour: 1,
            perIpPerSecond: 1000,
            perUserPerSecond: 1000,
          },
        },
      },
    });
    // One Chromium per reader: each has their own cookies (their own session).
    browserA = browserStack.browser;
    browserB = await browserStack.launchBrowser();
  });

  after(async function () {
    await browserStack?.stop();
  });

  it("lets two new readers sign in from one network today and tells the third, in the sign-in box, to use a known account or come back tomorrow", async function () {
    // Each signs in and leaves at once (a page of the article beats while it is open).
    for (const [browser, reader] of [
      [browserA, readerA],
      [browserB, readerB],
    ] as const) {
      const page = await open(browser, reader.name);
      await signIn(page, reader);
      await text(page, "signed-in").filter({ hasText: reader.name }).waitFor();
      await page.close();
      await sleep(PAST_THREE_BEATS_MS);
    }

    const browserC = await browserStack.launchBrowser();
    const page = await open(browserC, readerC.name);
    const verify = page.waitForResponse((r) => r.url().endsWith("/twei/api/siwe/verify"));
    await signIn(page, readerC);
    const refused = await verify;
    expect(refused.status()).to.equal(429);
    expect(((await refused.json()) as { code: string }).code).to.equal("ip_new_account_limit");
    // In the sign-in box, beside the button pressed: the whole sentence, nothing else.
    const said = page.locator("section[part=account] [data-testid=error]");
    await said.waitFor();
    expect((await said.textContent())?.trim()).to.equal(WORDS.ip_new_account_limit);
    expect(await said.isVisible()).to.equal(true);
    expect(await page.getByText("Not signed in.").isVisible()).to.equal(true);
    expect(await page.locator("[data-testid=signed-in]").count()).to.equal(0);

    await screenshot(page, "third-new-account-refused");
    await accessibility(page);
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "third-new-account-refused-mobile");
    await accessibility(page);
    await browserC.close();
  });

  it("tells a second reader on the network that their time is not counted while the first reads, and counts it again once the first stops", async function () {
    const pageA = await open(browserA, readerA.name);
    await text(pageA, "signed-in").filter({ hasText: readerA.name }).waitFor();
    // A's meter runs: the widget's progress moves.
    const startA = await progress(pageA);
    await progressAbove(pageA, startA);

    const pageB = await open(browserB, readerB.name);
    await text(pageB, "signed-in").filter({ hasText: readerB.name }).waitFor();
    await pageBanner(pageB, "ip_meter_limit").waitFor();
    expect(await pageBanner(pageB, "ip_meter_limit").isVisible()).to.equal(true);
    // The refusal stays on screen while it holds (across the widget's 1.5 s refreshes), and B's
    // progress does not move while A's does.
    const heldB = await progress(pageB);
    const heldA = await progress(pageA);
    const sampled = await samplesWithout(pageB, `${WORDS.ip_meter_limit} (ip_meter_limit)`, 3_200);
    expect(sampled.samples).to.be.above(100);
    expect(sampled.missing, "samples without the refusal on screen").to.equal(0);
    expect(await progress(pageB)).to.equal(heldB);
    expect(await progress(pageA)).to.be.above(heldA);

    await screenshot(pageB, "second-reader-not-counted");
    await accessibility(pageB);
    await pageB.setViewportSize({ width: 390, height: 844 });
    await screenshot(pageB, "second-reader-not-counted-mobile");
    await accessibility(pageB);
    await pageB.setViewportSize({ width: 900, height: 1000 });

    // A stops before their read is done (it would spend the network's one read this hour).
    const max = Number(await pageA.locator("[data-testid=read-progress]").getAttribute("max"));
    expect(await progress(pageA)).to.be.below(max);
    await pageA.close();
    await sleep(PAST_THREE_BEATS_MS);
    // B is counted again: the refusal goes, the progress moves.
    await pageBanner(pageB, "ip_meter_limit").waitFor({ state: "detached", timeout: 10_000 });
    await progressAbove(pageB, heldB);
    expect(await pageB.locator("twei-widget [data-testid=error]").count()).to.equal(0);
    await screenshot(pageB, "second-reader-counted-again");
    expect(await progress(pageB)).to.be.below(max);
    await pageB.close();
    await sleep(PAST_THREE_BEATS_MS);
  });

  it("sends the network's one read of the hour, then keeps a second reader's finished read unsent and says why in plain words", async function () {
    // Both reads must fall in one clock hour (the limit's window): near the turn of the hour, wait for it.
    const toNextHour = HOUR_MS - (Date.now() % HOUR_MS);
    if (toNextHour < 180_000) await sleep(toNextHour + 1_000);

    // A finishes their read: it is sent (the hour's one read from this network).
    const pageA = await open(browserA, readerA.name);
    await text(pageA, "read-seconds").filter({ hasText: "Read in full" }).waitFor({ timeout: 150_000 });
    await pageA.locator("[data-state]").filter({ hasText: "Your read" }).waitFor({ timeout: 60_000 });
    await text(pageA, "earned").filter({ hasText: "1 Twei" }).waitFor({ timeout: 150_000 });
    expect(await pageA.locator("twei-widget [data-testid=error]").count()).to.equal(0);
    await screenshot(pageA, "first-read-sent");
    await pageA.close();
    await sleep(PAST_THREE_BEATS_MS);

    // B finishes theirs: it is kept at the site, not sent, and the widget says why.
    const pageB = await open(browserB, readerB.name);
    await text(pageB, "read-seconds").filter({ hasText: "Read in full" }).waitFor({ timeout: 150_000 });
    await pageBanner(pageB, "ip_read_limit").waitFor({ timeout: 30_000 });
    expect(await pageBanner(pageB, "ip_read_limit").isVisible()).to.equal(true);
    const sampled = await samplesWithout(pageB, `${WORDS.ip_read_limit} (ip_read_limit)`, 3_200);
    expect(sampled.missing, "samples without the refusal on screen").to.equal(0);
    expect(await pageB.locator("[data-state]").filter({ hasText: "Your read" }).count()).to.equal(0);
    expect(await text(pageB, "earned").textContent()).to.equal("None");
    // The site's answer to B's next beat: the same refusal, as problem+json.
    const beat = (await pageB.evaluate(
      `fetch("/twei/api/posts/${ARTICLE.sitePostId}/heartbeat", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ visible: true, focused: true, active: true }) })
        .then(async (r) => ({ status: r.status, type: r.headers.get("content-type"), body: await r.json() }))`,
    )) as { status: number; type: string; body: Record<string, unknown> };
    expect(beat.status).to.equal(429);
    expect(beat.type).to.contain("application/problem+json");
    expect(beat.body.code).to.equal("ip_read_limit");
    // Not sent: the relayer has nothing for B (it paid A's read).
    expect(await relayerUser(readerB)).to.include({ pendingEarnings: "0", earned: "0" });

    await screenshot(pageB, "second-read-kept");
    await accessibility(pageB);
    await pageB.setViewportSize({ width: 390, height: 844 });
    await screenshot(pageB, "second-read-kept-mobile");
    await accessibility(pageB);
    expect(await text(pageB, "earned").textContent()).to.equal("None");
    await pageB.close();
    expect(browserStack.consoleErrors, browserStack.consoleErrors.join("\n")).to.deep.equal([]);
  });
});
