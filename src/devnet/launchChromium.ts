import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`); Playwright's own browser download cannot reach these machines. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Headless Chromium with a fresh profile, kept off the network beyond what a page asks for
 * (without the background-networking flags it floods a closed network with update and sync
 * requests). For the browser tests and `npm run bench:site`.
 *
 * @example
 * const browser = await launchChromium(); const page = await browser.context.newPage(); … await browser.close();
 */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), "twei-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 900, height: 1000 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
