// npm run site [-- --port <n>]: the demo news site with the Twei widget, on a local stack of its
// own. Starts a Hardhat node, the relayer and the indexer (as `npm run demo` does), plays the
// demo's story quietly so the article has its readers and comments, then serves the site on
// 127.0.0.1 and prints its URL. Proof of personhood is on unless `--personhood off`: the site's
// policy requires an EAS attestation for earning and the site attests a signed-in reader who
// asks ("Verify I'm a person" in the widget). The newcomer hold (a new account is paid from its
// second day of reading) is off unless `--newcomer-hold on`, so a fresh reader is paid at once.
// Ctrl-C stops everything.
import { rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { playDemoScenario } from "./demo/playDemoScenario.js";
import { ARTICLE } from "./demo/scenario.js";
import { startDemoSite } from "./demo/startDemoSite.js";
import { startDemoStack, type DemoStack } from "./demo/startDemoStack.js";
import type { Site } from "../src/site/createSite.js";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    "data-dir": { type: "string", default: "data/site" },
    personhood: { type: "string", default: "on" },
    "newcomer-hold": { type: "string", default: "off" },
    help: { type: "boolean", default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(`usage: npm run site [-- --port <n>] [-- --data-dir <dir>]
  --port <n>        the site's port on 127.0.0.1 (default: a free one)
  --data-dir <dir>  the relayer's and indexer's SQLite databases (default data/site, wiped first)
  --personhood on|off  the site's policy requires proof of personhood (EAS) for earning and the
                    site attests signed-in readers who ask ("Verify I'm a person"); default on
  --newcomer-hold on|off  the site kit's newcomer hold: a new account's reads are kept and paid
                    from its second day of reading (the kit's default); default off here`);
  process.exit(0);
}
if (values.personhood !== "on" && values.personhood !== "off") {
  console.error("site: --personhood takes on or off");
  process.exit(2);
}
if (values["newcomer-hold"] !== "on" && values["newcomer-hold"] !== "off") {
  console.error("site: --newcomer-hold takes on or off");
  process.exit(2);
}

let stack: DemoStack | undefined;
let site: Site | undefined;
let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await site?.stop();
    await stack?.stop();
  }
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

try {
  await rm(values["data-dir"], { recursive: true, force: true });
  console.log("Twei demo site: a local Hardhat node, the relayer, the indexer and the site, all on 127.0.0.1.");
  console.log("Keys: the Hardhat node's public DEV accounts: never use them for real funds.");
  stack = await startDemoStack({
    dataDir: values["data-dir"],
    say: (line) => console.log(`  ${line}`),
    personhood: values.personhood === "on",
  });
  console.log("  playing the demo's story (readers, votes, comments) so the article has a history…");
  await playDemoScenario(stack);
  site = await startDemoSite(stack, {
    ...(values.port === undefined ? {} : { port: Number(values.port) }),
    say: (line) => console.log(`  ${line}`),
    newcomerHold: values["newcomer-hold"] === "on",
  });
  console.log(`
The site is up (Ctrl-C stops everything):
  site          ${site.url}/articles/${ARTICLE.sitePostId}
  relayer API   ${stack.relayerUrl}
  indexer API   ${stack.indexerUrl}
Sign in with the "demo wallet" (the node's dev accounts, signed by the site's server) or a wallet
extension pointed at ${stack.node.url} (chain id ${stack.deployment.chainId}).`);
} catch (error) {
  console.error(`site failed: ${error instanceof Error ? error.message : String(error)}`);
  await stop(1);
}
