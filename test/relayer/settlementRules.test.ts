import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "mocha";
import { toHex, zeroAddress, type Address, type Hex } from "viem";
import type { DecodedRevert } from "../../src/chain/decodeRevert.js";
import { ActionKind } from "../../src/core/kinds.js";
import { postIdFor } from "../../src/core/postId.js";
import { DEFAULT_UNIT_BOUNDS } from "../../src/core/ruleSet.js";
import { signerAt } from "../../src/evidence/batchEvidence.js";
import { classifyRevert, failureCodeOf } from "../../src/relayer/settlement/classifyRevert.js";
import { isFinal } from "../../src/relayer/settlement/finality.js";
import { isolatePoison, type ProbeReturnType } from "../../src/relayer/settlement/isolatePoison.js";
import { PgSchemaTooNewError } from "../../src/relayer/storage/pg/pgDatabase.js";
import { PG_MIGRATIONS } from "../../src/relayer/storage/pg/pgSchema.js";
import { createPgStore } from "../../src/relayer/storage/pg/pgStore.js";
import { SchemaTooNewError } from "../../src/relayer/storage/sqliteDatabase.js";
import { SCHEMA_VERSION } from "../../src/relayer/storage/sqliteSchema.js";
import { createSqliteStore } from "../../src/relayer/storage/sqliteStore.js";
import { ledgerRefusal } from "../../src/rules/ledgerRefusal.js";
import { testDatabase } from "../helpers/postgres.js";
import { removeDir, tempDir } from "./helpers/testRelayer.js";
import { pgQuery } from "./helpers/testStores.js";

const revert = (name: string, args: unknown[] = []): DecodedRevert => ({ name, args, data: "0x00000000" });
const alice = "0x00000000000000000000000000000000000a11ce" as Address;
const bob = "0x0000000000000000000000000000000000000b0b" as Address;

