import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { describe, it } from "mocha";
import { createIndexerMetrics } from "../../src/indexer/metrics.js";
import { createWatchMetrics } from "../../src/auditor/watch/watchMetrics.js";
import { createRelayerMetrics } from "../../src/relayer/metrics.js";

/** Metrics that come from outside Twei's processes: Prometheus's own. */
const EXTERNAL = new Set(["up"]);

/** The metric names a PromQL expression reads (histogram series folded to their metric). */
function metricNames(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, "").replace(/\[[^\]]*\]/g, "");
  const names = withoutLabels.match(/\b(?:twei_[a-z0-9_]+|up)\b/g) ?? [];
  return names.map((name) => name.replace(/_(bucket|sum|count)$/, ""));
}

async function registeredNames(): Promise<Set<string>> {
  const registries = [createRelayerMetrics().registry, createIndexerMetrics().registry, createWatchMetrics().registry];
  const names = new Set<string>();
  for (const registry of registries) for (const metric of await registry.getMetricsAsJSON()) names.add(metric.name);
  return names;
}

describe("operator dashboards and alerts", function () {
  it("the Grafana dashboard's panels read only metrics the relayer, indexer and watchtower export, and cover all three", async function () {
    const dashboard = JSON.parse(await readFile("docs/grafana/twei.json", "utf8")) as {
      panels: { title: string; type: string; id: number; targets?: { expr: string }[] }[];
    };
    const registered = await registeredNames();
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      if (panel.type === "row") continue;
      expect(panel.targets?.length ?? 0, panel.title).to.be.greaterThan(0);
      for (const { expr } of panel.targets ?? []) for (const name of metricNames(expr)) used.add(name);
    }
    const unknown = [...used].filter((name) => !registered.has(name) && !EXTERNAL.has(name));
    expect(unknown, "metrics named by the dashboard that nothing exports").to.deep.equal([]);
    expect([...used].some((name) => name.startsWith("twei_relayer_"))).to.equal(true);
    expect([...used].some((name) => name.startsWith("twei_indexer_"))).to.equal(true);
    expect([...used].some((name) => name.startsWith("twei_watchtower_"))).to.equal(true);
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size, "panel ids are unique").to.equal(ids.length);
  });

  it("every alert reads exported metrics, and the documented alerts are all there", async function () {
    const text = await readFile("docs/prometheus/twei-alerts.yml", "utf8");
    // The rules file's shape: `- alert: Name` then an `expr:` (one line or a folded block).
    const alerts = [
      ...text.matchAll(/- alert: (\w+)\n\s+(?:#[^\n]*\n\s+)*expr: (>\n(?:\s{10,}[^\n]*\n)+|[^\n]*\n)/g),
    ].map(([, name, expr]) => ({ name: name ?? "", expr: expr ?? "" }));
    expect(alerts.length).to.equal((text.match(/- alert: /g) ?? []).length);
    const registered = await registeredNames();
    for (const { name, expr } of alerts) {
      const names = metricNames(expr);
      expect(names.length, `${name} reads a metric`).to.be.greaterThan(0);
      expect(
        names.filter((metric) => !registered.has(metric) && !EXTERNAL.has(metric)),
        `${name}'s unknown metrics`,
      ).to.deep.equal([]);
    }
    expect(alerts.map(({ name }) => name)).to.include.members([
      "TweiRelayerBalanceLow",
      "TweiRelayerQueueAgeHigh",
      "TweiSettlementFailing",
      "TweiWatchtowerDiscrepancy",
      "TweiWatchtowerDown",
      "TweiIndexerLagging",
      "TweiIndexerDown",
    ]);
  });
});
