import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import pg from "pg";

import { createPgPool } from "../../src/storage/createPgPool.js";
import { testDatabase } from "../helpers/postgres.js";

describe("createPgPool: a pooled connection the server drops never ends the process", () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  before(async function () {
    this.timeout(60_000);
    db = await testDatabase("postgres", "pool");
  });
  after(async () => {
    await db?.stop();
  });

  it("a plain pg.Pool leaves a checked-out client without an error listener (why createPgPool exists)", async () => {
    const plain = new pg.Pool({ connectionString: db!.url, max: 1 });
    plain.on("error", () => undefined);
    const client = await plain.connect();
    try {
      expect(client.listenerCount("error")).to.equal(0);
    } finally {
      client.release();
      await plain.end();
    }
  });

  it("a checked-out client whose backend is terminated between queries: its next query rejects, the pool serves again", async function () {
    this.timeout(20_000);
    const pool = createPgPool({ connectionString: db!.url, max: 1 });
    const admin = new pg.Client({ connectionString: db!.url });
    await admin.connect();
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      // Not events.once: it would listen for `error` itself and reject on it.
      const dropped = new Promise((resolve) => client.once("end", resolve));
      await admin.query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
      // Without createPgPool's listener this event is unhandled and mocha reports the crash.
      await dropped;
      let refused: unknown;
      await client.query("SELECT 1").catch((error: unknown) => (refused = error));
      expect(refused).to.be.instanceOf(Error);
      client.release();
      const again = await pool.query<{ one: number }>("SELECT 1 AS one");
      expect(again.rows[0]!.one).to.equal(1);
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});
