import { expect } from "chai";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { playDemoScenario } from "../../../scripts/demo/playDemoScenario.js";
import { startDemoSite, type DemoSiteOptions } from "../../../scripts/demo/startDemoSite.js";
import { startDemoStack, type DemoStack, type DemoStackOptions } from "../../../scripts/demo/startDemoStack.js";
import { launchChromium } from "../../../src/devnet/launchChromium.js";
import type { Site } from "../../../src/site/createSite.js";

/** axe-core's browser build, injected into a page to audit it. */
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** A headless Chromium of launchChromium (its own profile: its own cookies, so its own reader). */
export type Chromium = Awaited<ReturnType<typeof launchChromium>>;

export interface BrowserStackOptions {
  /**
   * The folder under `test-output/` the screenshots go to (emptied first); it also names the
   * temporary data directory (`twei-<name>-…`).
   */
  readonly output: string;
  /** For the demo stack, beyond its data directories (`personhood`). */
  readonly stack?: Omit<DemoStackOptions, "dataDir" | "deploymentsRoot">;
  /** For the demo site: its clock rate and heartbeat, `newcomerHold`, `overrides` (limits). */
  readonly site: DemoSiteOptions;
}

export interface OpenPageOptions {
  /** The Chromium to open the page in: the stack's own `browser` unless given. */
  readonly browser?: Chromium;
  /** Put before each error this page collects (`"Ines: …"`), where several readers' pages are open. */
  readonly who?: string;
  /**
   * Whether a `console.error` message counts as an error (all of them do unless given); uncaught
   * page errors always count.
   */
  readonly countsConsoleError?: (text: string) => boolean;
}

export interface ScreenshotOptions {
  /**
   * A second picture of one element under the same number: `{ selector: "twei-widget", suffix:
   * "widget" }` writes `NN-<name>-widget.png` beside the full page's `NN-<name>.png`.
   */
  readonly element?: { readonly selector: string; readonly suffix: string };
}

export interface BrowserStack {
  /** The temporary directory the stack's databases are in (removed by `stop`). */
  readonly dataDir: string;
  readonly stack: DemoStack;
  readonly site: Site;
  /** The Chromium launched with the stack (closed by `stop`). */
  readonly browser: Chromium;
  /** `test-output/<output>/`, absolute: where the screenshots go. */
  readonly outputDir: string;
  /** Every error the pages opened with `openPage` logged or threw (a test expects none). */
  readonly consoleErrors: string[];
  /** Launches another Chromium (another reader's cookies), closed by `stop` unless closed before. */
  launchBrowser(): Promise<Chromium>;
  /** A new page whose console errors and uncaught errors go to `consoleErrors`. */
  openPage(options?: OpenPageOptions): Promise<Page>;
  /** A full-page screenshot, numbered in the order taken: `test-output/<output>/NN-<name>.png`. */
  screenshot(page: Page, name: string, options?: ScreenshotOptions): Promise<void>;
  /**
   * axe-core over `context` (a JavaScript expression in the page: the whole `document` unless
   * given), the widget's shadow DOM included: fails listing each critical or serious violation.
   */
  accessibility(page: Page, context?: string): Promise<void>;
  /** Closes every browser, stops the site and the stack, removes the data directory. */
  stop(): Promise<void>;
}

/**
 * What every browser test of the site starts: the demo stack (Hardhat node, relayer, indexer)
 * with the demo story played, the demo news site on it, and one headless Chromium; plus the
 * means to open pages that collect their errors, take numbered screenshots and run axe-core.
 * It empties `test-output/<output>/` first. If a part fails to start, what started is stopped.
 *
 * @example
 * let b: BrowserStack;
 * let page: Page;
 * before(async () => {
 *   b = await startBrowserStack({ output: "site-widget", site: { clockRate: 20, heartbeatMs: 250 } });
 *   page = await b.openPage();
 * });
 * after(async () => b?.stop());
 * it("…", async () => {
 *   await page.goto(`${b.site.url}/articles/${ARTICLE.sitePostId}`);
 *   await b.screenshot(page, "not-signed-in"); // test-output/site-widget/01-not-signed-in.png
 *   await b.accessibility(page);
 *   expect(b.consoleErrors).to.deep.equal([]);
 * });
 */
export async function startBrowserStack(options: BrowserStackOptions): Promise<BrowserStack> {
  const outputDir = join(process.cwd(), "test-output", options.output);
  await rm(outputDir, { recursive: true, force: true });
  await mkdir(outputDir, { recursive: true });
  const dataDir = await mkdtemp(join(tmpdir(), `twei-${options.output}-`));
  const browsers = new Set<Chromium>();
  let stack: DemoStack | undefined;
  let site: Site | undefined;
  const stop = async () => {
    for (const browser of [...browsers]) await browser.close();
    await site?.stop();
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  /** A Chromium that leaves the set `stop` closes once the test closes it itself. */
  const launchBrowser = async (): Promise<Chromium> => {
    const launched = await launchChromium();
    const browser: Chromium = {
      context: launched.context,
      async close() {
        browsers.delete(browser);
        await launched.close();
      },
    };
    browsers.add(browser);
    return browser;
  };
  try {
    stack = await startDemoStack({ ...options.stack, dataDir, deploymentsRoot: dataDir });
    await playDemoScenario(stack);
    site = await startDemoSite(stack, options.site);
    const browser = await launchBrowser();
    const consoleErrors: string[] = [];
    let shot = 0;
    return {
      dataDir,
      stack,
      site,
      browser,
      outputDir,
      consoleErrors,
      launchBrowser,
      async openPage({ browser: opener = browser, who, countsConsoleError = () => true } = {}) {
        const page = await opener.context.newPage();
        const label = who === undefined ? "" : `${who}: `;
        page.on("console", (message) => {
          if (message.type() === "error" && countsConsoleError(message.text()))
            consoleErrors.push(`${label}${message.text()}`);
        });
        page.on("pageerror", (error) => consoleErrors.push(`${label}${error.message}`));
        return page;
      },
      async screenshot(page, name, { element } = {}) {
        shot += 1;
        const file = `${String(shot).padStart(2, "0")}-${name}`;
        await page.screenshot({ path: join(outputDir, `${file}.png`), fullPage: true });
        if (element)
          await page.locator(element.selector).screenshot({ path: join(outputDir, `${file}-${element.suffix}.png`) });
      },
      async accessibility(page, context = "document") {
        await page.addScriptTag({ content: await readFile(AXE, "utf8") });
        // The function runs in the page (its window.axe), written as a string: this file has no DOM types.
        const found = (await page.evaluate(
          `axe.run(${context}).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target) })))`,
        )) as Array<{ id: string; impact: string; targets: unknown[] }>;
        const violations = found
          .filter((v) => v.impact === "critical" || v.impact === "serious")
          .map((v) => `${v.impact} ${v.id}: ${JSON.stringify(v.targets).slice(0, 300)}`);
        expect(violations, violations.join("\n")).to.deep.equal([]);
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}
