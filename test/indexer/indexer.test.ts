import { expect } from "chai";
import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "mocha";
import { formatUnits, parseUnits, type Address } from "viem";
import { tweiAbi, tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind as K, KINDS } from "../../src/core/kinds.js";
import { decodePackedActions } from "../../src/core/packedActions.js";
import { postIdFor } from "../../src/core/postId.js";
import { amountFor, DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { levelFor } from "../../src/core/levels.js";
import { startHardhatNode, type HardhatNode } from "../../src/devnet/startHardhatNode.js";
import { createIndexer, type IndexerEvent } from "../../src/indexer/createIndexer.js";
import { createIndexerApp } from "../../src/indexer/http/createIndexerApp.js";
import { buildPostReport } from "../../src/indexer/reports/buildPostReport.js";
import { buildUserReport } from "../../src/indexer/reports/buildUserReport.js";
import { canonicalReportJson, reportContentHash } from "../../src/indexer/reports/canonicalReport.js";
import { postReportFrom } from "../../src/indexer/reports/postReportFrom.js";
import { recomputePostReport, verifyReportInstance } from "../../src/indexer/reports/recomputePostReport.js";
import { postReportJson } from "../../src/indexer/reports/reportJson.js";
import { createLogger } from "../../src/observability/logger.js";
import { action } from "../helpers/batches.js";
import { STORES } from "../helpers/postgres.js";
import { indexerTestStores, type IndexerTestDatabase } from "./helpers/indexerStores.js";
import { createChainScenario, expectedLines, SITE } from "./scenario.js";

const twei = (value: string) => parseUnits(value, 18);
const run = promisify(execFile);

for (const kind of STORES)
  describe(`indexer on ${kind}`, function () {
    let node: HardhatNode;
    const stores = indexerTestStores(kind);
    let db: IndexerTestDatabase;
    let chain: Awaited<ReturnType<typeof createChainScenario>>;
    const POST = postIdFor(SITE, "critical-minerals");
    const SEED = postIdFor(SITE, "welcome");
    // Accounts: 3 author, 4 reader, 5 commenter, 6 liker, 7 poor (no allowance), 8 buyer, 9 seed author.
    let author: Address, reader: Address, commenter: Address, liker: Address, poor: Address, buyer: Address;

    const newIndexer = async (events: IndexerEvent[] = []) =>
      createIndexer({
        rpcUrl: node.url,
        deployment: chain.deployment,
        store: await db.open(),
        initialRange: 3,
        logger: createLogger({ name: "indexer", level: "silent" }),
        onEvent: (event) => events.push(event),
      });

    /** Every line of the indexer's report equals what the test settled, for everyone and each account. */
    async function expectReportsMatchChain(store: Parameters<typeof buildPostReport>[0], postId: bigint) {
      const accounts = [...new Set(chain.settled.filter((a) => a.postId === postId).map((a) => a.account))];
      for (const account of [undefined, ...accounts]) {
        const report = await buildPostReport(store, { postId, account });
        const expected = expectedLines(chain.settled, postId, account);
        expect(report.lines.map((l) => l.label)).to.deep.equal(KINDS.map((k) => k.label));
        report.lines.forEach((line, kind) => {
          const want = expected[kind]!;
          expect({ kind, amount: line.amount, count: line.count, shortfall: line.shortfall }).to.deep.equal({
            kind,
            amount: want.paid,
            count: want.paidCount,
            shortfall: { amount: want.shortfall, count: want.shortfallCount },
          });
        });
        const sum = (section: string) =>
          expected.reduce((total, line, kind) => (KINDS[kind]!.section === section ? total + line.paid : total), 0n);
        expect(report.readToEarn).to.equal(sum("earned"));
        expect(report.profitSubtotal).to.equal(sum("profit"));
        expect(report.lossSubtotal).to.equal(sum("loss"));
        expect(report.totalEarned).to.equal(sum("earned") + sum("profit") - sum("loss"));
        expect(report.participants).to.equal(accounts.length);
      }
    }

    before(async function () {
      node = await startHardhatNode();
      await stores.start();
      db = await stores.fresh("indexer");
      chain = await createChainScenario(node);
      [author, reader, commenter, liker, poor, buyer] = [3, 4, 5, 6, 7, 8].map(chain.account) as [
        Address,
        Address,
        Address,
        Address,
        Address,
        Address,
      ];
      for (const index of [3, 4, 5, 6, 8]) await chain.approve(index);
      // Seed rewards on another post so everyone can pay tributes on POST.
      await chain.settle(
        [{ postId: SEED, author: chain.account(9) }],
        [author, reader, commenter, liker, buyer].map((account) => action(account, K.CommentRewards, SEED, 5)),
      );
      await chain.settle(
        [{ postId: POST, author }],
        [
          action(author, K.PostPublishTribute, POST),
          action(reader, K.ReadToEarn, POST, 7_500),
          action(author, K.EarnedForPluses, POST, 2),
          action(commenter, K.CommentTributes, POST),
          action(commenter, K.CommentRewards, POST),
          action(liker, K.LikesOwn, POST),
          action(commenter, K.LikesCommenter, POST),
          action(author, K.LikesAuthor, POST),
          action(author, K.DislikesAuthor, POST),
          action(reader, K.SpentForMinuses, POST),
          action(liker, K.DislikesOwn, POST),
          action(commenter, K.DislikesCommenter, POST),
          action(buyer, K.PnLReports, POST),
          action(poor, K.CommentTributes, POST),
          action(poor, K.SpentForMinuses, POST),
        ],
        [13, 14],
      );
    });

    after(async function () {
      await node?.stop();
      await stores.stop();
    });

    it("reports every line of a post as settled, for everyone and for each account, shortfalls apart", async function () {
      const indexer = await newIndexer();
      const checkpoint = await indexer.syncOnce();
      expect(checkpoint?.number).to.equal(await chain.publicClient.getBlockNumber());
      await expectReportsMatchChain(indexer.store, POST);
      await expectReportsMatchChain(indexer.store, SEED);
      const fromChain = await recomputePostReport({
        client: chain.publicClient,
        deployment: chain.deployment,
        postId: POST,
        blockNumber: checkpoint!.number,
      });
      expect(canonicalReportJson(await buildPostReport(indexer.store, { postId: POST }))).to.equal(
        canonicalReportJson(fromChain),
      );
      const poorReport = await buildPostReport(indexer.store, { postId: POST, account: poor });
      expect(poorReport.shortfall).to.deep.equal({ amount: twei("0.7"), count: 2 });
      expect(poorReport.totalEarned).to.equal(0n);
      const everyone = await buildPostReport(indexer.store, { postId: POST });
      expect(everyone.reportPrice).to.equal(twei("1"));
      expect(everyone.block.number).to.equal(checkpoint?.number);
      expect(everyone.author).to.equal(author.toLowerCase());
      await indexer.close();
    });

    it("resumes from its checkpoint after a restart without counting anything twice", async function () {
      await chain.setRuleSet(DEFAULT_RULE_AMOUNTS.map((amount) => amount * 2n));
      await chain.settle([], [action(liker, K.LikesOwn, POST, 2), action(buyer, K.PnLReports, POST)]);
      await chain.transfer(4, poor, twei("1"));
      const events: IndexerEvent[] = [];
      const indexer = await newIndexer(events);
      await indexer.syncOnce();
      const ranges = events.filter((e) => e.type === "range");
      expect(ranges[0]!.fromBlock > chain.settled[0]!.blockNumber).to.equal(true, "re-read blocks already indexed");
      await expectReportsMatchChain(indexer.store, POST);
      expect((await indexer.store.stats()).batches).to.equal(3);
      const everyone = await buildPostReport(indexer.store, { postId: POST });
      expect(everyone.reportPrice).to.equal(twei("2"), "the price of the rule set in force");
      expect(everyone.lines[K.PnLReports]).to.deep.include({ amount: twei("3"), count: 2 });
      for (const index of [3, 4, 5, 6, 7, 8]) {
        const user = await buildUserReport(indexer.store, { account: chain.account(index) });
        expect(user.balance).to.equal(await chain.balanceOf(chain.account(index)), `balance of account ${index}`);
        const mine = chain.settled.filter((a) => a.account === chain.account(index) && a.paid);
        const earned = mine.filter((a) => a.kind < K.SpentForMinuses).reduce((t, a) => t + a.amount, 0n);
        const spent = mine.filter((a) => a.kind >= K.SpentForMinuses).reduce((t, a) => t + a.amount, 0n);
        expect({ earned: user.earned, spent: user.spent, net: user.net, level: user.level }).to.deep.equal({
          earned,
          spent,
          net: earned - spent,
          level: levelFor(earned),
        });
      }
      await indexer.close();
    });

    it("issues report instances whose hash anyone can recompute from the chain's logs", async function () {
      const indexer = await newIndexer();
      await indexer.syncOnce();
      const instances = await indexer.store.reportInstances({ postId: POST, limit: 10 });
      expect(instances.map((i) => i.id)).to.deep.equal(["2-12", "3-1"]);
      for (const instance of instances) {
        expect(reportContentHash(instance.content)).to.equal(instance.contentHash);
        // Recompute from raw logs with viem and the shared decoder, independently of the store.
        const logs = await chain.publicClient.getContractEvents({
          address: chain.deployment.ledger,
          abi: tweiLedgerAbi,
          fromBlock: chain.deployment.deploymentBlock,
          toBlock: instance.blockNumber,
        });
        const rules = new Map<number, readonly bigint[]>();
        const unpaid = new Set<string>();
        const lines = Array.from({ length: 13 }, () => ({ paid: 0n, paidCount: 0, shortfall: 0n, shortfallCount: 0 }));
        const accounts = new Set<string>();
        for (const log of logs) {
          if (log.eventName === "RuleSetScheduled") rules.set(log.args.version!, log.args.amounts!);
          if (log.eventName === "BurnShortfall") unpaid.add(`${log.args.batchId}-${log.args.actionIndex}`);
          if (log.eventName !== "BatchSettled") continue;
          for (const a of decodePackedActions(log.args.actions!).actions) {
            if (a.postId !== POST) continue;
            accounts.add(a.account);
            const amount = amountFor(rules.get(log.args.ruleSetVersion!)!, a.kind, a.units);
            const line = lines[a.kind]!;
            if (unpaid.has(`${log.args.batchId}-${a.actionIndex}`)) {
              line.shortfall += amount;
              line.shortfallCount++;
            } else {
              line.paid += amount;
              line.paidCount++;
            }
          }
        }
        const block = await chain.publicClient.getBlock({ blockNumber: instance.blockNumber });
        const recomputed = postReportFrom({
          postId: POST,
          post: { siteId: SITE, author },
          account: null,
          lines,
          participants: accounts.size,
          reportPrice: [...rules.values()].at(-1)![K.PnLReports]!,
          block: { number: block.number, hash: block.hash },
        });
        expect(reportContentHash(canonicalReportJson(recomputed))).to.equal(instance.contentHash);
        // The module's own recomputation (for auditors) agrees, and notices a wrong hash.
        const client = chain.publicClient;
        expect((await verifyReportInstance({ client, deployment: chain.deployment, instance })).ok).to.equal(true);
        const forged = { ...instance, contentHash: reportContentHash("{}") };
        expect((await verifyReportInstance({ client, deployment: chain.deployment, instance: forged })).ok).to.equal(
          false,
        );
      }
      await indexer.close();
    });

    it("counts /v1/stats once per checkpoint, however often and however many at once it is asked", async function () {
      const indexer = await newIndexer();
      await indexer.syncOnce();
      let counted = 0;
      const store: typeof indexer.store = {
        ...indexer.store,
        snapshot: (work) =>
          indexer.store.snapshot((reads) =>
            work({
              ...reads,
              stats: () => {
                counted++;
                return reads.stats();
              },
            }),
          ),
      };
      const server = createIndexerApp(store).listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      const stats = async () =>
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        (await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/stats`)).json()) as any;
      try {
        const first = await Promise.all(Array.from({ length: 5 }, stats));
        for (let i = 0; i < 3; i++) first.push(await stats());
        expect(counted).to.equal(1);
        expect(new Set(first.map((body) => JSON.stringify(body))).size).to.equal(1);
        await chain.publicClient.request({ method: "hardhat_mine", params: ["0x3"] } as never);
        await indexer.syncOnce();
        const next = await stats();
        expect(counted).to.equal(2);
        expect(BigInt(next.checkpoint.number) > BigInt(first[0].checkpoint.number)).to.equal(true);
        expect(next.batches).to.equal(first[0].batches);
      } finally {
        server.close();
        await indexer.close();
      }
    });

    it("serves reports, users and instances over HTTP as JSON and problems for bad input", async function () {
      const indexer = await newIndexer();
      await indexer.syncOnce();
      const server = createIndexerApp(indexer.store).listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const get = async (path: string) => {
          const response = await fetch(base + path);
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          const body = (await response.json()) as any;
          return { status: response.status, type: response.headers.get("content-type"), body };
        };
        const expected = JSON.parse(
          JSON.stringify(postReportJson(await buildPostReport(indexer.store, { postId: POST }))),
        );
        expect((await get(`/v1/posts/${POST}/report`)).body).to.deep.equal(expected);
        expect((await get(`/v1/posts/report?site=${SITE}&sitePostId=critical-minerals`)).body).to.deep.equal(expected);
        const own = await get(`/v1/posts/${POST}/report?account=${reader}`);
        expect(own.body.lines[K.ReadToEarn].amount).to.deep.equal({ wei: twei("0.75").toString(), twei: "0.75" });
        const user = await get(`/v1/users/${buyer}`);
        expect(user.body.spent.twei).to.equal(formatUnits(twei("3"), 18));
        const instance = await get("/v1/report-instances/2-12");
        expect(instance.body).to.deep.include({ id: "2-12", postId: POST.toString(), buyer });
        expect((await get(`/v1/report-instances?postId=${POST}`)).body.items).to.have.length(2);
        const bad = await get("/v1/posts/not-a-number/report");
        expect(bad.status).to.equal(400);
        expect(bad.type).to.match(/application\/problem\+json/);
        expect((await get("/v1/report-instances/99-1")).status).to.equal(404);
        expect((await get("/v1/posts/12345/report")).body).to.deep.include({ status: 404, code: "post_not_found" });
        expect((await get("/readyz")).status).to.equal(200);
        const stats = (await get("/v1/stats")).body;
        expect(stats).to.deep.include({ batches: 3, reportInstances: 2 });
        expect(BigInt(stats.supply.wei)).to.equal(
          await chain.publicClient.readContract({
            address: chain.deployment.token,
            abi: tweiAbi,
            functionName: "totalSupply",
          }),
        );
      } finally {
        server.close();
        await indexer.close();
      }
    });

    it("answers 503 on /readyz, not 500, when its database does not answer", async function () {
      const indexer = await newIndexer();
      await indexer.syncOnce();
      const server = createIndexerApp(indexer.store).listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      const readyz = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
      try {
        expect((await fetch(readyz)).status).to.equal(200);
        await indexer.store.close();
        const response = await fetch(readyz);
        expect(response.status).to.equal(503);
        expect(((await response.json()) as { problems: string[] }).problems).to.deep.equal([
          "the database does not answer",
        ]);
      } finally {
        server.close();
        await indexer.close();
      }
    });

    it("rolls back blocks a reorg replaced and re-indexes the new ones", async function () {
      const events: IndexerEvent[] = [];
      const indexer = await newIndexer(events);
      const snapshot = await chain.publicClient.request({ method: "evm_snapshot" } as never);
      const before = chain.settled.length;
      // The replaced batch also brings a new participant, whose rows the rollback must remove.
      const { batchId } = await chain.settle(
        [],
        [
          action(liker, K.LikesOwn, POST, 5),
          action(buyer, K.PnLReports, POST),
          action(chain.account(10), K.LikesOwn, POST),
        ],
      );
      await indexer.syncOnce();
      expect(await indexer.store.reportInstance(`${batchId}-1`)).to.not.equal(null);
      expect((await buildPostReport(indexer.store, { postId: POST })).participants).to.equal(7);
      await chain.publicClient.request({ method: "evm_revert", params: [snapshot] } as never);
      chain.settled.splice(before);
      await chain.settle([], [action(reader, K.LikesOwn, POST, 3)]);
      await chain.settle([], [action(commenter, K.CommentRewards, POST)]);
      await indexer.syncOnce();
      expect(events.filter((e) => e.type === "reorg")).to.have.length(1);
      await expectReportsMatchChain(indexer.store, POST);
      expect(await indexer.store.reportInstance(`${batchId}-1`)).to.equal(null);
      expect(await indexer.store.accountLines(chain.account(10))).to.equal(null);
      expect(await indexer.store.accountPosts(chain.account(10), 10)).to.deep.equal([]);
      const checkpoint = await indexer.store.checkpoint();
      const head = await chain.publicClient.getBlock();
      expect(checkpoint).to.deep.equal({ number: head.number, hash: head.hash });
      await indexer.close();
    });

    it("prints the report as a table with every line in order, and as JSON with --json", async function () {
      const tsx = join(process.cwd(), "node_modules/.bin/tsx");
      const cli = ["src/indexer/cli/report.ts", ...db.cliArgs, "--post", POST.toString()];
      const env = { ...process.env, ...db.env };
      const { stdout } = await run(tsx, cli, { env });
      const positions = [
        ...KINDS.map((k) => k.label),
        "Profit Subtotal",
        "Loss Subtotal",
        "Total Twei Earned",
        "Price for report instance",
      ].map((label) => stdout.indexOf(label));
      expect(positions.every((p) => p >= 0)).to.equal(true, stdout);
      expect(positions.slice(0, 13)).to.deep.equal([...positions.slice(0, 13)].sort((a, b) => a - b));
      const store = (await newIndexer()).store;
      const report = await buildPostReport(store, { postId: POST });
      expect(stdout).to.include(`Computed at block ${report.block.number}`);
      expect(stdout).to.match(new RegExp(`Total Twei Earned\\s*│\\s*${formatUnits(report.totalEarned, 18)}`));
      const json = await run(tsx, [...cli, "--json"], { env });
      expect(JSON.parse(json.stdout)).to.deep.equal(JSON.parse(JSON.stringify(postReportJson(report))));
      const instance = await run(tsx, ["src/indexer/cli/report.ts", ...db.cliArgs, "--instance", "2-12", "--json"], {
        env,
      });
      const stored = await store.reportInstance("2-12");
      expect(JSON.parse(instance.stdout)).to.deep.include({ id: "2-12", contentHash: stored?.contentHash });
      const usage = await run(tsx, ["src/indexer/cli/report.ts", ...db.cliArgs], { env }).catch(
        (e: { code: number }) => e,
      );
      expect((usage as { code: number }).code).to.equal(2);
      await store.close();
    });

    it("follows new blocks once started, and waitForBlock resolves when a block is indexed", async function () {
      const indexer = createIndexer({
        rpcUrl: node.url,
        deployment: chain.deployment,
        store: await db.open(),
        pollIntervalMs: 50,
        logger: createLogger({ name: "indexer", level: "silent" }),
      });
      indexer.start();
      try {
        const { receipt } = await chain.settle([], [action(liker, K.LikesOwn, POST, 4)]);
        const reached = await indexer.waitForBlock(receipt.blockNumber, { timeoutMs: 20_000 });
        expect(reached.number >= receipt.blockNumber).to.equal(true);
        await expectReportsMatchChain(indexer.store, POST);
        expect(indexer.status()).to.deep.include({ running: true, lastError: null });
      } finally {
        await indexer.close();
      }
      expect(indexer.status().running).to.equal(false);
    });

    // Issue 24, finding 5: a post id a stolen relayer key squatted is released by the policy
    // admin and registered again by its real post; the indexer takes the newer registration
    // instead of halting on the posts table's key.
    it("keeps indexing when a released post id is registered again, under its new author", async function () {
      const squatted = postIdFor(SITE, "squatted");
      const indexer = await newIndexer();
      try {
        await chain.settle([{ postId: squatted, author: poor }], []);
        await indexer.syncOnce();
        expect((await buildPostReport(indexer.store, { postId: squatted })).author).to.equal(poor.toLowerCase());
        await chain.releasePost(squatted);
        await chain.settle([{ postId: squatted, author }], []);
        await indexer.syncOnce();
        expect((await buildPostReport(indexer.store, { postId: squatted })).author).to.equal(author.toLowerCase());
        expect(indexer.status()).to.deep.include({ lastError: null });
      } finally {
        await indexer.close();
      }
    });
  });
