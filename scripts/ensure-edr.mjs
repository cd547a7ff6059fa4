// Hardhat 3 runs on the native EDR simulator. npm skips EDR's platform package when it
// runs under a Node older than 22 (the package declares engines >= 22), so on machines
// whose system Node is 20 the first `npm install` leaves it out. npm scripts put
// node_modules/.bin first on PATH, so this script runs under the pinned node@24: if the
// native package cannot be loaded, install once more with npm under this Node.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

// Checked in a child process: require() caches a failed resolution for the process.
function edrLoads() {
  const probe = spawnSync(process.execPath, ["-e", "require('@nomicfoundation/edr')"], {
    stdio: "ignore",
  });
  return probe.status === 0;
}

// A production install (`npm ci --omit=dev`) has no Hardhat, so nothing to check.
try {
  createRequire(import.meta.url).resolve("hardhat/package.json");
} catch {
  process.exit(0);
}

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(`ensure-edr: running under Node ${process.version}; Hardhat 3 needs Node >= 22.`);
  console.error("ensure-edr: node_modules/.bin/node (the node@24 dev dependency) should come first on PATH.");
  process.exit(1);
}

if (edrLoads()) process.exit(0);
if (process.env.TWEI_ENSURE_EDR_RUNNING) {
  console.error("ensure-edr: the EDR native package is still missing after a second install.");
  process.exit(1);
}

console.log(`ensure-edr: installing EDR's native package under Node ${process.version}`);
const npmCli = process.env.npm_execpath;
const result = spawnSync(
  npmCli ? process.execPath : "npm",
  [...(npmCli ? [npmCli] : []), "install", "--no-audit", "--no-fund"],
  { stdio: "inherit", env: { ...process.env, TWEI_ENSURE_EDR_RUNNING: "1" } },
);
if (result.status !== 0 || !edrLoads()) {
  console.error("ensure-edr: could not install @nomicfoundation/edr's native package.");
  process.exit(1);
}
