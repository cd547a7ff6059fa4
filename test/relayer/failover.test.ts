import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import pg from "pg";
import { parseUnits } from "viem";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind } from "../../src/core/kinds.js";
import { testDatabase } from "../helpers/postgres.js";
import { leaderOf } from "./helpers/leaderOf.js";
import { startRelayerProcess, writeTestDeployment, type RelayerProcess } from "./helpers/relayerProcess.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, tempDirs, waitFor, type TestSite } from "./helpers/testRelayer.js";

const SITE = 21;
const rpc = (chain: TestChain, method: string, params: unknown[] = []) =>
  chain.publicClient.request({ method, params } as never);

describe("submitter failover on one PostgreSQL database", function () {
  let chain: TestChain;
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let site: TestSite;
  let sql: pg.Pool;
  const dirs = tempDirs();
  const dir = dirs.make;

  before(async function () {
    chain = await startTestChain();
    db = await testDatabase("postgres", "multi");
    site = await addSite(chain, await dir("multi"), SITE, { databaseUrl: db!.url });
    sql = new pg.Pool({ connectionString: db!.url });
    const author = chain.user(10);
    await chain.seed(SITE, [{ account: author.address, kind: ActionKind.CommentRewards, units: 5 }]);
    await chain.approveLedger(author);
  });
  after(async function () {
    await sql?.end();
    await chain?.stop();
    await db?.stop();
    await dirs.removeAll();
  });

  it("fails over within seconds when the leader is killed (kill -9) mid-batch: every accepted event settles exactly once", async function () {
    this.timeout(300_000);
    const root = await dir("multi-root");
    await writeTestDeployment(chain, root);
    const env = (instance: string) => ({
      DATABASE_URL: db!.url,
      RELAYER_INSTANCE: instance,
      RELAYER_LEASE_RETRY_MS: "200",
    });
    const names = ["k1", "k2", "k3"];
    const processes: RelayerProcess[] = [];
    for (const name of names) processes.push(await startRelayerProcess(chain, root, await dir(name), env(name)));
    try {
      const urls = processes.map((p) => p.url);
      const leader = await waitFor("a leader", () => leaderOf(urls));
      const clients = urls.map((url) => clientFor(chain, url, site));
      const author = chain.user(10).address;
      const published = await clients[0]!.sendEvents(
        [{ eventId: "pub", type: "post_published", occurredAt: 1, user: author, postId: "p", wordCount: 100 }],
        { nonce: 1n },
      );
      expect(published.counts.accepted).to.equal(1);
      await waitFor("the post settled", async () => {
        const open = await sql.query("SELECT count(*) AS n FROM events WHERE status <> 'settled'");
        return Number(open.rows[0].n) === 0 ? true : undefined;
      });
      const readers = [chain.user(14).address, chain.user(15).address, chain.user(16).address];
      const balancesBefore = await Promise.all(readers.map((r) => chain.balanceOf(r)));
      const epochBefore = Number((await sql.query("SELECT epoch FROM submitter_lease")).rows[0].epoch);

      // The leader sends a batch that is not mined yet, and dies.
      await rpc(chain, "evm_setAutomine", [false]);
      const first = await clients[(leader + 1) % 3]!.sendEvents(
        readers.map((user, i) => ({
          eventId: `kill-read-${i}`,
          type: "post_read" as const,
          occurredAt: 500 + i,
          user,
          postId: "p",
          secondsRead: 10_000,
        })),
        { nonce: 10_000n },
      );
      expect(first.counts.accepted).to.equal(3);
      await waitFor("the batch sent", async () => {
        const sent = await sql.query(
          "SELECT count(*) AS n FROM batch_attempts a JOIN events e ON e.batch_id = a.batch_id WHERE e.event_id = 'kill-read-0' AND a.tx_hash IS NOT NULL",
        );
        return Number(sent.rows[0].n) > 0 ? true : undefined;
      });
      const killedAt = Date.now();
      await processes[leader]!.kill9();
      const survivors = urls.filter((_, i) => i !== leader);
      const next = await waitFor("another leader", () => leaderOf(survivors), 10_000);
      const failover = Date.now() - killedAt;
      expect(failover).to.be.below(5_000);
      await rpc(chain, "evm_mine");
      await rpc(chain, "evm_setAutomine", [true]);

      // More events while the new leader reconciles, through the surviving instances.
      const second = await clientFor(chain, survivors[(next + 1) % 2]!, site).sendEvents(
        readers.map((user, i) => ({
          eventId: `kill-plus-${i}`,
          type: "post_plus" as const,
          occurredAt: 600 + i,
          user,
          postId: "p",
        })),
        { nonce: 10_001n },
      );
      expect(second.counts.accepted).to.equal(3);
      await waitFor("every event settled", async () => {
        const open = await sql.query("SELECT count(*) AS n FROM events WHERE status <> 'settled'");
        return Number(open.rows[0].n) === 0 ? true : undefined;
      });
      // Each read paid once (1 Twei each); the batch id settled once on-chain; a new epoch.
      const balancesAfter = await Promise.all(readers.map((r) => chain.balanceOf(r)));
      expect(balancesAfter.map((b, i) => b - balancesBefore[i]!)).to.deep.equal(readers.map(() => parseUnits("1", 18)));
      const settled = await chain.publicClient.getContractEvents({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        eventName: "BatchSettled",
        fromBlock: 0n,
      });
      const ids = settled.map((log) => log.args.batchId).filter((id) => (id ?? 0n) < 2n ** 63n);
      expect(new Set(ids).size).to.equal(ids.length);
      const recorded = await sql.query("SELECT count(*) AS n FROM batches WHERE status = 'settled'");
      expect(Number(recorded.rows[0].n)).to.equal(ids.length);
      const epochAfter = Number((await sql.query("SELECT epoch FROM submitter_lease")).rows[0].epoch);
      expect(epochAfter).to.be.greaterThan(epochBefore);
    } finally {
      await rpc(chain, "evm_setAutomine", [true]);
      for (const p of processes) await p.stop();
    }
  });
});
