// npm run demo [-- --keep] [-- --data-dir <dir>]: the whole of Twei on this machine in one
// command. Starts a Hardhat node on 127.0.0.1, deploys, registers a demo site, starts the
// relayer and the indexer, plays a story through the site SDK over HTTP, and prints the
// article's PnL report for its author and for one reader, read back from the chain by the
// indexer. --keep leaves everything running for trying the API by hand; Ctrl-C stops it all.
import { rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { buildPostReport } from "../src/indexer/reports/buildPostReport.js";
import { formatReportTable } from "../src/indexer/reports/formatReportTable.js";
import { playDemoScenario } from "./demo/playDemoScenario.js";
import { addressOf, ARTICLE, PEOPLE, REPORTED_READER } from "./demo/scenario.js";
import { startDemoSite } from "./demo/startDemoSite.js";
import { DEMO_SITE_ID, startDemoStack, type DemoStack } from "./demo/startDemoStack.js";
import type { Site } from "../src/site/createSite.js";

const USAGE = `usage: npm run demo [-- --keep] [-- --data-dir <dir>]
  --keep                    leave the node, relayer, indexer and news site running (Ctrl-C stops them)
  --data-dir <dir>          where the relayer's and indexer's SQLite databases go (default data/demo, wiped first)
  --deployments-root <dir>  where deployments/localhost.json is written (default: the working directory)`;

const say = (line: string) => console.log(line);

let starting: Promise<DemoStack> | undefined;
let stack: DemoStack | undefined;
let stopping: Promise<void> | undefined;
let site: Site | undefined;
/** Stops everything once, however many signals arrive (a terminal's Ctrl-C reaches npm, tsx and us). */
async function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    say("\nstopping the indexer, relayer and Hardhat node…");
    // Ctrl-C while the stack starts: let it finish starting, then stop it (the node is detached).
    const running = stack ?? (await starting?.catch(() => undefined));
    await site?.stop();
    await running?.stop();
    say("stopped.");
  })();
  await stopping;
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
// A closed pipe (e.g. `npm run demo | head`) must not leave the node running.
process.stdout.on("error", () => void shutdown(1));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      keep: { type: "boolean", default: false },
      "data-dir": { type: "string", default: "data/demo" },
      "deployments-root": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    say(USAGE);
    return;
  }
  const started = Date.now();
  const dataDir = values["data-dir"];
  await rm(dataDir, { recursive: true, force: true });
  say("Twei demo: everything runs on this machine, on 127.0.0.1.");
  say("Keys: the Hardhat node's well-known DEV accounts (public test mnemonic): never use them for real funds.\n");
  starting = startDemoStack({
    dataDir,
    say: (line) => say(`  ${line}`),
    ...(values["deployments-root"] === undefined ? {} : { deploymentsRoot: values["deployments-root"] }),
  });
  stack = await starting;
  if (stopping) return;
  const outcome = await playDemoScenario(stack, { say });

  const author = addressOf("author");
  const reader = addressOf(REPORTED_READER);
  say(`\nThe article "${ARTICLE.title}" is post ${outcome.articlePostId} on-chain (site ${DEMO_SITE_ID}).`);
  say(`Figures below are read back from the chain's logs by the indexer; amounts in Twei.\n`);
  say(`${PEOPLE.author.name}:`);
  say(
    formatReportTable(await buildPostReport(stack.indexer.store, { postId: outcome.articlePostId, account: author })),
  );
  say(`\n${PEOPLE[REPORTED_READER].name}, a reader:`);
  say(
    formatReportTable(await buildPostReport(stack.indexer.store, { postId: outcome.articlePostId, account: reader })),
  );
  site = await startDemoSite(stack, { say: (line) => say(`  ${line}`) });
  const siteUrl = `${site.url}/articles/${ARTICLE.sitePostId}`;
  say(`\nThe demo news site, with the Twei widget under the article: ${siteUrl}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  say(`\n${outcome.batches.length} batches settled; the demo took ${seconds} s.`);
  if (!values.keep) say("Run `npm run demo -- --keep` to keep it running, try the API and run the auditor on it.");

  if (!values.keep) {
    await shutdown(0);
    return;
  }
  const node = stack.node.url;
  // A ready-signed request, so POST /v1/events can be tried with curl (the site key signs bodies).
  const { body } = await stack.client.signEvents(
    [
      {
        eventId: "read-r6-again",
        type: "post_read",
        occurredAt: Math.floor(Date.now() / 1000),
        user: addressOf("r6"),
        postId: ARTICLE.sitePostId,
        secondsRead: 40,
      },
    ],
    BigInt(Date.now()) * 1000n + 999n,
  );
  const deploymentsFlag =
    values["deployments-root"] === undefined ? "" : ` --deployments-root ${values["deployments-root"]}`;
  say(`
Still running (--keep); Ctrl-C stops everything:
  news site     ${siteUrl}   (sign in with the "demo wallet": dev accounts, local chain only)
  Hardhat node  ${node}
  relayer API   ${stack.relayerUrl}   (site ${DEMO_SITE_ID}, API key: ${stack.apiKey})
  indexer API   ${stack.indexerUrl}
  deployment    ${stack.deploymentPath}

Try:
  curl -s ${stack.indexerUrl}/v1/posts/${outcome.articlePostId}/report?account=${author}
  curl -s ${stack.relayerUrl}/v1/users/${reader}
  curl -s ${stack.relayerUrl}/v1/batches/${outcome.batches.at(-1)?.batchId ?? "1"}
  curl -s -H "authorization: Bearer ${stack.apiKey}" ${stack.relayerUrl}/v1/events/${DEMO_SITE_ID}/read-r1
  # ${PEOPLE.r6.name} comes back and reads for 40 s (body signed by the demo site's dev key):
  curl -s -X POST -H "authorization: Bearer ${stack.apiKey}" -H "content-type: application/json" \\
    --data '${body}' ${stack.relayerUrl}/v1/events
  # audit everything from the chain and the relayer's published evidence:
  npm run audit -- --network localhost${deploymentsFlag} --rpc ${node} --relayer ${stack.relayerUrl}
(Other events: sign them with the site key through src/sdk/createTweiClient.ts.)`);
}

try {
  await main();
} catch (error) {
  // Stopping on a signal makes the scenario's calls fail: that is not the demo failing.
  if (stopping) await stopping;
  else {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    await stack?.stop().catch(() => {});
    process.exit(1);
  }
}