describe("settlement rules (pure): bisecting refused events, naming failures, finality", function () {
  describe("isolatePoison", function () {
    /** A dry run that the ledger refuses once the prefix holds any of `bad` (caps refuse long prefixes too). */
    const ledger =
      (bad: readonly number[], capAt = Infinity) =>
      async (prefix: readonly number[]): Promise<ProbeReturnType> => {
        const culprit = prefix.find((item) => bad.includes(item));
        if (culprit !== undefined) return { kind: "poison", revert: revert("TweiLedgerZeroAddress", [culprit]) };
        if (prefix.length >= capAt) return { kind: "cap", revert: revert("TweiLedgerEmissionCapExceeded") };
        return { kind: "ok", gas: 1n };
      };
    const items = Array.from({ length: 1_000 }, (_, i) => i);

    it("finds the first refused item of a thousand in about ten dry runs", async function () {
      for (const bad of [[0], [1], [499], [998, 999], [999], [17, 600]]) {
        const found = await isolatePoison(items, ledger(bad));
        expect(found?.item).to.equal(bad[0]);
        expect(found?.index).to.equal(bad[0]);
        expect(found?.revert.args).to.deep.equal([bad[0]]);
        expect(found?.probes).to.be.at.most(11);
      }
    });

    it("counts a prefix over an emission cap as good: the ledger checks the caps last", async function () {
      const found = await isolatePoison(items, ledger([700], 100));
      expect(found?.item).to.equal(700);
    });

    it("says so when nothing is refused any more, and passes a transient fault on", async function () {
      expect(await isolatePoison(items, ledger([]))).to.equal(undefined);
      const flaky = async (): Promise<ProbeReturnType> => {
        throw new Error("socket hang up");
      };
      let thrown: unknown;
      try {
        await isolatePoison(items, flaky);
      } catch (error) {
        thrown = error;
      }
      expect((thrown as Error).message).to.equal("socket hang up");
    });
  });

  describe("classifyRevert and failure codes", function () {
    it("tells caps, a pause, a missing role, a site, a settled id and a rule set out of force from the batch's own faults", function () {
      const kinds = [
        "TweiLedgerEmissionCapExceeded",
        "TweiLedgerSiteEmissionCapExceeded",
        "EnforcedPause",
        "AccessControlUnauthorizedAccount",
        "TweiLedgerSiteInactive",
        "TweiLedgerUnknownSite",
        "TweiLedgerBatchAlreadySettled",
        "TweiLedgerRuleSetNotInForce",
        "TweiLedgerZeroAddress",
        "Panic",
      ].map((name) => classifyRevert(revert(name)).kind);
      expect(kinds).to.deep.equal([
        "cap",
        "cap",
        "paused",
        "unauthorized",
        "site",
        "site",
        "settled",
        "rules",
        "poison",
        "poison",
      ]);
      expect(classifyRevert(undefined).kind).to.equal("transient");
    });

    it("names a refused event's failure after the ledger's error, in snake case", function () {
      expect(
        ["TweiLedgerZeroAddress", "TweiLedgerPostAlreadyRegistered", "TweiLedgerNotPostAuthor", "Error", "Panic"].map(
          (name) => failureCodeOf(revert(name)),
        ),
      ).to.deep.equal([
        "ledger_zero_address",
        "ledger_post_already_registered",
        "ledger_not_post_author",
        "ledger_error",
        "ledger_panic",
      ]);
      expect(failureCodeOf(revert("unknown 0x12345678"))).to.equal("ledger_unknown_error");
    });
  });

  describe("isFinal", function () {
    it("counts the mining block as the first confirmation", function () {
      const rule = { mode: "confirmations", confirmations: 3 } as const;
      expect(isFinal(rule, { head: 11n, finalized: null }, 10n)).to.equal(false);
      expect(isFinal(rule, { head: 12n, finalized: null }, 10n)).to.equal(true);
      expect(isFinal(rule, { head: 9n, finalized: null }, 10n)).to.equal(false); // a reorg shortened the chain
    });

    it("waits for the finalized block in finalized mode", function () {
      const rule = { mode: "finalized" } as const;
      expect(isFinal(rule, { head: 100n, finalized: 9n }, 10n)).to.equal(false);
      expect(isFinal(rule, { head: 100n, finalized: 10n }, 10n)).to.equal(true);
    });
  });

  describe("ledgerRefusal", function () {
    const postId = 7n;
    const authorOf = () => alice;
    const maxUnits = DEFAULT_UNIT_BOUNDS;
    const act = (account: Address, kind: ActionKind, units = 1) => ({ account, kind, units, postId });

    it("accepts what the rules give", function () {
      expect(
        ledgerRefusal({
          actions: [act(bob, ActionKind.ReadToEarn, 10_000), act(alice, ActionKind.EarnedForPluses)],
          authorOf,
          maxUnits,
        }),
      ).to.equal(undefined);
    });

    it("refuses what the ledger would: zero addresses, units out of bounds, author rules broken", function () {
      const cases: [Parameters<typeof ledgerRefusal>[0], string][] = [
        [{ actions: [act(zeroAddress, ActionKind.LikesOwn)], authorOf, maxUnits }, "action 0 names the zero address"],
        [
          { actions: [act(bob, ActionKind.ReadToEarn, 10_001)], authorOf, maxUnits },
          "has 10001 units, outside 1..10000",
        ],
        [{ actions: [act(bob, ActionKind.PnLReports, 2)], authorOf, maxUnits }, "has 2 units, outside 1..1"],
        [
          { actions: [act(bob, ActionKind.LikesAuthor)], authorOf, maxUnits },
          "pays someone else than the post's author",
        ],
        [{ actions: [act(alice, ActionKind.SpentForMinuses)], authorOf, maxUnits }, "is the post's author's own"],
        [
          { actions: [act(bob, ActionKind.LikesOwn)], authorOf: () => undefined, maxUnits },
          "names a post that is not registered",
        ],
        [
          {
            actions: [act(zeroAddress, ActionKind.PostPublishTribute)],
            registers: { postId, author: zeroAddress },
            authorOf,
            maxUnits,
          },
          "the post's author is the zero address",
        ],
      ];
      for (const [input, expected] of cases) expect(ledgerRefusal(input)).to.include(expected);
    });

    it("takes the unit bounds of the rule set in force, not the launch ones: a lower bound, a disabled kind", function () {
      const halfReads = [5_000, ...DEFAULT_UNIT_BOUNDS.slice(1, ActionKind.PnLReports), 0];
      expect(
        ledgerRefusal({ actions: [act(bob, ActionKind.ReadToEarn, 5_000)], authorOf, maxUnits: halfReads }),
      ).to.equal(undefined);
      expect(
        ledgerRefusal({ actions: [act(bob, ActionKind.ReadToEarn, 5_001)], authorOf, maxUnits: halfReads }),
      ).to.include("has 5001 units, outside 1..5000 (the rule set in force's bound)");
      expect(ledgerRefusal({ actions: [act(bob, ActionKind.PnLReports)], authorOf, maxUnits: halfReads })).to.include(
        "(PnL Reports) is a kind the rule set in force disables",
      );
      // Wider bounds than at launch are the ledger's to take too.
      const wide = DEFAULT_UNIT_BOUNDS.map((bound, kind) => (kind === ActionKind.ReadToEarn ? bound : 4));
      expect(ledgerRefusal({ actions: [act(bob, ActionKind.PnLReports, 3)], authorOf, maxUnits: wide })).to.equal(
        undefined,
      );
    });
  });

  describe("signerAt", function () {
    it("is the signer of the last change at or before the block", function () {
      const history = [
        { block: 5n, signer: alice },
        { block: 9n, signer: bob },
      ];
      expect([4n, 5n, 8n, 9n, 20n].map((block) => signerAt(history, block))).to.deep.equal([
        undefined,
        alice,
        alice,
        bob,
        bob,
      ]);
    });
  });
});

