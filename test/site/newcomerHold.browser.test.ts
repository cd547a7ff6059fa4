import { expect } from "chai";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import type { Page } from "playwright-core";
import { erc20Abi } from "viem";
import { ARTICLE } from "../../scripts/demo/scenario.js";
import { FRESH_READERS } from "../../scripts/demo/startDemoSite.js";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { utcDay } from "../../src/site/core/newcomerHold.js";
import { createSqlSiteStore } from "../../src/site/store/createSqlSiteStore.js";
import { openSqliteSiteDriver } from "../../src/site/store/sqlite/openSqliteSiteDriver.js";
import { startBrowserStack, type BrowserStack } from "./helpers/browserStack.js";
const HOUR_MS = 3_600_000;

// Issue 22, part 5 in the browser: the demo site runs the kit's newcomer hold (no proof of
// personhood). A fresh demo-wallet reader is told in plain words that new accounts are paid
// from their second day of reading; their finished read is kept at the site, not sent (the
// relayer never hears of it, the chain pays nothing); once they have read here on an earlier
// day, the kept read goes out and pays in full. Real stack: Hardhat node, relayer, indexer, the
// demo site with its SQLite store, headless Chromium.
describe("the newcomer hold in the widget: a new account's read is kept, then paid when the reader comes back", function () {
  this.timeout(900_000);
  let browserStack: BrowserStack;
  let page: Page;
  /** The whole page, and the Read-to-Earn box alone at the size it is read at (`NN-<name>-box.png`). */
  const screenshot = (name: string) =>
    browserStack.screenshot(page, name, { element: { selector: "section[part=read]", suffix: "box" } });
  const reader = FRESH_READERS[0];
  const address = hardhatAccount(reader.index).address;
  const text = (testId: string) => page.locator(`[data-testid=${testId}]`).first();
  const accessibility = () => browserStack.accessibility(page);
  /** The site's API from the page, with the reader's session cookie (a body: POST, none: GET). */
  const api = async (path: string, body?: unknown) =>
    (await page.evaluate(
      body === undefined
        ? `fetch("/twei/api${path}").then(async (r) => ({ status: r.status, body: await r.json() }))`
        : `fetch("/twei/api${path}", { method: "POST", headers: { "content-type": "application/json" }, body: ${JSON.stringify(JSON.stringify(body))} })
        .then(async (r) => ({ status: r.status, body: await r.json() }))`,
    )) as { status: number; body: Record<string, unknown> };
  /** What the relayer knows of the reader (`GET /v1/users/:address`). */
  const relayerUser = async () =>
    (await (await fetch(`${browserStack.stack.relayerUrl}/v1/users/${address}`)).json()) as Record<string, unknown>;
  const balance = async () =>
    browserStack.stack.publicClient.readContract({
      address: browserStack.stack.deployment.token,
      abi: erc20Abi,
      functionName: "balanceOf",
      args: [address],
    });

  before(async function () {
    browserStack = await startBrowserStack({
      // The screenshots of each state (look at them: the widget as a newcomer sees it).
      output: "site-newcomer-hold",
      site: { clockRate: 20, heartbeatMs: 250, newcomerHold: true },
    });
    page = await browserStack.openPage();
  });

  after(async function () {
    await browserStack?.stop();
  });

  it("tells a new reader in plain words that new accounts are paid from their second day, and keeps their finished read unsent", async function () {
    await page.goto(`${browserStack.site.url}/articles/${ARTICLE.sitePostId}`);
    await page.getByText("Not signed in.").waitFor();
    // Nobody signed in: no newcomer note (the hold is about an account).
    expect(await page.locator("[data-testid=read-newcomer]").count()).to.equal(0);
    await page.locator("[data-testid=demo-account]").selectOption(address);
    await page.locator("[data-testid=demo-sign-in]").click();
    await text("signed-in").filter({ hasText: reader.name }).waitFor();

    // Before the read is finished (the sign-in shows the note at once; the read needs some 3 s
    // of beats): why it will not pay today, and what will. The days figure is 0 until a beat
    // credits time (and the site keeps a held answer 5 s), 1 after.
    await text("read-newcomer")
      .filter({
        hasText:
          /New accounts are paid from their second day of reading here\. Your reading time is measured and kept, and paid when you come back on another day\.\s+\(Days you have read here: [01] of 2\.\)/,
      })
      .waitFor();

    await screenshot("newcomer-reading");

    // The read is measured to the end and kept at the site: not sent, so nothing to earn yet.
    await text("read-seconds").filter({ hasText: "Read in full" }).waitFor({ timeout: 150_000 });
    // "Read in full." is said once, by the line above the note.
    await text("read-newcomer")
      .filter({ hasText: "Your read is kept and paid when you come back to read on another day." })
      .filter({ hasText: "(Days you have read here: 1 of 2.)" })
      .waitFor({ timeout: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await page.locator("[data-state]").filter({ hasText: "Your read" }).count()).to.equal(0);
    expect(await text("earned").textContent()).to.equal("None");
    expect(await text("read-newcomer").textContent()).not.to.contain("Read in full");
    const beat = await api(`/posts/${ARTICLE.sitePostId}/heartbeat`, { visible: true, focused: true, active: true });
    expect(beat.body).to.include({ complete: true, sent: false, held: "newcomer_hold" });
    const state = await api(`/posts/${ARTICLE.sitePostId}`);
    const readerState = state.body.reader as { read: { status: unknown }; newcomer: unknown };
    expect(readerState.read.status).to.equal(null);
    expect(readerState.newcomer).to.deep.equal({ readingDays: 1, readingDaysNeeded: 2 });
    // The site never sent it: the relayer has nothing pending for the reader, the chain paid nothing.
    expect(await relayerUser()).to.include({ pendingEarnings: "0", earned: "0" });
    expect(await balance()).to.equal(0n);

    await screenshot("newcomer-kept");
    await accessibility();
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot("newcomer-kept-mobile");
    await accessibility();
    await page.setViewportSize({ width: 900, height: 1000 });
  });

  it("sends the kept read once the reader has read here on an earlier day, and pays the whole read", async function () {
    // Stands for yesterday's visit: the real clock cannot pass a day in a test, so the reader's
    // earlier reading day goes into the site's own store (the SQLite file the demo site uses),
    // as the site would have written it when a beat credited time this time yesterday.
    const now = Date.now();
    const yesterday = now - 24 * HOUR_MS;
    expect(utcDay(yesterday)).to.equal(utcDay(now) - 1);
    const store = createSqlSiteStore(openSqliteSiteDriver({ path: join(browserStack.stack.dataDir, "site.sqlite") }));
    await store.noteReadingDay(address, utcDay(yesterday), yesterday);
    expect(await store.readingHistory(address)).to.deep.equal({ days: 2, firstAt: yesterday });
    await store.close();

    // The site keeps a held answer 5 s: past it, the widget's beats send the kept read.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    await page.reload();
    await text("signed-in").filter({ hasText: reader.name }).waitFor();
    await text("earned").filter({ hasText: "Twei" }).waitFor({ timeout: 150_000 });
    // The whole Read-to-Earn amount, not a partial read.
    expect(await text("earned").textContent()).to.equal("1 Twei");
    expect(await page.locator("[data-testid=read-newcomer]").count()).to.equal(0);
    expect(await balance()).to.equal(DEFAULT_RULE_AMOUNTS[ActionKind.ReadToEarn]);
    await screenshot("came-back-and-paid");
    await accessibility();
    expect(browserStack.consoleErrors).to.deep.equal([]);
  });
});
