import { expect } from "chai";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import type { Page } from "playwright-core";
import { formatUnits } from "viem";
import { ARTICLE } from "../../scripts/demo/scenario.js";
import { SITE_ARTICLES } from "../../scripts/demo/siteArticles.js";
import { FRESH_READERS, startDemoSite } from "../../scripts/demo/startDemoSite.js";
import { KINDS } from "../../src/core/kinds.js";
import { launchChromium } from "../../src/devnet/launchChromium.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { createTweiClient } from "../../src/sdk/createTweiClient.js";
import { answerWalletRequest, type WalletMethod } from "../../src/site/answerWalletRequest.js";
import { startBrowserStack, type BrowserStack } from "./helpers/browserStack.js";

/** A dark theme a site sets with the documented custom properties only (README). */
export const DARK_THEME = `twei-widget {
  --twei-bg: #0d1117; --twei-fg: #e6edf3; --twei-muted: #9aa5b1; --twei-accent: #58a6ff;
  --twei-on-accent: #0d1117; --twei-border: #30363d; --twei-ok: #3fb950; --twei-warn: #d29922;
  --twei-danger: #f85149; --twei-gate: #d2a8ff;
}
body, main { background: #010409 !important; color: #e6edf3 !important; }`;

/** A twei amount in wei as the widget writes it. */
const twei = (wei: string) => formatUnits(BigInt(wei), 18);

