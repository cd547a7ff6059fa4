import { expect } from "chai";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "mocha";
import type { Address, Hex } from "viem";
import type { RelayerStore } from "../../src/relayer/storage/relayerStore.js";
import { STORES } from "../helpers/postgres.js";
import { queueUnchecked, readEvent } from "./helpers/siteEvents.js";
import { pgQuery, testStores, type TestStore } from "./helpers/testStores.js";

const SITE = 51;
const reader = "0x0000000000000000000000000000000000000a11" as Address;
const hash = (byte: string) => `0x${byte.repeat(32)}` as Hex;

/** Runs one statement on the test's database, whichever the engine; resolves to the error it raised. */
async function refusal(testStore: TestStore, sql: string): Promise<string> {
  try {
    if (testStore.databaseUrl) await pgQuery(testStore.databaseUrl, sql);
    else {
      const db = new DatabaseSync(join(testStore.dataDir, "relayer.sqlite"));
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    }
  } catch (error) {
    return (error as Error).message;
  }
  return "accepted";
}

for (const store of STORES)
  describe(`relayer store on ${store}: an event settles once`, function () {
    this.timeout(60_000);
    const stores = testStores(store);
    before(() => stores.start());
    after(() => stores.stop());

    /** A store with one accepted read (seq of it returned), the lease held on PostgreSQL. */
    async function oneEvent(label: string) {
      const testStore = await stores.fresh(label);
      await queueUnchecked(testStore, SITE, readEvent("read-1", reader, "p1"), 7n);
      const opened: RelayerStore = testStore.open();
      if (opened.lease) expect(await opened.lease.tryAcquire()).to.equal(true);
      const [event] = await opened.pendingEvents(SITE, 10);
      if (!event) throw new Error("the read is not pending");
      return { testStore, store: opened, seq: event.seq };
    }

    it("the database refuses a second row of an event id, or of an envelope nonce, of a site", async function () {
      const { testStore, store: opened } = await oneEvent("unique");
      await opened.close();
      const columns =
        "site_id, event_id, event_hash, event_json, envelope_nonce, envelope_index, envelope_digest, actions_json, reserve_json, received_at";
      expect(
        await refusal(
          testStore,
          `INSERT INTO events (${columns}) SELECT ${columns} FROM events WHERE event_id = 'read-1'`,
        ),
      ).to.match(/unique|duplicate key/i);
      expect(
        await refusal(
          testStore,
          `INSERT INTO envelopes (site_id, nonce, events_hash, digest, signature, event_hashes, received_at)
           SELECT site_id, nonce, '${hash("01")}', digest, signature, event_hashes, received_at FROM envelopes`,
        ),
      ).to.match(/unique|duplicate key/i);
    });

    it("abandoning a batch that was included leaves it and its events alone: they are never cut again", async function () {
      const { store: opened, seq } = await oneEvent("abandon");
      try {
        const batch = await opened.recordBatch({
          siteId: SITE,
          seqs: [seq],
          evidenceRoot: hash("ee"),
          evidenceVersion: 2,
          actions: "0x",
          ruleSetVersion: 1,
          createdAt: Date.now(),
        });
        await opened.markIncluded(batch.batchId, {
          txHash: hash("aa"),
          blockNumber: 10n,
          blockHash: hash("bb"),
          gasUsed: 100_000n,
          includedAt: Date.now(),
        });
        await opened.abandonBatch(batch.batchId, "a stale decision");
        expect((await opened.batch(batch.batchId))?.status).to.equal("included");
        expect((await opened.event(SITE, "read-1"))?.status).to.equal("included");
        expect(await opened.pendingEvents(SITE, 10)).to.deep.equal([]);
        let again: unknown;
        try {
          await opened.recordBatch({
            siteId: SITE,
            seqs: [seq],
            evidenceRoot: hash("ef"),
            evidenceVersion: 2,
            actions: "0x",
            ruleSetVersion: 1,
            createdAt: Date.now(),
          });
        } catch (error) {
          again = error;
        }
        expect((again as Error | undefined)?.message).to.match(/not pending/);

        // A batch still recorded is given up as before: its events are pending again.
        const other = await oneEvent("abandon-recorded");
        try {
          const recorded = await other.store.recordBatch({
            siteId: SITE,
            seqs: [other.seq],
            evidenceRoot: hash("ee"),
            evidenceVersion: 2,
            actions: "0x",
            ruleSetVersion: 1,
            createdAt: Date.now(),
          });
          await other.store.abandonBatch(recorded.batchId, "it reverted");
          expect((await other.store.batch(recorded.batchId))?.status).to.equal("abandoned");
          expect((await other.store.pendingEvents(SITE, 10)).map((e) => e.eventId)).to.deep.equal(["read-1"]);
        } finally {
          await other.store.close();
        }
      } finally {
        await opened.close();
      }
    });
  });
