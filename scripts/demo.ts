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
import { DEMO_SITE_ID, startDemoStack, type DemoStack } from "./demo/startDemoStack.js";

const USAGE = `usage: npm run demo [-- --keep] [-- --data-dir <dir>]
  --keep            leave the node, relayer and indexer running (Ctrl-C stops them)
  --data-dir <dir>  where the relayer's and indexer's SQLite databases go (default data/demo, wiped first)`;

const say = (line: string) => console.log(line);

let stack: DemoStack | undefined;
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say("\nstopping the indexer, relayer and Hardhat node…");
    await stack?.stop();
    say("stopped.");
  }
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
  stack = await startDemoStack({ dataDir, say: (line) => say(`  ${line}`) });
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
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  say(`\n${outcome.batches.length} batches settled; the demo took ${seconds} s.`);
  if (!values.keep) say("Run `npm run demo -- --keep` to keep it running, try the API and run the auditor on it.");

  if (!values.keep) {
    await shutdown(0);
    return;
  }
  const node = stack.node.url;
  say(`
Still running (--keep); Ctrl-C stops everything:
  Hardhat node  ${node}
  relayer API   ${stack.relayerUrl}   (site ${DEMO_SITE_ID}, API key: ${stack.apiKey})
  indexer API   ${stack.indexerUrl}
  deployment    ${stack.deploymentPath}

Try:
  curl -s ${stack.indexerUrl}/v1/posts/${outcome.articlePostId}/report?account=${author}
  curl -s ${stack.relayerUrl}/v1/users/${reader}
  curl -s ${stack.relayerUrl}/v1/batches/${outcome.batches.at(-1)?.batchId ?? "1"}
  curl -s -H "authorization: Bearer ${stack.apiKey}" ${stack.relayerUrl}/v1/events/${DEMO_SITE_ID}/read-r1
  TWEI_RPC_URL=${node} npm run audit -- --network localhost --relayer ${stack.relayerUrl}
(POST /v1/events needs the body signed by the site's key: use src/sdk/createTweiClient.ts.)`);
}

try {
  await main();
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  await stack?.stop().catch(() => {});
  process.exit(1);
}
