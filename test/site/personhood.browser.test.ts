import { expect } from "chai";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import type { Page } from "playwright-core";
import { playDemoScenario } from "../../scripts/demo/playDemoScenario.js";
import { ARTICLE } from "../../scripts/demo/scenario.js";
import { FRESH_READERS, startDemoSite } from "../../scripts/demo/startDemoSite.js";
import { startDemoStack, type DemoStack } from "../../scripts/demo/startDemoStack.js";
import { launchChromium } from "../../src/devnet/launchChromium.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import type { Site } from "../../src/site/createSite.js";

/** The screenshots of each state (look at them: the widget as an unattested reader sees it). */
const OUTPUT = join(process.cwd(), "test-output", "site-personhood");
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

// Issue 22, part 3 in the browser: the demo site's policy requires proof of personhood (EAS) and
// the site attests its signed-in readers who ask. A fresh reader is told in plain words what
// earning needs; their read is measured and held (not refused); they verify, the read goes out
// and pays in full; the site refuses a second attestation. Real stack: Hardhat node with EAS,
// relayer, indexer, the demo site, headless Chromium.
describe("proof of personhood in the widget: an unattested reader is told, verifies, then earns", function () {
  this.timeout(900_000);
  let dataDir: string;
  let stack: DemoStack;
  let site: Site;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const consoleErrors: string[] = [];
  let shot = 0;
  const screenshot = async (name: string) => {
    shot += 1;
    await page.screenshot({ path: join(OUTPUT, `${String(shot).padStart(2, "0")}-${name}.png`), fullPage: true });
  };
  const reader = FRESH_READERS[1];
  const text = (testId: string) => page.locator(`[data-testid=${testId}]`).first();
  const accessibility = async () => {
    await page.addScriptTag({ content: await readFile(AXE, "utf8") });
    const found = (await page.evaluate(
      `axe.run(document).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target) })))`,
    )) as Array<{ id: string; impact: string; targets: unknown[] }>;
    const violations = found
      .filter((v) => v.impact === "critical" || v.impact === "serious")
      .map((v) => `${v.impact} ${v.id}: ${JSON.stringify(v.targets).slice(0, 300)}`);
    expect(violations, violations.join("\n")).to.deep.equal([]);
  };
  /** The site's API from the page, with the reader's session cookie. */
  const api = async (path: string, body: unknown = {}) =>
    (await page.evaluate(
      `fetch("/twei/api${path}", { method: "POST", headers: { "content-type": "application/json" }, body: ${JSON.stringify(JSON.stringify(body))} })
        .then(async (r) => ({ status: r.status, body: await r.json() }))`,
    )) as { status: number; body: Record<string, unknown> };

  before(async function () {
    await rm(OUTPUT, { recursive: true, force: true });
    await mkdir(OUTPUT, { recursive: true });
    dataDir = await mkdtemp(join(tmpdir(), "twei-personhood-"));
    stack = await startDemoStack({ dataDir, deploymentsRoot: dataDir, personhood: true });
    await playDemoScenario(stack);
    site = await startDemoSite(stack, { clockRate: 20, heartbeatMs: 250 });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(error.message));
  });

  after(async function () {
    await browser?.close();
    await site?.stop();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("says what earning needs, holds the finished read, verifies on request, then pays the read in full", async function () {
    await page.goto(`${site.url}/articles/${ARTICLE.sitePostId}`);
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
    expect(consoleErrors.filter((e) => !e.includes("409"))).to.deep.equal([]);
  });

  it("likes a comment: the like is counted against the day's likes, shown beside the buttons", async function () {
    await text("likes-left").filter({ hasText: "Likes left today: 20 of 20" }).waitFor();
    await page.locator("[data-comment=c-africa] [data-testid=like]").click();
    await page.getByText(/Your like: (received|settled)/).waitFor({ timeout: 150_000 });
    await text("likes-left").filter({ hasText: "Likes left today: 19 of 20" }).waitFor();
    await screenshot("liked");
  });
});
