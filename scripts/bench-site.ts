/**
 * `npm run bench:site`: the widget's weight and the time to a usable widget on loopback.
 * Bundles the widget (esbuild, minified) and gzips it; then starts the demo stack and site
 * (Hardhat node, relayer, indexer, the demo's story) and loads the article in headless
 * Chromium BENCH_RUNS times (default 7), each in a fresh page, timing from the navigation's
 * start to the widget's `twei-ready` event (its configuration and the post's state loaded and
 * rendered). Final line: `widget_kb_gzip=<N> widget_ready_ms=<M>` (M the median).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { launchChromium } from "../src/devnet/launchChromium.js";
import { buildWidget } from "../src/site/widgetBundle.js";
import { playDemoScenario } from "./demo/playDemoScenario.js";
import { ARTICLE } from "./demo/scenario.js";
import { startDemoSite } from "./demo/startDemoSite.js";
import { startDemoStack } from "./demo/startDemoStack.js";

const runs = Number(process.env.BENCH_RUNS ?? 7);
const bundle = await buildWidget();
const kb = gzipSync(bundle, { level: 9 }).length / 1024;
console.log(`widget bundle: ${(bundle.length / 1024).toFixed(1)} KB minified, ${kb.toFixed(1)} KB gzip`);

const dataDir = await mkdtemp(join(tmpdir(), "twei-bench-site-"));
console.log("starting the demo stack and site (node, relayer, indexer, the demo's story)…");
const stack = await startDemoStack({ dataDir, deploymentsRoot: dataDir });
const browser = await launchChromium();
try {
  await playDemoScenario(stack);
  const site = await startDemoSite(stack);
  try {
    // Runs in the page before its scripts: notes when the widget says it is ready.
    await browser.context.addInitScript({
      content: `addEventListener("twei-ready", () => (globalThis.tweiReadyAt = performance.now()));`,
    });
    const times: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const page = await browser.context.newPage();
      await page.goto(`${site.url}/articles/${ARTICLE.sitePostId}`);
      const ms = await page.waitForFunction(() => (globalThis as unknown as { tweiReadyAt?: number }).tweiReadyAt);
      const value = Number(await ms.jsonValue());
      if (process.env.BENCH_TRACE)
        console.log(
          await page.evaluate(() =>
            performance
              .getEntriesByType("resource")
              .map(
                (e) => `${e.name.replace(/^https?:\/\/[^/]+/, "")} ${e.startTime.toFixed(0)}+${e.duration.toFixed(0)}`,
              )
              .join("\n"),
          ),
        );
      await page.close();
      if (i === 0) continue; // the first load warms the server's caches and the browser
      times.push(value);
      console.log(`  load ${i}/${runs}: widget ready ${value.toFixed(0)} ms after navigation start`);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] ?? NaN;
    console.log(`widget_kb_gzip=${kb.toFixed(1)} widget_ready_ms=${median.toFixed(0)}`);
  } finally {
    await site.stop();
  }
} finally {
  await browser.close();
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
}
