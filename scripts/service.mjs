// Runs one of Twei's programs: `node scripts/service.mjs <name> [args…]` (the npm scripts
// relayer, indexer, audit, register-site, report, start, send-example-event and send-permit use it).
// Compiled JavaScript from dist/ with plain Node when NODE_ENV=production or when tsx is not
// installed (a production tree: `npm ci --omit=dev` after `npm run build`); otherwise the
// TypeScript sources through tsx, for development. Needs Node >= 22.5 (node:sqlite).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PROGRAMS = {
  relayer: "relayer/main",
  "register-site": "relayer/cli/registerSite",
  indexer: "indexer/main",
  report: "indexer/cli/report",
  audit: "auditor/main",
  start: "ops/start",
  "send-example-event": "ops/sendExampleEvent",
  "send-permit": "ops/sendPermit",
};

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const name = process.argv[2] ?? "";
const program = PROGRAMS[name];
if (program === undefined) {
  console.error(`usage: node scripts/service.mjs <${Object.keys(PROGRAMS).join("|")}> [args…]`);
  process.exit(2);
}
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 5)) {
  console.error(`twei: Node ${process.version} is too old: Twei needs Node >= 22.5 (node:sqlite).`);
  process.exit(1);
}

let hasTsx = true;
try {
  createRequire(import.meta.url).resolve("tsx/esm/api");
} catch {
  hasTsx = false;
}
// The program reads its own arguments from process.argv.slice(2).
process.argv.splice(2, 1);
if (process.env.NODE_ENV === "production" || !hasTsx) {
  const file = join(root, "dist", `${program}.js`);
  if (!existsSync(file)) {
    console.error(`twei: ${file} is missing: run \`npm run build\` (with the dev dependencies) first.`);
    process.exit(1);
  }
  await import(pathToFileURL(file).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(root, "src", `${program}.ts`)).href);
}
