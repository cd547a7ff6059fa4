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
import { createIndexer } from "../../src/indexer/createIndexer.js";
import { buildPostReport } from "../../src/indexer/reports/buildPostReport.js";
import { postReportJson } from "../../src/indexer/reports/reportJson.js";
import { LOCK_INDEXER_WRITER } from "../../src/indexer/store/pg/pgIndexerSchema.js";
import { openPgIndexerStore } from "../../src/indexer/store/pg/openPgIndexerStore.js";
import type { WriterLockEvent } from "../../src/indexer/store/pg/reacquiringWriterSession.js";
import { IndexerWriterBusyError } from "../../src/indexer/errors.js";
import { createLogger } from "../../src/observability/logger.js";
import { action } from "../helpers/batches.js";
import { waitFor } from "../relayer/helpers/testRelayer.js";
import { pgQuery } from "../relayer/helpers/testStores.js";
import { runIndexerProcessToExit, startIndexerProcess, type IndexerProcess } from "./helpers/indexerProcess.js";
import { createChainScenario, expectedLines, SITE } from "./scenario.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const getJson = async (url: string): Promise<{ status: number; body: any }> => {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
};

describe("indexer readers: one writer and read-only processes", function () {
  let node: HardhatNode;
  let pg: DevPostgres;
  let root: string;
  let chain: Awaited<ReturnType<typeof createChainScenario>>;
  let env: Record<string, string>;
  const processes: IndexerProcess[] = [];
  const POST = postIdFor(SITE, "readers");
  let author: Address, reader: Address, liker: Address, buyer: Address;

  const start = async (extra: Record<string, string> = {}) => {
    const started = await startIndexerProcess({ ...env, ...extra });
    processes.push(started);
    return started;
  };

  /** Polls until `check` holds (20 s at most). */
  const waitUntil = (what: string, check: () => Promise<boolean>) =>
    waitFor(what, async () => ((await check()) ? true : undefined));

  /** Waits until the indexer at `url` has indexed the chain's current head (by hash). */
  const caughtUp = async (url: string) => {
    const head = await chain.publicClient.getBlock({ blockTag: "latest" });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await getJson(`${url}/v1/stats`);
      if (body.checkpoint?.hash === head.hash) return;
      if (Date.now() > deadline) throw new Error(`${url} did not reach block ${head.number}: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  /** What a process serves for the post, its accounts and the bought instances. */
  const served = async (url: string) => ({
    stats: (await getJson(`${url}/v1/stats`)).body,
    post: (await getJson(`${url}/v1/posts/${POST}/report`)).body,
    own: await Promise.all(
      [author, reader, liker, buyer].map(
        async (a) => (await getJson(`${url}/v1/posts/${POST}/report?account=${a}`)).body,
      ),
    ),
    users: await Promise.all(
      [author, reader, liker, buyer].map(async (a) => (await getJson(`${url}/v1/users/${a}`)).body),
    ),
    instances: (await getJson(`${url}/v1/report-instances?postId=${POST}`)).body,
  });

  /** The post report's paid amounts equal what the test settled. */
  const expectMatchesChain = (post: { lines: { amount: { wei: string } }[]; participants: number }) => {
    expect(post.lines.map((l) => BigInt(l.amount.wei))).to.deep.equal(
      expectedLines(chain.settled, POST).map((l) => l.paid),
    );
    expect(post.participants).to.equal(
      new Set(chain.settled.filter((a) => a.postId === POST).map((a) => a.account)).size,
    );
  };

  before(async function () {
    node = await startHardhatNode();
    pg = await startPostgres();
    root = await mkdtemp(join(tmpdir(), "twei-indexer-readers-"));
    chain = await createChainScenario(node);
    [author, reader, liker, buyer] = [3, 4, 6, 8].map(chain.account) as [Address, Address, Address, Address];
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
    env = {
      TWEI_NETWORK: "test",
      TWEI_DEPLOYMENTS_ROOT: root,
      TWEI_RPC_URL: node.url,
      DATABASE_URL: await pg.createDatabase("indexer"),
      INDEXER_POLL_INTERVAL_MS: "100",
    };
    for (const index of [3, 8]) await chain.approve(index);
    await chain.settle(
      [{ postId: POST, author }],
      [
        action(author, K.PostPublishTribute, POST),
        action(reader, K.ReadToEarn, POST, 5_000),
        action(liker, K.LikesOwn, POST, 2),
        action(author, K.LikesAuthor, POST),
      ],
      [0],
    );
    await chain.settle([], [action(author, K.CommentRewards, POST, 20), action(buyer, K.CommentRewards, POST, 20)]);
    await chain.settle([], [action(buyer, K.PnLReports, POST), action(reader, K.LikesOwn, POST)]);
  });

  after(async function () {
    for (const p of processes) await p.stop().catch(() => undefined);
    await pg?.stop();
    await node?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("on PostgreSQL, serves the writer's reports from two read-only processes, reflects a reorg's rollback, and refuses a second writer", async function () {
    const writer = await start();
    const readerEnv = { INDEXER_SYNC: "false", INDEXER_MAX_WRITER_SILENCE_MS: "2000" };
    const readers = [await start(readerEnv), await start(readerEnv)];
    await caughtUp(writer.url);
    const readiness = async (url: string) => getJson(`${url}/readyz`);
    await waitUntil("the readers see the writer's heartbeat", async () =>
      (await Promise.all(readers.map((r) => readiness(r.url)))).every((answer) => answer.status === 200),
    );
    const fromWriter = await served(writer.url);
    expectMatchesChain(fromWriter.post);
    expect(fromWriter.instances.items).to.have.length(1);
    for (const r of readers) expect(await served(r.url)).to.deep.equal(fromWriter);

    // A second writer on the same database is refused at start, by name, with a non-zero exit.
    const second = await runIndexerProcessToExit(env);
    expect(second.code).to.equal(1);
    expect(second.output).to.include("IndexerWriterBusyError");
    // Readers never write: a reader is not refused, and does not sync.
    expect(readers[0]!.output()).to.not.include('"msg":"indexed"');

    // A batch the readers see, then a reorg that replaces it.
    const snapshot = await chain.publicClient.request({ method: "evm_snapshot" } as never);
    const settledBefore = chain.settled.length;
    const { batchId } = await chain.settle(
      [],
      [
        action(chain.account(10), K.LikesOwn, POST),
        action(buyer, K.PnLReports, POST),
        action(liker, K.LikesOwn, POST, 3),
      ],
    );
    await caughtUp(writer.url);
    for (const r of readers) {
      const { post, instances } = await served(r.url);
      expect(post.participants).to.equal(5);
      expect(instances.items.map((i: { id: string }) => i.id)).to.include(`${batchId}-1`);
    }
    await chain.publicClient.request({ method: "evm_revert", params: [snapshot] } as never);
    chain.settled.splice(settledBefore);
    await chain.settle([], [action(reader, K.LikesOwn, POST, 4)]);
    await chain.settle([], [action(author, K.CommentRewards, POST, 3)]);
    await caughtUp(writer.url);
    const afterReorg = await served(writer.url);
    expectMatchesChain(afterReorg.post);
    expect(afterReorg.post.participants).to.equal(4);
    for (const r of readers) {
      expect(await served(r.url)).to.deep.equal(afterReorg);
      expect((await getJson(`${r.url}/v1/report-instances/${batchId}-1`)).status).to.equal(404);
      expect((await getJson(`${r.url}/v1/users/${chain.account(10)}`)).body.earned.wei).to.equal("0");
    }

    // The writer dies: readers keep serving its last state, and say they are stale once its
    // heartbeat is older than their limit; a new writer resumes from the checkpoint.
    await writer.kill9();
    await chain.settle([], [action(liker, K.LikesOwn, POST, 5)]);
    for (const r of readers) expect(await served(r.url)).to.deep.equal(afterReorg);
    await waitUntil(
      "a reader to say the writer is silent",
      async () => (await readiness(readers[0]!.url)).status === 503,
    );
    const stale = await readiness(readers[0]!.url);
    expect(stale.body.problems).to.have.length(1);
    expect(stale.body.problems[0]).to.match(
      /^the writer has not reached the head for \d+ s \(since .+\): reports may be stale$/,
    );
    const metrics = await (await fetch(`${readers[0]!.url}/metrics`)).text();
    const silence = Number(/^twei_indexer_writer_silence_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(silence).to.be.greaterThan(2);
    for (const r of readers) expect(await served(r.url)).to.deep.equal(afterReorg);
    const next = await start();
    await caughtUp(next.url);
    expect(next.output()).to.not.match(new RegExp(`"from":"?${chain.deployment.deploymentBlock}\\b`));
    const resumed = await served(next.url);
    expectMatchesChain(resumed.post);
    expect(resumed.stats.batches).to.equal(afterReorg.stats.batches + 1);
    for (const r of readers) expect(await served(r.url)).to.deep.equal(resumed);
    await waitUntil("the readers to be ready again", async () =>
      (await Promise.all(readers.map((r) => readiness(r.url)))).every((answer) => answer.status === 200),
    );
  });

  it("builds each report from one snapshot: a range the writer commits meanwhile is not half in it", async function () {
    const url = await pg.createDatabase("snapshot");
    const indexer = createIndexer({
      rpcUrl: node.url,
      deployment: chain.deployment,
      store: await openPgIndexerStore({ url, writer: true }),
      logger: createLogger({ name: "indexer", level: "silent" }),
    });
    const readerStore = await openPgIndexerStore({ url, writer: false });
    try {
      await indexer.syncOnce();
      const before = await buildPostReport(readerStore, { postId: POST });
      const totalsBefore = await readerStore.postTotals(POST);
      const during = await readerStore.snapshot(async (reads) => {
        const first = await reads.checkpoint();
        await chain.settle([], [action(reader, K.LikesOwn, POST, 6)]);
        await indexer.syncOnce();
        return { first, again: await reads.checkpoint(), totals: await reads.postTotals(POST) };
      });
      expect(during.first).to.deep.equal({ number: before.block.number, hash: before.block.hash });
      expect(during.again).to.deep.equal(during.first);
      expect(during.totals).to.deep.equal(totalsBefore);
      const after = await buildPostReport(readerStore, { postId: POST });
      expect(after.block.number > before.block.number).to.equal(true);
      expect(after.lines.map((l) => l.amount)).to.deep.equal(expectedLines(chain.settled, POST).map((l) => l.paid));
    } finally {
      await readerStore.close();
      await indexer.close();
    }
  });

  it("takes the writer lock again after its locked session ends, and writes nothing while another writer holds it", async function () {
    const url = await pg.createDatabase("lost");
    const events: WriterLockEvent[] = [];
    const first = await openPgIndexerStore({ url, writer: true, onWriterLock: (event) => events.push(event) });
    try {
      await first.init(chain.deployment);
      await first.markSynced(1);
      // The session holding the writer lock (a bigint key: classid its high 32 bits, objid its low).
      const ended = await pgQuery(
        url,
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_locks WHERE locktype = 'advisory' AND granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid = $1 AND objid = $2 AND objsubid = 1`,
        [Number(LOCK_INDEXER_WRITER >> 32n), Number(LOCK_INDEXER_WRITER & 0xffffffffn)],
      );
      expect(ended.rows).to.deep.equal([{ ok: true }]);
      await waitUntil("the writer to notice its lost session", async () => events.some((e) => e.type === "lost"));
      // Another writer takes the freed lock meanwhile: the first one is refused, and writes nothing.
      const second = await openPgIndexerStore({ url, writer: true });
      try {
        await second.markSynced(2);
        const refused = await first.markSynced(3).then(
          () => null,
          (error: unknown) => error,
        );
        expect(refused).to.be.instanceOf(IndexerWriterBusyError);
        expect(await second.lastSyncedAt()).to.equal(2);
      } finally {
        await second.close();
      }
      // Once the lock is free again, the first writer takes it and writes; a new writer is refused.
      await first.markSynced(4);
      expect(await first.lastSyncedAt()).to.equal(4);
      expect(events.map((e) => e.type)).to.deep.equal(["lost", "refused", "reacquired"]);
      const third = await openPgIndexerStore({ url, writer: true }).then(
        async (store) => {
          await store.close();
          return null;
        },
        (error: unknown) => error,
      );
      expect(third).to.be.instanceOf(IndexerWriterBusyError);
    } finally {
      await first.close();
    }
  });

  it("answers 503 database_unavailable (Retry-After) on a report while PostgreSQL is down, and serves it again once it is back", async function () {
    this.timeout(120_000);
    const url = await pg.createDatabase("outage");
    const writer = await start({ DATABASE_URL: url });
    const readOnly = await start({ DATABASE_URL: url, INDEXER_SYNC: "false" });
    await caughtUp(writer.url);
    const paths = [`/v1/posts/${POST}/report`, `/v1/users/${author}`];
    for (const path of paths) expect((await getJson(`${readOnly.url}${path}`)).status).to.equal(200);
    await pg.halt();
    try {
      // (The writer is left out here: writerOutage.test.ts follows it through the restart.)
      for (const path of paths) {
        const response = await fetch(`${readOnly.url}${path}`);
        const problem = (await response.json()) as { code: string };
        expect([path, response.status, problem.code]).to.deep.equal([path, 503, "database_unavailable"]);
        expect(response.headers.get("retry-after")).to.equal("5");
      }
    } finally {
      await pg.resume();
    }
    await waitUntil("the reader serves the report again", async () =>
      (await Promise.all(paths.map(async (path) => (await getJson(`${readOnly.url}${path}`)).status === 200))).every(
        Boolean,
      ),
    );
  });

  it("on SQLite, serves the file a running writer syncs from an INDEXER_SYNC=false process", async function () {
    const dbPath = join(root, "indexer.sqlite");
    const indexer = createIndexer({
      rpcUrl: node.url,
      deployment: chain.deployment,
      dbPath,
      logger: createLogger({ name: "indexer", level: "silent" }),
    });
    try {
      await indexer.syncOnce();
      const noDatabaseUrl = Object.fromEntries(Object.entries(env).filter(([key]) => key !== "DATABASE_URL"));
      const readerProcess = await startIndexerProcess({
        ...noDatabaseUrl,
        INDEXER_DB_PATH: dbPath,
        INDEXER_SYNC: "false",
      });
      processes.push(readerProcess);
      const want = JSON.parse(JSON.stringify(postReportJson(await buildPostReport(indexer.store, { postId: POST }))));
      expect((await getJson(`${readerProcess.url}/v1/posts/${POST}/report`)).body).to.deep.equal(want);
      await chain.settle([], [action(liker, K.LikesOwn, POST, 7)]);
      await indexer.syncOnce();
      const { body } = await getJson(`${readerProcess.url}/v1/posts/${POST}/report`);
      expect(body.block.number).to.equal((await indexer.store.checkpoint())?.number.toString());
      expect(body.lines.map((l: { amount: { wei: string } }) => BigInt(l.amount.wei))).to.deep.equal(
        expectedLines(chain.settled, POST).map((l) => l.paid),
      );
      await readerProcess.stop();
    } finally {
      await indexer.close();
    }
  });
});
