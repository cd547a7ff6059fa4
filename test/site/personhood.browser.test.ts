import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import type { Page } from "playwright-core";
import { ARTICLE } from "../../scripts/demo/scenario.js";
import { FRESH_READERS } from "../../scripts/demo/startDemoSite.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { startBrowserStack, type BrowserStack } from "./helpers/browserStack.js";

// Issue 22, part 3 in the browser: the demo site's policy requires proof of personhood (EAS) and
// the site attests its signed-in readers who ask. A fresh reader is told in plain words what
// earning needs; their read is measured and held (not refused); they verify, the read goes out
// and pays in full; the site refuses a second attestation. Real stack: Hardhat node with EAS,
// relayer, indexer, the demo site, headless Chromium.
describe("proof of personhood in the widget: an unattested reader is told, verifies, then earns", function () {
  this.timeout(900_000);
  let browserStack: BrowserStack;
  let page: Page;
  const screenshot = (name: string) => browserStack.screenshot(page, name);
  const reader = FRESH_READERS[1];
  const text = (testId: string) => page.locator(`[data-testid=${testId}]`).first();
  const accessibility = () => browserStack.accessibility(page);
  /** The site's API from the page, with the reader's session cookie. */
  const api = async (path: string, body: unknown = {}) =>
    (await page.evaluate(
      `fetch("/twei/api${path}", { method: "POST", headers: { "content-type": "application/json" }, body: ${JSON.stringify(JSON.stringify(body))} })
        .then(async (r) => ({ status: r.status, body: await r.json() }))`,
    )) as { status: number; body: Record<string, unknown> };

  before(async function () {
    browserStack = await startBrowserStack({
      // The screenshots of each state (look at them: the widget as an unattested reader sees it).
      output: "site-personhood",
      stack: { personhood: true },
      site: { clockRate: 20, heartbeatMs: 250 },
    });
    page = await browserStack.openPage();
  });

  after(async function () {
    await browserStack?.stop();
  });

  it("says what earning needs, holds the finished read, verifies on request, then pays the read in full", async function () {
    await page.goto(`${browserStack.site.url}/articles/${ARTICLE.sitePostId}`);
    await page.getByText("Not signed in.").waitFor();
    // Nobody signed in: nothing about personhood yet (it is about an account).
    expect(await page.locator("[data-testid=personhood-needed]").count()).to.equal(0);
    await page.locator("[data-testid=demo-account]").selectOption(hardhatAccount(reader.index).address);
    await page.locator("[data-testid=demo-sign-in]").click();
    await text("signed-in").filter({ hasText: reader.name }).waitFor();
    await text("personhood-needed").waitFor();
    expect(await text("personhood-needed").textContent()).to.contain(
      "This site pays Twei only to accounts it knows belong to a person",
    );
    expect(await text("attest").textContent()).to.contain("Verify I'm a person");

    // The read is measured to the end and held at the site: not sent, so not refused.
    await text("read-seconds").filter({ hasText: "Read in full" }).waitFor({ timeout: 150_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await page.locator("[data-state]").filter({ hasText: "Your read" }).count()).to.equal(0);
    expect(await text("earned").textContent()).to.equal("None");
    await text("read-held").filter({ hasText: "Your read is kept and sent once you are verified" }).waitFor();
    const beat = await api(`/posts/${ARTICLE.sitePostId}/heartbeat`, { visible: true, focused: true, active: true });
    expect(beat.body).to.include({ complete: true, sent: false, held: "personhood_required" });
    await screenshot("unattested");
    await accessibility();
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot("unattested-mobile");
    await accessibility();
    await page.setViewportSize({ width: 900, height: 1000 });

    await page.locator("[data-testid=attest]").click();
    await text("personhood-ok").waitFor({ timeout: 60_000 });
    await screenshot("verified");
    await accessibility();
    await text("earned").filter({ hasText: "Twei" }).waitFor({ timeout: 150_000 });
    expect(await text("earned").textContent()).to.equal("1 Twei");
    await screenshot("verified-and-paid");

    // Once is enough: a second attestation is refused (409 already_attested, problem+json).
    const again = await api("/personhood/attest");
    expect(again.status).to.equal(409);
    expect(again.body.code).to.equal("already_attested");
    expect(browserStack.consoleErrors.filter((e) => !e.includes("409"))).to.deep.equal([]);
  });

  it("likes a comment: the like is counted against the day's likes, shown beside the buttons", async function () {
    await text("likes-left").filter({ hasText: "Likes left today: 20 of 20" }).waitFor();
    await page.locator("[data-comment=c-africa] [data-testid=like]").click();
    await page.getByText(/Your like: (received|settled)/).waitFor({ timeout: 150_000 });
    await text("likes-left").filter({ hasText: "Likes left today: 19 of 20" }).waitFor();
    await screenshot("liked");
  });
});