describe("the widget on the demo news site, in headless Chromium", function () {
  // Generous waits: on a loaded 2-core machine the reading heartbeats and settlement slow down.
  this.timeout(900_000);
  let browserStack: BrowserStack;
  let page: Page;
  const screenshot = (name: string) => browserStack.screenshot(page, name);
  const indexer = async (path: string) =>
    (await (await fetch(`${browserStack.stack.indexerUrl}${path}`)).json()) as Record<string, unknown>;
  const reader = hardhatAccount(FRESH_READERS[0].index).address;
  const article = (slug: string) => `${browserStack.site.url}/articles/${slug}`;
  const text = (testId: string) => page.locator(`[data-testid=${testId}]`).first();
  /** axe-core over the whole page (or `context`), the widget's shadow DOM included. */
  const accessibility = (target: Page = page, context = "document") => browserStack.accessibility(target, context);
  /** Both widths a reader brings: a desktop window and a 390 px phone; a screenshot of each. */
  const onBothWidths = async (name: string) => {
    await screenshot(name);
    await accessibility();
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(`${name}-mobile`);
    await accessibility();
    await page.setViewportSize({ width: 1280, height: 800 });
  };

  before(async function () {
    browserStack = await startBrowserStack({
      // The screenshots of each state (look at them: they are the widget as a reader sees it).
      output: "site-widget",
      // The demo clock: 20 measured seconds per real second, a heartbeat every 250 ms (tests only).
      site: { clockRate: 20, heartbeatMs: 250 },
    });
    page = await browserStack.openPage();
  });

  after(async function () {
    await browserStack?.stop();
  });

  it("plays a reader's visit: sign in, allowance, read and earn", async function () {
    await page.goto(article(ARTICLE.sitePostId));
    await page.getByText("Not signed in.").waitFor();
    expect(await text("earned").textContent()).to.equal("None");
    await page.getByText("Available from LVL 13").waitFor();
    expect(await text("comment-count").textContent()).to.equal("5 Comments");
    for (const name of ["Africa", "Bermudez", "ZmeeLove", "Habibi", "Muchacho"])
      await page.locator(".comment b", { hasText: name }).first().waitFor();
    expect(await page.getByRole("heading", { name: "Comment-to-Earn" }).count()).to.equal(1);
    expect(await text("plus-count").textContent()).to.match(/^ \d+$/);
    await onBothWidths("not-signed-in");

    await page.locator("[data-testid=demo-account]").selectOption(reader);
    await page.locator("[data-testid=demo-sign-in]").click();
    await text("signed-in").filter({ hasText: FRESH_READERS[0].name }).waitFor();
    expect(await text("allowance-line").textContent()).to.contain("You have not let Twei spend any of your Twei yet");
    await onBothWidths("signed-in");

    await page.locator("[data-testid=grant]").click();
    await text("granted").filter({ hasText: "Allowed" }).waitFor();
    await text("allowance").filter({ hasText: /^10$/ }).waitFor();
    await screenshot("allowance-granted");

    // Reading: the site measures it from heartbeats; the read goes out at the full time.
    await page.locator("[data-state=pending], [data-state=settled]").first().waitFor();
    await screenshot("read-sent");
    await text("earned").filter({ hasText: "Twei" }).waitFor({ timeout: 150_000 });
    const report = await indexer(`/v1/posts/report?site=1&sitePostId=${ARTICLE.sitePostId}&account=${reader}`);
    const earned = twei((report.readToEarn as { wei: string }).wei);
    expect(earned).to.equal("1");
    expect(await text("earned").textContent()).to.equal(`${earned} Twei`);
    expect(await text("read-seconds").textContent()).to.contain("Read in full");
    await screenshot("read-settled");
  });

  it("pluses until the daily budget runs out", async function () {
    await page.locator("[data-testid=plus]").click();
    await text("budget").filter({ hasText: "Pluses left today: 2 of 3" }).waitFor();
    await page.getByText("Your vote: settled").waitFor({ timeout: 150_000 });
    await screenshot("plus-settled");
  });

  it("comments below LVL 13 (the gate) and likes a comment", async function () {
    const count = Number((await text("comment-count").textContent())?.split(" ")[0]);
    // A throwaway is not taken (and not charged): the box says how long a comment must be and what it costs.
    await page.locator("[data-testid=comment-text]").fill("ok");
    expect(await text("comment-length").textContent()).to.equal("2 of at least 20 characters");
    expect(await page.locator("[data-testid=comment-submit]").isDisabled()).to.equal(true);
    expect(await text("comment-cost").textContent()).to.match(/^posting costs [\d.]+ Twei$/);
    await page.locator("[data-testid=comment-text]").fill("A first comment from a new reader: the midstream matters.");
    await page.locator("[data-testid=comment-submit]").click();
    await text("comment-count")
      .filter({ hasText: `${count + 1} Comments` })
      .waitFor();
    await page.getByText("Your comment: settled").waitFor({ timeout: 150_000 });
    expect(await text("gate").textContent()).to.equal("Available from LVL 13");
    await screenshot("commented-below-level-13");

    await page.locator("[data-comment=c-africa] [data-testid=like]").click();
    await page.getByText("Your like: settled").waitFor({ timeout: 150_000 });
    await screenshot("liked");
  });

  it("reads a second article, then pluses until 'You have run out of Pluses for today'", async function () {
    const [, second, third, fourth] = SITE_ARTICLES;
    await page.goto(article(second!.slug));
    await text("earned").filter({ hasText: "Twei" }).waitFor({ timeout: 150_000 });
    await page.locator("[data-testid=plus]").click();
    await text("budget").filter({ hasText: "Pluses left today: 1 of 3" }).waitFor();
    await page.goto(article(third!.slug));
    await page.locator("[data-testid=plus]").click();
    await text("budget").filter({ hasText: "You have run out of Pluses for today" }).waitFor();
    await page.goto(article(fourth!.slug));
    await text("budget").filter({ hasText: "You have run out of Pluses for today" }).waitFor();
    expect(await page.locator("[data-testid=plus]").isDisabled()).to.equal(true);
    await screenshot("out-of-pluses");
  });

  it("buys a PnL report: the price burned on-chain, the instance's lines are the indexer's", async function () {
    await page.goto(article(ARTICLE.sitePostId));
    expect(await text("total-earned").textContent()).to.equal("...");
    await page.locator("[data-testid=buy]").click();
    // A confirmation names the price before anything is spent.
    expect(await text("buy-confirm").textContent()).to.contain("Buy this post's report for 1 Twei?");
    await screenshot("buy-confirmation");
    await page.locator("[data-testid=buy-yes]").click();
    await text("instance-id").waitFor({ timeout: 150_000 });
    const id = ((await text("instance-id").textContent()) ?? "").replace(/^#/, "");
    const instance = await indexer(`/v1/report-instances/${id}`);
    expect(await text("instance-hash").textContent()).to.equal(instance.contentHash);
    expect(await text("instance-block").textContent()).to.equal((instance.block as { number: string }).number);
    const lines = (instance.content as { lines: Array<{ kind: number; amount: string }> }).lines;
    for (const kind of KINDS) {
      const line = lines.find((l) => l.kind === kind.kind);
      expect(await page.locator(`[data-kind="${kind.kind}"] td.n`).textContent(), kind.label).to.equal(
        twei(line!.amount),
      );
    }
    const content = instance.content as Record<
      "readToEarn" | "profitSubtotal" | "lossSubtotal" | "totalEarned",
      string
    >;
    expect(await text("total-earned").textContent()).to.equal(twei(content.totalEarned));
    // The figures on screen add up: Read-to-Earn + Profit Subtotal − Loss Subtotal = Total.
    const shown = async (locator: string) =>
      BigInt(Math.round(Number(await page.locator(locator).textContent()) * 1e6));
    const r2e = await shown('[data-kind="0"] td.n');
    const profit = await shown("[data-testid=profit-subtotal]");
    const loss = await shown("[data-testid=loss-subtotal]");
    expect(r2e + profit - loss).to.equal(await shown("[data-testid=total-earned]"));
    expect(await page.locator("twei-widget").evaluate((w) => w.shadowRoot?.textContent ?? "")).not.to.match(
      /npm run|--instance/,
    );
    await onBothWidths("report-bought");

    // A dark theme through the documented custom properties reaches every part of the widget.
    const dark = await page.addStyleTag({ content: DARK_THEME });
    await page.locator("twei-widget").screenshot({ path: join(browserStack.outputDir, "dark-theme.png") });
    await accessibility(page, 'document.querySelector("twei-widget")');
    await dark.evaluate((style) => style.remove());
  });

  it("says in plain words why a purchase is rejected (a reader with no Twei)", async function () {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("Not signed in.").waitFor();
    await page.locator("[data-testid=demo-account]").selectOption(hardhatAccount(FRESH_READERS[1].index).address);
    await page.locator("[data-testid=demo-sign-in]").click();
    await text("signed-in").filter({ hasText: FRESH_READERS[1].name }).waitFor();
    // Buy is disabled with the reason, next to the button.
    await text("buy-reason").filter({ hasText: "A report costs 1 Twei; you hold 0 Twei." }).waitFor();
    expect(await page.locator("[data-testid=buy]").isDisabled()).to.equal(true);
    // A minus it cannot pay: the reason shows in the votes box, beside the button pressed.
    await page.locator("[data-testid=minus]").click();
    await page
      .locator("twei-widget section[part=votes] [data-state=rejected]")
      .filter({ hasText: "Your vote: not accepted. You do not have enough Twei" })
      .waitFor();
    await screenshot("rejected-in-plain-words");
    expect(browserStack.consoleErrors, browserStack.consoleErrors.join("\n")).to.deep.equal([]);
  });

  it("signs in and grants the allowance with an injected EIP-1193 wallet (window.ethereum)", async function () {
    const wallet = await launchChromium();
    try {
      const holder = hardhatAccount(FRESH_READERS[2].index);
      // The page's window.ethereum forwards each request to a wallet holding the dev key here.
      await wallet.context.exposeFunction("tweiTestWallet", (method: WalletMethod, params: unknown[]) =>
        answerWalletRequest(holder, browserStack.stack.deployment.chainId, method, params),
      );
      await wallet.context.addInitScript({
        content: `window.ethereum = { request: ({ method, params }) => window.tweiTestWallet(method, params ?? []) };`,
      });
      const injected = await wallet.context.newPage();
      const errors: string[] = [];
      injected.on("console", (message) => message.type() === "error" && errors.push(message.text()));
      await injected.goto(article(ARTICLE.sitePostId));
      await injected.locator("[data-testid=sign-in]").click();
      await injected.locator("[data-testid=signed-in]").filter({ hasText: FRESH_READERS[2].name }).waitFor();
      await injected.locator("[data-testid=grant]").click();
      await injected.locator("[data-testid=allowance]").filter({ hasText: /^10$/ }).waitFor();
      expect(errors, errors.join("\n")).to.deep.equal([]);
    } finally {
      await wallet.close();
    }
  });

  it("says when the relayer and indexer cannot be reached", async function () {
    const dead = "http://127.0.0.1:9";
    const { stack, dataDir } = browserStack;
    const offline = await startDemoSite(stack, {
      publish: false,
      overrides: {
        // Its own store: sharing the first site's would share its sessions (one cookie host, 127.0.0.1).
        databasePath: join(dataDir, "offline-site.sqlite"),
        relayerUrl: dead,
        indexerUrl: dead,
        twei: createTweiClient({
          url: dead,
          apiKey: stack.apiKey,
          siteId: 1,
          signer: stack.siteSigner,
          chainId: stack.deployment.chainId,
          ledger: stack.deployment.ledger,
        }),
      },
    });
    try {
      await page.goto(`${offline.url}/articles/${ARTICLE.sitePostId}`);
      await text("unreachable").filter({ hasText: "Twei's relayer and Twei's indexer cannot be reached" }).waitFor();
      // Signed out, nothing is measured: the banner does not claim it is.
      expect(await text("unreachable").textContent()).not.to.contain("Your reading is still measured");
      await screenshot("relayer-and-indexer-unreachable");
      // Signed in (the wallet and the chain still answer), the banner stays, after a reload too.
      await page.locator("[data-testid=demo-account]").selectOption(hardhatAccount(FRESH_READERS[1].index).address);
      await page.locator("[data-testid=demo-sign-in]").click();
      await text("signed-in").waitFor();
      await page.reload();
      await text("unreachable").filter({ hasText: "Your reading is still measured" }).waitFor();
      await screenshot("relayer-unreachable-signed-in");
    } finally {
      await offline.stop();
    }
  });
});
