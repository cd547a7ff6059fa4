import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cp, mkdir, readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { freePort } from "../../src/devnet/startHardhatNode.js";
import { writeTestDeployment } from "../relayer/helpers/relayerProcess.js";
import { startTestChain, type TestChain } from "../relayer/helpers/testChain.js";
import { removeDir, tempDir, waitFor } from "../relayer/helpers/testRelayer.js";
import { envPairs, readDockerfile, type DockerStage } from "./helpers/dockerfile.js";

const run = promisify(execFile);

/** The system's PATH without this checkout's node_modules: the pruned tree must bring its own Node. */
const systemPath = (process.env.PATH ?? "")
  .split(":")
  .filter((dir) => !dir.includes("node_modules"))
  .join(":");

/** The Dockerfile's RUN lines the test does not play: ownership for the image's `node` user. */
const CONTAINER_ONLY_RUN = ["mkdir -p /app/data && chown node:node /app/data"];

/**
 * The production image, played outside Docker (no daemon here): the Dockerfile's build stage is
 * this checkout after `npm run build` (the contracts are built by the test runner; src/ is compiled
 * here), and its runtime stage's COPY, ENV and `npm` RUN instructions are played in an empty
 * directory in order: `npm ci --omit=dev` leaves no tsx or Hardhat but Node 24 itself (the `node`
 * package is a runtime dependency), so the image's CMD (`npm start`) serves the relayer's and the
 * indexer's /readyz with the system's npm and no other Node on PATH.
 */
describe("production tree (the Dockerfile's runtime stage: npm ci --omit=dev, npm start)", function () {
  this.timeout(900_000);
  let chain: TestChain;
  let tree: string;
  let runtime: DockerStage;
  let services: ChildProcess | undefined;
  const imageEnv: Record<string, string> = {};
  const env = () => ({ ...process.env, PATH: systemPath, ...imageEnv });

  before(async function () {
    const stages = await readDockerfile("Dockerfile");
    const last = stages.at(-1);
    if (!last) throw new Error("the Dockerfile has no stage");
    runtime = last;
    console.error("    production tree: compiling src/ to dist/ (tsc -p tsconfig.build.json)…");
    await run(join(process.cwd(), "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"]);
    tree = await tempDir("production-tree");
    let workdir = "/";
    for (const { keyword, args } of runtime.instructions) {
      if (keyword === "WORKDIR") workdir = args;
      else if (keyword === "ENV") for (const [name, value] of envPairs(args)) imageEnv[name] = value;
      else if (keyword === "COPY") {
        // COPY [--from=build] <source>… <dest>: the build stage's /app is this checkout.
        const parts = args.split(/\s+/).filter((part) => !part.startsWith("--chown"));
        const fromBuild = parts[0]?.startsWith("--from=") === true;
        const paths = fromBuild ? parts.slice(1) : parts;
        const dest = paths.pop() ?? ".";
        const destDir = join(tree, dest.startsWith("/") ? dest.slice(workdir.length) : dest);
        for (const source of paths) {
          const local = fromBuild ? source.replace(/^\/app\//, "") : source;
          const target = dest.endsWith("/") || paths.length > 1 ? join(destDir, basename(local)) : destDir;
          await cp(local, target, { recursive: true });
        }
      } else if (keyword === "RUN") {
        if (CONTAINER_ONLY_RUN.includes(args)) continue;
        expect(args, "a RUN the test does not play").to.match(/^npm /);
        console.error(`    production tree: RUN ${args}…`);
        await run("sh", ["-c", args.replace(/^npm ci /, "npm ci --prefer-offline ")], { cwd: tree, env: env() });
      }
    }
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

  it("keeps Node 24 and no development dependency", async function () {
    const installed = await readdir(join(tree, "node_modules"));
    for (const dev of ["tsx", "hardhat", "mocha", "solc"]) expect(installed).to.not.include(dev);
    expect(installed).to.include("node");
    const { stdout } = await run(join(tree, "node_modules/.bin/node"), ["--version"]);
    expect(stdout.trim()).to.match(/^v24\./);
  });

  it("runs the image's command from the pruned tree: the relayer and the indexer ready, under the tree's own Node", async function () {
    const cmd = runtime.instructions.find((instruction) => instruction.keyword === "CMD");
    const [program, ...args] = JSON.parse(cmd?.args ?? "[]") as string[];
    expect(program).to.equal("npm");
    const [relayerPort, indexerPort] = [await freePort(), await freePort()];
    await mkdir(join(tree, "data"), { recursive: true });
    let output = "";
    services = spawn(program as string, args, {
      cwd: tree,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...env(),
        // compose.yaml publishes the container's ports on the host's loopback; here the services bind it.
        RELAYER_HOST: "127.0.0.1",
        INDEXER_HOST: "127.0.0.1",
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
    expect(output).to.not.match(/too old/);
  });

  it("has a compose file that docker-compose accepts, running the image's npm scripts", async function () {
    const compose = await readFile("compose.yaml", "utf8");
    const scripts = (JSON.parse(await readFile("package.json", "utf8")) as { scripts: Record<string, string> }).scripts;
    for (const [, script] of compose.matchAll(/command: \["npm", "run", "([^"]+)"\]/g))
      expect(scripts, `compose runs npm run ${script}`).to.have.property(script as string);
    const required = {
      TWEI_NETWORK: "test",
      TWEI_RPC_URL: "http://chain:8545",
      POSTGRES_PASSWORD: "x",
      RELAYER_PRIVATE_KEY: "0x01",
    };
    const { stdout } = await run("docker-compose", ["-f", "compose.yaml", "config"], {
      env: { ...process.env, ...required },
    });
    expect(stdout).to.include("DATABASE_URL: postgres://twei:x@postgres:5432/twei");
    // Without a secret, compose refuses to start rather than running with an empty one.
    const missing = await run("docker-compose", ["-f", "compose.yaml", "config", "-q"], {
      env: { ...process.env, ...required, POSTGRES_PASSWORD: "" },
    }).then(
      () => "accepted",
      (error: { stderr?: string }) => error.stderr ?? "",
    );
    expect(missing).to.include("set POSTGRES_PASSWORD");
  });
});
