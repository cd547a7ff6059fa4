import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cp, mkdir, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { freePort } from "../../src/devnet/startHardhatNode.js";
import { writeTestDeployment } from "../relayer/helpers/relayerProcess.js";
import { startTestChain, type TestChain } from "../relayer/helpers/testChain.js";
import { removeDir, tempDir, waitFor } from "../relayer/helpers/testRelayer.js";

const run = promisify(execFile);

/**
 * The production tree: `npm run build`'s TypeScript half (the contracts are built by the test
 * runner), the built files copied into an empty directory, `npm ci --omit=dev` there (no tsx,
 * no Hardhat), then `npm start` serving the relayer's and the indexer's /readyz. The copy runs
 * under this test's Node (>= 22.5, for node:sqlite): the Node 24 of the unpruned tree here.
 */
describe("production tree (npm run build, npm ci --omit=dev, npm start)", function () {
  this.timeout(900_000);
  let chain: TestChain;
  let tree: string;
  let services: ChildProcess | undefined;
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };

  before(async function () {
    console.error("    production tree: compiling src/ to dist/ (tsc -p tsconfig.build.json)…");
    await run(join(process.cwd(), "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"], { env });
    tree = await tempDir("production-tree");
    for (const path of ["package.json", "package-lock.json", "dist", "scripts/service.mjs", "scripts/ensure-edr.mjs"])
      await cp(path, join(tree, path), { recursive: true });
    console.error(`    production tree: npm ci --omit=dev in ${tree}…`);
    await run("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: tree, env });
    chain = await startTestChain();
    await writeTestDeployment(chain, tree);
  });
  after(async function () {
    if (services?.pid !== undefined && services.exitCode === null) {
      const exited = new Promise((resolve) => services?.once("exit", resolve));
      process.kill(-services.pid, "SIGTERM");
      await exited;
    }
    await chain?.stop();
    if (tree) await removeDir(tree);
  });

  it("has no development dependency installed", async function () {
    const installed = await readdir(join(tree, "node_modules"));
    for (const dev of ["tsx", "hardhat", "mocha", "node", "solc"]) expect(installed).to.not.include(dev);
  });

  it("starts the relayer and the indexer with plain Node, both ready", async function () {
    const [relayerPort, indexerPort] = [await freePort(), await freePort()];
    await mkdir(join(tree, "data"), { recursive: true });
    let output = "";
    services = spawn("npm", ["start"], {
      cwd: tree,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...env,
        NODE_ENV: "production",
        RELAYER_PRIVATE_KEY: chain.relayerKey,
        TWEI_RPC_URL: chain.node.url,
        TWEI_NETWORK: "test",
        RELAYER_PORT: String(relayerPort),
        INDEXER_PORT: String(indexerPort),
        LOG_LEVEL: "info",
      },
    });
    services.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    services.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const ready = async (url: string) => {
      if (services?.exitCode !== null) throw new Error(`npm start exited:\n${output.slice(-3_000)}`);
      const response = await fetch(url).catch(() => undefined);
      return response?.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
    };
    const relayer = await waitFor(
      "the relayer's /readyz",
      () => ready(`http://127.0.0.1:${relayerPort}/readyz`),
      120_000,
    );
    const indexer = await waitFor(
      "the indexer's /readyz",
      () => ready(`http://127.0.0.1:${indexerPort}/readyz`),
      120_000,
    );
    expect(relayer).to.be.an("object");
    expect(indexer).to.be.an("object");
    expect(output).to.include(join(tree, "data", "relayer", "relayer.sqlite"));
    expect(output).to.not.match(/tsx/);
  });
});