describe("relayer database schema versions", function () {
  it("migrates a version 1 database at open: its events, posts and batches kept, the new columns filled", async function () {
    const dir = await tempDir("migrate");
    const path = join(dir, "relayer.sqlite");
    try {
      const old = new DatabaseSync(path);
      old.exec(await readFile("test/relayer/fixtures/schema-v1.sql", "utf8"));
      old.exec(`
        INSERT INTO posts (site_id, post_id, author, word_count) VALUES (3, 'p', '${alice}', 100);
        INSERT INTO batches (batch_id, site_id, status, evidence_root, actions, event_count, created_at, tx_hash, block_number, settled_at)
          VALUES (42, 3, 'settled', '0x00', '0x00', 0, 1, '0xab', '7', 1234);`);
      old.close();

      const store = createSqliteStore({ path });
      const batch = await store.batch(42n);
      expect([batch?.status, batch?.blockNumber, batch?.includedAt]).to.deep.equal(["settled", 7n, 1234]);
      // Its evidence root was built with version 1 leaves (no positions): it stays auditable as such.
      expect(batch?.evidenceVersion).to.equal(1);
      // It names no rule-set version: it is sent (if ever again) under the one in force, as it was cut.
      expect(batch?.ruleSetVersion).to.equal(null);
      await store.close();
      const db = new DatabaseSync(path);
      expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).to.deep.equal({
        value: String(SCHEMA_VERSION),
      });
      expect(db.prepare("SELECT chain_post_id FROM posts").get()).to.deep.equal({
        chain_post_id: toHex(postIdFor(3, "p"), { size: 8 }) as Hex,
      });
      // A database of a newer relayer is refused, not rewritten.
      db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
      db.close();
      expect(() => createSqliteStore({ path })).to.throw(SchemaTooNewError, /schema version 99/);
    } finally {
      await removeDir(dir);
    }
  });

  it("on PostgreSQL, applies each migration once at open (two stores opening together included), and refuses a database of a newer relayer", async function () {
    const db = await testDatabase("postgres", "schema");
    const url = db?.url as string;
    try {
      const [one, two] = [createPgStore({ url }), createPgStore({ url })];
      await Promise.all([one.ping(), two.ping()]);
      await Promise.all([one.close(), two.close()]);
      const versions = (await pgQuery(url, "SELECT version FROM schema_migrations ORDER BY version")).rows;
      expect(versions.map((row: { version: number }) => row.version)).to.deep.equal(
        PG_MIGRATIONS.map((migration) => migration.version),
      );
      // A database of a newer relayer is refused, not rewritten.
      await pgQuery(url, "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");
      const newer = createPgStore({ url });
      const refused = await newer.ping().then(
        () => undefined,
        (error: unknown) => error,
      );
      await newer.close().catch(() => undefined);
      expect(refused).to.be.instanceOf(PgSchemaTooNewError);
      expect((refused as Error).message).to.match(/schema version 99/);
      expect((await pgQuery(url, "SELECT count(*)::int AS n FROM schema_migrations")).rows[0]).to.deep.equal({
        n: PG_MIGRATIONS.length + 1,
      });
    } finally {
      await db?.stop();
    }
  });
});
