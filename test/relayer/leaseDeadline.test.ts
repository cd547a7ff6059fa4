import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import pg from "pg";
import { parseUnits } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { testDatabase } from "../helpers/postgres.js";
import { leaderOf } from "./helpers/leaderOf.js";
import { startRelayerProcess, writeTestDeployment, type RelayerProcess } from "./helpers/relayerProcess.js";
import { publishEvent, readEvent } from "./helpers/siteEvents.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, tempDirs, waitFor, type TestSite } from "./helpers/testRelayer.js";

const SITE = 25;
const DEADLINE_MS = 2_000;

describe("a hung submitter loses the lease at its deadline (SIGSTOP)", function () {
  let chain: TestChain;
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let site: TestSite;
  let sql: pg.Pool;
  const dirs = tempDirs();
  const dir = dirs.make;

  before(async function () {
    chain = await startTestChain();
    db = await testDatabase("postgres", "hung");
    site = await addSite(chain, await dir("hung"), SITE, { databaseUrl: db!.url });
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

  const unsettled = async () =>
    Number((await sql.query("SELECT count(*) AS n FROM events WHERE status <> 'settled'")).rows[0].n);

  it("another instance takes over a leader stopped past the deadline (ending its session); woken, the former leader writes nothing and follows", async function () {
    this.timeout(240_000);
    const root = await dir("hung-root");
    await writeTestDeployment(chain, root);
    const processes: RelayerProcess[] = [];
    for (const name of ["h1", "h2"])
      processes.push(
        await startRelayerProcess(chain, root, await dir(name), {
          DATABASE_URL: db!.url,
          RELAYER_INSTANCE: name,
          RELAYER_LEASE_RETRY_MS: "200",
          RELAYER_LEASE_DEADLINE_MS: String(DEADLINE_MS),
        }),
      );
    let stopped: RelayerProcess | undefined;
    try {
      const urls = processes.map((p) => p.url);
      const leader = await waitFor("a leader", () => leaderOf(urls));
      const other = 1 - leader;
      const client = clientFor(chain, urls[other]!, site);
      const author = chain.user(10).address;
      expect((await client.sendEvents([publishEvent("pub", author, "p")], { nonce: 1n })).counts.accepted).to.equal(1);
      await waitFor("the post settled", async () => ((await unsettled()) === 0 ? true : undefined));
      const before = (await sql.query("SELECT holder, epoch FROM submitter_lease")).rows[0];
      expect(before.holder).to.equal(["h1", "h2"][leader]);

      // The leader hangs: its process is stopped, its TCP sessions stay open.
      stopped = processes[leader]!;
      stopped.child.kill("SIGSTOP");
      const stoppedAt = Date.now();
      const [reader, later] = [chain.user(20).address, chain.user(21).address];
      const balancesBefore = [await chain.balanceOf(reader), await chain.balanceOf(later)];
      expect((await client.sendEvents([readEvent("read-hung", reader, "p")], { nonce: 2n })).counts.accepted).to.equal(
        1,
      );
      await waitFor("the other instance leads", () => leaderOf([urls[other]!]), 30_000);
      const takeover = Date.now() - stoppedAt;
      await waitFor("the read settled while the former leader is stopped", async () =>
        (await unsettled()) === 0 ? true : undefined,
      );
      const after = (await sql.query("SELECT holder, epoch FROM submitter_lease")).rows[0];
      expect(after.holder).to.equal(["h1", "h2"][other]);
      expect(BigInt(after.epoch) > BigInt(before.epoch)).to.equal(true);
      // Not before the deadline (renewals every 200 ms keep a live holder), and soon after it.
      expect(takeover).to.be.above(DEADLINE_MS - 500);
      expect(takeover).to.be.below(DEADLINE_MS + 8_000);

      // Woken, the former leader finds its session ended and its epoch gone: it follows.
      stopped.child.kill("SIGCONT");
      stopped = undefined;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(await leaderOf(urls)).to.equal(other);
      // More events through the woken instance settle once, by the new leader.
      const woken = clientFor(chain, urls[leader]!, site);
      expect((await woken.sendEvents([readEvent("read-after", later, "p")], { nonce: 3n })).counts.accepted).to.equal(
        1,
      );
      await waitFor("the read after settled", async () => ((await unsettled()) === 0 ? true : undefined));
      // Each read paid once (1 Twei each).
      expect([
        (await chain.balanceOf(reader)) - balancesBefore[0]!,
        (await chain.balanceOf(later)) - balancesBefore[1]!,
      ]).to.deep.equal([parseUnits("1", 18), parseUnits("1", 18)]);
      const final = (await sql.query("SELECT holder, epoch FROM submitter_lease")).rows[0];
      expect(final).to.deep.equal(after);
      for (const p of processes) expect(p.child.exitCode).to.equal(null);
      console.log(`      takeover after SIGSTOP: ${takeover} ms (deadline ${DEADLINE_MS} ms, renewal every 200 ms)`);
    } finally {
      stopped?.child.kill("SIGCONT");
      for (const p of processes) await p.stop();
    }
  });
});
