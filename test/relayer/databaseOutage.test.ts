import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import pg from "pg";
import { ActionKind } from "../../src/core/kinds.js";
import { testDatabase } from "../helpers/postgres.js";
import { leaderOf } from "./helpers/leaderOf.js";
import { startRelayerProcess, writeTestDeployment, type RelayerProcess } from "./helpers/relayerProcess.js";
import { publishEvent, readEvent } from "./helpers/siteEvents.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs, waitFor, type TestSite } from "./helpers/testRelayer.js";

const SITE = 23;

describe("a PostgreSQL outage under real relayer processes", function () {
  let chain: TestChain;
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let site: TestSite;
  const dirs = tempDirs();
  const dir = dirs.make;

  before(async function () {
    chain = await startTestChain();
    db = await testDatabase("postgres", "outage");
    site = await addSite(chain, await dir("outage"), SITE, { databaseUrl: db!.url });
    const author = chain.user(10);
    await chain.seed(SITE, [{ account: author.address, kind: ActionKind.CommentRewards, units: 5 }]);
    await chain.approveLedger(author);
  });
  after(async function () {
    await chain?.stop();
    await db?.stop();
    await dirs.removeAll();
  });

  const unsettled = async () => {
    const sql = new pg.Client({ connectionString: db!.url });
    await sql.connect();
    try {
      return Number((await sql.query("SELECT count(*) AS n FROM events WHERE status <> 'settled'")).rows[0].n);
    } finally {
      await sql.end();
    }
  };

  it("a settlement pass while the database is down resolves and closes the gate (store_unreachable); the holder that loses its lease stops settling without a rejection, and leads again once it is back", async function () {
    this.timeout(120_000);
    const relayer = await startTestRelayer(chain, await dir("outage-inproc"), {
      databaseUrl: db!.url,
      instance: "inproc",
      leaseRetryMs: 100,
    });
    try {
      await waitFor("the lease", async () => (relayer.leading ? true : undefined));
      await relayer.batcher.tick();
      expect(relayer.batcher.gate.state).to.equal("open");
      await db!.server.halt();
      try {
        // The pass that meets the outage resolves (before: it rejected from trackedBatches, and
        // the lease loop's batcher.stop() rethrew it as an unhandled rejection).
        const batcher = relayer.batcher;
        await batcher.tick();
        expect(batcher.gate.state).to.equal("store_unreachable");
        // The lease's session is gone: the instance stops leading (batcher.stop() on the way).
        await waitFor("the lease lost", async () => (relayer.leading ? undefined : true));
      } finally {
        await db!.server.resume();
      }
      await waitFor("the lease again", async () => (relayer.leading ? true : undefined), 30_000);
      await relayer.batcher.tick();
      expect(relayer.batcher.gate.state).to.equal("open");
    } finally {
      await relayer.stop();
    }
  });

  it("ends no process (pg_ctl stop -m immediate, twice): the API answers 503 database_unavailable, settlement resumes once the database is back", async function () {
    this.timeout(240_000);
    const root = await dir("outage-root");
    await writeTestDeployment(chain, root);
    const processes: RelayerProcess[] = [];
    for (const name of ["o1", "o2"])
      processes.push(
        await startRelayerProcess(chain, root, await dir(name), {
          DATABASE_URL: db!.url,
          RELAYER_INSTANCE: name,
          RELAYER_LEASE_RETRY_MS: "200",
        }),
      );
    try {
      const urls = processes.map((p) => p.url);
      await waitFor("a leader", () => leaderOf(urls));
      const clients = urls.map((url) => clientFor(chain, url, site));
      const author = chain.user(10).address;
      expect(
        (await clients[0]!.sendEvents([publishEvent("pub", author, "p")], { nonce: 1n })).counts.accepted,
      ).to.equal(1);
      await waitFor("the post settled", async () => ((await unsettled()) === 0 ? true : undefined));

      for (let outage = 0; outage < 2; outage++) {
        const reader = chain.user(20 + outage).address;
        // One event accepted just before the database goes: settlement may be anywhere with it.
        const accepted = await clients[outage % 2]!.sendEvents([readEvent(`read-${outage}`, reader, "p")], {
          nonce: 10n + BigInt(outage),
        });
        expect(accepted.counts.accepted).to.equal(1);
        await db!.server.halt();
        try {
          // Many settlement passes (200 ms) and lease checks (200 ms) while it is down.
          await new Promise((resolve) => setTimeout(resolve, 4_000));
          for (const [i, p] of processes.entries())
            expect(p.child.exitCode, `instance ${i} exited:\n${p.output().slice(-3_000)}`).to.equal(null);
          // Every instance still answers, with the database's fault named (not the chain's).
          for (const client of clients) {
            const { body } = await client.signEvents([readEvent(`down-${outage}`, reader, "p")], 500n + BigInt(outage));
            const response = await fetch(`${urls[clients.indexOf(client)]}/v1/events`, {
              method: "POST",
              headers: { authorization: `Bearer ${site.apiKey}`, "content-type": "application/json" },
              body,
            });
            const problem = (await response.json()) as { code: string };
            expect([response.status, problem.code]).to.deep.equal([503, "database_unavailable"]);
            expect(response.headers.get("retry-after")).to.equal("5");
          }
          const ready = await fetch(`${urls[0]}/readyz`);
          expect(ready.status).to.equal(503);
          expect(((await ready.json()) as { checks: { database: boolean } }).checks.database).to.equal(false);
        } finally {
          await db!.server.resume();
        }
        // Back: nobody restarted anything, and what was accepted settles.
        await waitFor(
          "the accepted read settled after the outage",
          async () => ((await unsettled()) === 0 ? true : undefined),
          30_000,
        );
        expect((await chain.balanceOf(reader)) > 0n).to.equal(true);
      }
      // The API takes events again, on every instance, and they settle.
      for (const [i, client] of clients.entries())
        expect(
          (
            await client.sendEvents([readEvent(`after-${i}`, chain.user(30 + i).address, "p")], {
              nonce: 900n + BigInt(i),
            })
          ).counts.accepted,
        ).to.equal(1);
      await waitFor("the events sent after the outages settled", async () =>
        (await unsettled()) === 0 ? true : undefined,
      );
      for (const p of processes) expect(p.output()).to.not.match(/unhandled|uncaught/i);
    } finally {
      for (const p of processes) await p.stop();
    }
  });
});
