import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import type { Address } from "viem";
import { ABI_HASH } from "../../src/chain/deployTwei.js";
import { writeDeployment } from "../../src/chain/deployments.js";
import { ActionKind as K } from "../../src/core/kinds.js";
import { postIdFor } from "../../src/core/postId.js";
import { startHardhatNode, type HardhatNode } from "../../src/devnet/startHardhatNode.js";
import { startPostgres, type DevPostgres } from "../../src/devnet/startPostgres.js";
import { action } from "../helpers/batches.js";
import { startIndexerProcess, type IndexerProcess } from "./helpers/indexerProcess.js";
import { createChainScenario, expectedLines, SITE } from "./scenario.js";

interface Readiness {
  status: number;
  body: { status: string; problems: string[]; checkpoint: { number: string; hash: string } | null };
}

const readiness = async (url: string): Promise<Readiness> => {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as Readiness["body"] };
};

// Issue 23, defect 6: a PostgreSQL restart (pg_ctl stop -m immediate, then start) used to end
// the writer ~14 s after the database was back (IndexerWriterLostError, exit 1), while readers
// went on saying "ready". Real processes, a real PostgreSQL and a real Hardhat node.
describe("indexer writer through a PostgreSQL restart", function () {
  this.timeout(180_000);
  let node: HardhatNode;
  let pg: DevPostgres;
  let root: string;
  let chain: Awaited<ReturnType<typeof createChainScenario>>;
  const processes: IndexerProcess[] = [];
  const POST = postIdFor(SITE, "outage");
  let author: Address, reader: Address;

  before(async function () {
    node = await startHardhatNode();
    pg = await startPostgres();
    root = await mkdtemp(join(tmpdir(), "twei-indexer-outage-"));
    chain = await createChainScenario(node);
    [author, reader] = [3, 4].map(chain.account) as [Address, Address];
    await writeDeployment(
      {
        network: "test",
        chainId: chain.deployment.chainId,
        token: chain.deployment.token,
        ledger: chain.deployment.ledger,
        deploymentBlock: chain.deployment.deploymentBlock,
        abiHash: ABI_HASH,
        deployer: chain.account(0),
        deployedAt: new Date().toISOString(),
      },
      root,
    );
    await chain.settle(
      [{ postId: POST, author }],
      [action(author, K.PostPublishTribute, POST), action(reader, K.ReadToEarn, POST, 5_000)],
      [0],
    );
  });

  after(async function () {
    for (const p of processes) await p.stop().catch(() => undefined);
    await pg?.stop();
    await node?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** Polls `check` every 100 ms until it answers something (`timeoutMs` at most). */
  const poll = async <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await check().catch(() => undefined);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it("reconnects by itself, re-takes the writer lock and indexes new blocks; a reader's /readyz is 503 while the writer is silent or the database down", async function () {
    const env = {
      TWEI_NETWORK: "test",
      TWEI_DEPLOYMENTS_ROOT: root,
      TWEI_RPC_URL: node.url,
      // A password in the URL (the test server trusts any): no log line may carry it.
      DATABASE_URL: (await pg.createDatabase("indexer")).replace("postgres@", "postgres:s3cret-pw@"),
      INDEXER_POLL_INTERVAL_MS: "100",
    };
    const writer = await startIndexerProcess(env);
    processes.push(writer);
    const readOnly = await startIndexerProcess({
      ...env,
      INDEXER_SYNC: "false",
      INDEXER_MAX_WRITER_SILENCE_MS: "2000",
    });
    processes.push(readOnly);
    let exitCode: number | null | undefined;
    writer.child.once("exit", (code) => (exitCode = code));
    await poll("the writer and the reader to be ready", async () =>
      (await readiness(writer.url)).status === 200 && (await readiness(readOnly.url)).status === 200 ? true : undefined,
    );

    // A silent writer (stopped, its session still open): the reader says so once its heartbeat
    // is older than the reader's limit (2 s), and is ready again once it beats.
    writer.child.kill("SIGSTOP");
    try {
      const silent = await poll("the reader to report the silent writer", async () => {
        const answer = await readiness(readOnly.url);
        return answer.status === 503 ? answer : undefined;
      });
      expect(silent.body.problems).to.have.length(1);
      expect(silent.body.problems[0]).to.match(/^the writer has not reached the head for \d+ s/);
    } finally {
      writer.child.kill("SIGCONT");
    }
    await poll("the reader to be ready again", async () =>
      (await readiness(readOnly.url)).status === 200 ? true : undefined,
    );

    await pg.halt();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const down = await readiness(readOnly.url);
    expect(down.status).to.equal(503);
    expect(down.body.problems).to.include("the database does not answer");
    const writerDown = await readiness(writer.url);
    expect(writerDown.status).to.equal(503);
    expect(writerDown.body.problems.join("; ")).to.match(/the writer lock was lost with its database session/);
    await pg.resume();

    // New blocks after the restart: the same writer process indexes them (no supervisor here).
    await chain.settle([], [action(reader, K.LikesOwn, POST, 2)]);
    await chain.settle([], [action(author, K.CommentRewards, POST, 5)]);
    const head = await chain.publicClient.getBlock({ blockTag: "latest" });
    await poll("the writer to index the new head", async () =>
      (await readiness(writer.url)).body.checkpoint?.hash === head.hash ? true : undefined,
    );
    await poll("the writer and the reader to be ready again", async () =>
      (await readiness(writer.url)).status === 200 && (await readiness(readOnly.url)).status === 200 ? true : undefined,
    );
    expect(exitCode).to.equal(undefined);
    expect(writer.child.exitCode).to.equal(null);
    expect(writer.output()).to.include('"msg":"writer lock taken again"');
    // Structured logs, never the database password or URL.
    expect(writer.output()).to.not.include("s3cret-pw");
    expect(readOnly.output()).to.not.include("s3cret-pw");

    // It resumed from its checkpoint (no re-index from the deployment) and the reader serves the new state.
    const report = (await (await fetch(`${readOnly.url}/v1/posts/${POST}/report`)).json()) as {
      block: { hash: string };
      lines: { amount: { wei: string } }[];
    };
    expect(report.block.hash).to.equal(head.hash);
    expect(report.lines.map((l) => BigInt(l.amount.wei))).to.deep.equal(
      expectedLines(chain.settled, POST).map((l) => l.paid),
    );
  });
});
