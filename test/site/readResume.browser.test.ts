import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import type { Page } from "playwright-core";
import { formatUnits, type Address } from "viem";
import { playDemoScenario } from "../../scripts/demo/playDemoScenario.js";
import { ARTICLE, PEOPLE } from "../../scripts/demo/scenario.js";
import { SITE_ARTICLES } from "../../scripts/demo/siteArticles.js";
import { FRESH_READERS, startDemoSite } from "../../scripts/demo/startDemoSite.js";
import { startDemoStack, type DemoStack } from "../../scripts/demo/startDemoStack.js";
import { launchChromium } from "../../src/devnet/launchChromium.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import type { TweiClient } from "../../src/sdk/createTweiClient.js";
import type { Site } from "../../src/site/createSite.js";
import { openSiteStore } from "../../src/site/store/openSiteStore.js";

/** The sped reading clock of this test: 2 measured seconds per real second, a beat every 250 ms. */
const CLOCK_RATE = 2;

// Issue 22: an honest reader never loses a read. A reload, a click to another post and back, or
// a second tab must neither close the read with a partial amount nor count time twice.
describe("a read survives reloads, navigation and a second tab (headless Chromium)", function () {
  this.timeout(900_000);
  let dataDir: string;
  let stack: DemoStack;
  let site: Site;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  const consoleErrors: string[] = [];
  const [, second, third, fourth] = SITE_ARTICLES;

  const open = async (): Promise<Page> => {
    const page = await browser.context.newPage();
    page.on("pageerror", (error) => consoleErrors.push(error.message));
    return page;
  };
  const progress = async (page: Page): Promise<number> =>
    Number(await page.locator("[data-testid=read-progress]").getAttribute("value"));
  /** Waits until the widget's progress reaches `fraction` of the time to read; returns the seconds. */
  const readUntil = async (page: Page, fraction: number): Promise<number> => {
    const max = Number(await page.locator("[data-testid=read-progress]").getAttribute("max"));
    const deadline = Date.now() + 120_000;
    while ((await progress(page)) < fraction * max) {
      if (Date.now() > deadline) throw new Error(`the read did not reach ${fraction * 100} %`);
      await page.waitForTimeout(100);
    }
    return progress(page);
  };
  const signIn = async (page: Page, slug: string, reader: { name: string; index: number }, url = site.url) => {
    await page.goto(`${url}/articles/${slug}`);
    await page.getByText("Not signed in.").or(page.locator("[data-testid=signed-in]")).waitFor();
    if (await page.locator("[data-testid=signed-in]").count()) {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByText("Not signed in.").waitFor();
    }
    await page.locator("[data-testid=demo-account]").selectOption(hardhatAccount(reader.index).address);
    await page.locator("[data-testid=demo-sign-in]").click();
    await page.locator("[data-testid=signed-in]").filter({ hasText: reader.name }).waitFor();
  };
  /** The Read-to-Earn the indexer reports for `reader` on the post, in Twei, once it settled. */
  const earned = async (page: Page, postId: string, reader: Address): Promise<string> => {
    await page.locator("[data-testid=earned]").filter({ hasText: "Twei" }).waitFor({ timeout: 150_000 });
    const answer = await fetch(
      `${stack.indexerUrl}/v1/posts/report?site=1&sitePostId=${postId}&account=${reader}`,
    ).then((r) => r.json() as Promise<{ readToEarn: { wei: string } }>);
    return formatUnits(BigInt(answer.readToEarn.wei), 18);
  };

  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), "twei-read-resume-"));
    stack = await startDemoStack({ dataDir, deploymentsRoot: dataDir });
    await playDemoScenario(stack);
    site = await startDemoSite(stack, { clockRate: CLOCK_RATE, heartbeatMs: 250 });
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await site?.stop();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("reload at 40 %, then finish: the full amount, and the widget shows the kept progress at once", async function () {
    const reader = FRESH_READERS[0];
    const page = await open();
    await signIn(page, ARTICLE.sitePostId, reader);
    const before = await readUntil(page, 0.4);
    await page.reload();
    await page.locator("[data-testid=read-progress]").waitFor();
    expect(await progress(page)).to.be.at.least(before);
    expect(await page.locator("[data-state]").count()).to.equal(0); // nothing was sent on leaving
    expect(await earned(page, ARTICLE.sitePostId, hardhatAccount(reader.index).address)).to.equal("1");
    await page.close();
  });

  it("click a 'More:' link at 40 %, come back, finish: the full amount", async function () {
    const reader = FRESH_READERS[1];
    const page = await open();
    await signIn(page, second!.slug, reader);
    await readUntil(page, 0.4);
    await page.locator(`nav.more a[href="/articles/${fourth!.slug}"]`).click();
    await page.waitForURL(`**/articles/${fourth!.slug}`);
    await page.locator("[data-testid=read-progress]").waitFor();
    await page.waitForTimeout(1_500);
    await page.goBack();
    await page.waitForURL(`**/articles/${second!.slug}`);
    expect(await earned(page, second!.sitePostId, hardhatAccount(reader.index).address)).to.equal("1");
    await page.close();
  });

  it("two tabs on two posts: the reader's time is counted once", async function () {
    const reader = FRESH_READERS[2];
    const a = await open();
    await signIn(a, third!.slug, reader);
    const b = await open();
    await b.goto(`${site.url}/articles/${fourth!.slug}`);
    await b.locator("[data-testid=signed-in]").filter({ hasText: reader.name }).waitFor();
    const start = Date.now();
    const [fromA, fromB] = [await progress(a), await progress(b)];
    await a.waitForTimeout(5_000);
    const credited = (await progress(a)) - fromA + (await progress(b)) - fromB;
    const elapsed = ((Date.now() - start) / 1000) * CLOCK_RATE;
    // One reader's clock: together the tabs earn no faster than the time passing (a beat's slack).
    expect(credited).to.be.at.most(elapsed + 1.5);
    expect(credited).to.be.at.least(elapsed / 4);
    await Promise.all([a.close(), b.close()]);
  });

  it("a reader who does not come back: the time measured is sent after partialAfterMs, once, by one of two site processes", async function () {
    // Two site processes on one store (a SQLite file), both sweeping every 200 ms; a partial
    // read is due 3 s after the reader's last beat. Each counts the reads it sends.
    const store = await openSiteStore({ path: join(dataDir, "shared-site.sqlite") });
    const sentReads: string[] = [];
    const counting = (name: string): TweiClient => ({
      ...stack.client,
      sendEvents: (events, options) => {
        for (const e of events) if (e.type === "post_read") sentReads.push(`${name}:${e.eventId}:${e.secondsRead}`);
        return stack.client.sendEvents(events, options);
      },
    });
    const reading = { heartbeatMs: 250, clockRate: CLOCK_RATE, partialAfterMs: 3_000, sweepEveryMs: 200 };
    const sites = await Promise.all(
      ["one", "two"].map((name) =>
        startDemoSite(stack, { publish: false, overrides: { store, reading, twei: counting(name) } }),
      ),
    );
    try {
      const page = await open();
      const bo = { name: PEOPLE.r1.name, index: PEOPLE.r1.index };
      await page.goto(`${sites[0]!.url}/articles/${third!.slug}`);
      await signIn(page, third!.slug, bo, sites[0]!.url);
      const measured = await readUntil(page, 0.4);
      await page.close();
      expect(sentReads).to.deep.equal([]); // leaving sends nothing
      const deadline = Date.now() + 60_000;
      while (sentReads.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1_000)); // five more sweeps of each process
      expect(sentReads).to.have.length(1);
      const other = await open();
      await signIn(other, third!.slug, bo, sites[1]!.url);
      const paid = Number(await earned(other, third!.sitePostId, hardhatAccount(bo.index).address));
      expect(sentReads).to.have.length(1);
      expect(paid).to.be.greaterThan(0.3).and.lessThan(1);
      expect(Number(sentReads[0]!.split(":").at(-1))).to.be.at.least(measured);
      await other.close();
    } finally {
      await Promise.all(sites.map((s) => s.stop()));
      await store.close();
    }
    expect(consoleErrors, consoleErrors.join("\n")).to.deep.equal([]);
  });
});
