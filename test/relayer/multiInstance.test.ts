import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import pg from "pg";
import { type Address } from "viem";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind } from "../../src/core/kinds.js";
import { amountFor, DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import { testDatabase } from "../helpers/postgres.js";
import { leaderOf } from "./helpers/leaderOf.js";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs, waitFor, type TestSite } from "./helpers/testRelayer.js";

const SITE = 21;

describe("several relayer instances on one PostgreSQL database", function () {
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

  it("never accepts more spends than a user's funds, however the requests interleave over three instances (checked on-chain after settlement)", async function () {
    const relayers = await Promise.all(
      ["a", "b", "c"].map(async (instance) =>
        startTestRelayer(chain, await dir(`multi-${instance}`), {
          databaseUrl: db!.url,
          instance,
          leaseRetryMs: 200,
          siteCacheMs: 0,
        }),
      ),
    );
    try {
      const urls = relayers.map((r) => r.url);
      const clients = urls.map((url) => clientFor(chain, url, site));
      let turn = 0;
      const roundRobin = () => clients[turn++ % clients.length]!;
      const author = chain.user(10).address;
      const published = await roundRobin().sendEvents(
        [{ eventId: "pub", type: "post_published", occurredAt: 1, user: author, postId: "p", wordCount: 100 }],
        { nonce: 1n },
      );
      expect(published.counts.accepted).to.equal(1);

      // Each spender holds enough for exactly `affordable` reports.
      const cost = amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.PnLReports, 1);
      const spenders = [chain.user(11), chain.user(12), chain.user(13)];
      for (const spender of spenders) {
        await chain.seed(SITE, [{ account: spender.address, kind: ActionKind.CommentRewards, units: 1 }]);
        await chain.approveLedger(spender);
      }
      const before = await Promise.all(spenders.map((s) => chain.balanceOf(s.address)));
      const affordable = before.map((balance) => balance / cost);
      expect(affordable.every((n) => n >= 2n && n < 40n)).to.equal(true, `affordable: ${affordable.join(", ")}`);

      // Every spender asks for more than it can pay, one event an envelope, all at once, each
      // request through the next instance, while the leader settles what was accepted.
      let nonce = 100n;
      const requests: Promise<{ user: Address; accepted: number }>[] = [];
      for (let round = 0; round < 45; round++)
        for (const spender of spenders) {
          const event: SiteEventInput = {
            eventId: `buy-${spender.address}-${round}`,
            type: "report_purchased",
            occurredAt: 10 + round,
            user: spender.address,
            postId: "p",
          };
          const client = roundRobin();
          const n = nonce++;
          requests.push(
            client.sendEvents([event], { nonce: n }).then(
              (answer) => ({ user: spender.address, accepted: answer.counts.accepted }),
              () => ({ user: spender.address, accepted: 0 }),
            ),
          );
        }
      const answers = await Promise.all(requests);
      const accepted = spenders.map((s) =>
        answers.filter((a) => a.user === s.address).reduce((sum, a) => sum + a.accepted, 0),
      );
      accepted.forEach((n, i) => expect(n).to.be.at.most(Number(affordable[i]!)));
      expect(accepted.reduce((a, b) => a + b, 0)).to.be.greaterThan(0);

      // Settled, every one; the chain took exactly what was accepted and nobody fell short.
      await waitFor(
        "every accepted event settled",
        async () => {
          const open = await sql.query("SELECT count(*) AS n FROM events WHERE status <> 'settled'");
          return Number(open.rows[0].n) === 0 ? true : undefined;
        },
        60_000,
      );
      const after = await Promise.all(spenders.map((s) => chain.balanceOf(s.address)));
      after.forEach((balance, i) => expect(before[i]! - balance).to.equal(BigInt(accepted[i]!) * cost));
      const shortfalls = await chain.publicClient.getContractEvents({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        eventName: "BurnShortfall",
        fromBlock: 0n,
      });
      expect(shortfalls).to.have.length(0);
      expect(await leaderOf(urls)).to.not.equal(undefined);
    } finally {
      for (const relayer of relayers) await relayer.stop();
    }
  });
});
