import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Address, Hex } from "viem";
import { InvariantError, StoreMismatchError } from "../errors.js";
import { batchOutcomes, type BurnShortfall } from "../decode/batchOutcomes.js";
import { addOutcomes, createDeltas, type Deltas } from "../decode/deltas.js";
import { decodeLines, mergeEncodedLines, type KindLines } from "../decode/lines.js";
import type {
  AggregateRow,
  BlockRef,
  IndexerStore,
  PostRow,
  RangeCommit,
  RuleSetRow,
  StoreIdentity,
  StoreStats,
} from "./IndexerStore.js";
import { postIdOfKey, postKey, SCHEMA, SCHEMA_VERSION } from "./sqliteSchema.js";
import { createAccountIdCache } from "./accountIdCache.js";
import { createWriteCache } from "./writeCache.js";
import { instanceFor } from "./instanceFor.js";
import { batchOf, big, instanceOf, num, postOf, ruleSetOf, shortfallOf, str } from "./storeRows.js";
import { sqliteTransaction } from "../../storage/sqliteTransaction.js";

export interface CreateSqliteStoreParameters {
  /** The database file (created with its folder), or ":memory:". */
  path: string;
  /** Opens an existing database for reading only (the report CLI next to a running indexer). */
  readOnly?: boolean;
}

/**
 * The indexer's state in SQLite through Node's built-in `node:sqlite` (WAL, so readers such
 * as the report CLI and the HTTP API never wait for the writer).
 *
 * @example
 * const store = createSqliteStore({ path: "data/indexer/localhost.sqlite" })
 */
export function createSqliteStore(parameters: CreateSqliteStoreParameters): IndexerStore {
  const { path } = parameters;
  const readOnly = parameters.readOnly ?? false;
  if (path !== ":memory:" && !readOnly) mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path, readOnly ? { readOnly: true } : {});
  db.exec("PRAGMA busy_timeout = 10000");
  // Aggregates add up in SQL: amounts are decimal strings that only bigint arithmetic may add.
  db.function("merge_lines", { deterministic: true }, (a, b) => mergeEncodedLines(String(a), String(b)));
  db.function("add_wei", { deterministic: true }, (a, b) => (BigInt(String(a)) + BigInt(String(b))).toString());
  if (!readOnly) {
    // A large page cache: a range's aggregate upserts touch pages all over their B-trees.
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -131072");
    db.exec(SCHEMA);
  }
  const statements = new Map<string, StatementSync>();
  const sql = (text: string): StatementSync => {
    let statement = statements.get(text);
    if (statement === undefined) {
      statement = db.prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };
  const getMeta = (key: string) => sql("SELECT value FROM meta WHERE key = ?").get(key)?.value as string | undefined;
  const setMeta = (key: string, value: string) =>
    sql("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(
      key,
      value,
    );

  // Account ids by address, remembered across commits (forgotten if a commit fails, since
  // the ids it created are gone with it).
  const knownIds = createAccountIdCache();
  const accountIds = (accounts: Iterable<Address>) => {
    const lookup = knownIds.lookup(accounts);
    const { unknown } = lookup;
    for (let i = 0; i < unknown.length; i += 200) {
      const chunk = unknown.slice(i, i + 200);
      for (const row of sql(
        `SELECT id, address FROM accounts WHERE address IN (${chunk.map(() => "?").join(",")})`,
      ).all(...chunk))
        lookup.found(str(row, "address") as Address, num(row, "id"));
      const missing = chunk.filter((address) => !lookup.ids.has(address));
      if (missing.length === 0) continue;
      for (const row of sql(
        `INSERT INTO accounts (address) VALUES ${missing.map(() => "(?)").join(",")} RETURNING id, address`,
      ).all(...missing)) {
        lookup.found(str(row, "address") as Address, num(row, "id"), true);
      }
    }
    return { ids: lookup.ids, created: lookup.created };
  };
  const accountId = (account: Address): number | null => {
    const row = sql("SELECT id FROM accounts WHERE address = ?").get(account.toLowerCase());
    return row ? num(row, "id") : null;
  };

  // A rolled-back transaction may have allocated account ids: forget the cached ones.
  const transaction = <T>(work: () => T): T => sqliteTransaction(db, work, knownIds.forget);

  const ruleSetAt = (blockNumber: bigint): RuleSetRow | null => {
    const row = sql(
      "SELECT * FROM rule_sets WHERE block_number <= ? ORDER BY block_number DESC, tx_index DESC, log_index DESC LIMIT 1",
    ).get(blockNumber);
    return row ? ruleSetOf(row) : null;
  };
  const ruleSet = (version: number): RuleSetRow | null => {
    const row = sql("SELECT * FROM rule_sets WHERE version = ?").get(version);
    return row ? ruleSetOf(row) : null;
  };
  const post = (postId: bigint): PostRow | null => {
    const row = sql("SELECT * FROM posts WHERE post_id = ?").get(postId.toString());
    return row ? postOf(row) : null;
  };
  const shortfallsOf = (batchId: bigint): BurnShortfall[] =>
    sql("SELECT * FROM shortfalls WHERE batch_id = ? ORDER BY action_index").all(batchId.toString()).map(shortfallOf);

  let accountPostsStatement: StatementSync | null = null;
  const cacheFor = () => createWriteCache(sql, accountIds);

  const commitRange = (commit: RangeCommit) =>
    transaction(() => {
      const cache = cacheFor();
      const insertRuleSet = sql(
        "INSERT INTO rule_sets (version, amounts, block_number, tx_index, log_index) VALUES (?, ?, ?, ?, ?)",
      );
      const insertBatch = sql(
        `INSERT INTO batches (batch_id, site_id, evidence_root, rule_set_version, minted, burned, actions,
          action_count, block_number, block_hash, tx_index, log_index, tx_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      );
      const insertShortfall = sql(
        `INSERT INTO shortfalls (batch_id, action_index, account, kind, post_id, amount, block_number)
          VALUES (?,?,?,?,?,?,?)`,
      );
      const insertPost = sql(
        // A post id the policy admin released (TweiLedger.releasePost) is registered again: the
        // newer registration replaces the older.
        `INSERT INTO posts (post_id, site_id, author, batch_id, block_number) VALUES (?, ?, ?, ?, ?)
          ON CONFLICT (post_id) DO UPDATE SET site_id = excluded.site_id, author = excluded.author,
            batch_id = excluded.batch_id, block_number = excluded.block_number`,
      );
      const insertTransfers = (rows: (string | number | bigint)[][]) => {
        for (let i = 0; i < rows.length; i += 100) {
          const chunk = rows.slice(i, i + 100);
          sql(
            `INSERT INTO transfers (block_number, tx_index, log_index, from_addr, to_addr, value, tx_hash)
              VALUES ${chunk.map(() => "(?,?,?,?,?,?,?)").join(",")}`,
          ).run(...chunk.flat());
        }
      };
      const insertInstance = sql(
        `INSERT INTO report_instances (id, post_id, buyer, batch_id, action_index, block_number, block_hash,
          content, content_hash) VALUES (?,?,?,?,?,?,?,?,?)`,
      );
      for (const block of commit.blocks) {
        for (const r of block.ruleSets)
          insertRuleSet.run(r.version, JSON.stringify(r.amounts.map(String)), r.blockNumber, r.txIndex, r.logIndex);
        for (const { batch, shortfalls, posts, actionCount } of block.batches) {
          const bytes = Buffer.from(batch.actions.slice(2), "hex");
          insertBatch.run(
            batch.batchId.toString(),
            batch.siteId,
            batch.evidenceRoot,
            batch.ruleSetVersion,
            batch.minted.toString(),
            batch.burned.toString(),
            bytes,
            actionCount,
            batch.blockNumber,
            batch.blockHash,
            batch.txIndex,
            batch.logIndex,
            batch.txHash,
          );
          for (const s of shortfalls)
            insertShortfall.run(
              s.batchId.toString(),
              s.actionIndex,
              s.account,
              s.kind,
              s.postId.toString(),
              s.amount.toString(),
              batch.blockNumber,
            );
          for (const p of posts)
            insertPost.run(p.postId.toString(), p.siteId, p.author, p.batchId.toString(), p.blockNumber);
        }
        const transfers: (string | number | bigint)[][] = [];
        for (const t of block.transfers) {
          transfers.push([t.blockNumber, t.txIndex, t.logIndex, t.from, t.to, t.value.toString(), t.txHash]);
          cache.addBalance(t.from, -t.value);
          cache.addBalance(t.to, t.value);
        }
        insertTransfers(transfers);
        cache.merge(block.deltas);
        for (const purchase of block.purchases) {
          const instance = instanceFor({
            purchase,
            block: block.block,
            post: post(purchase.postId),
            totals: cache.postTotals(purchase.postId),
            reportPrice: ruleSetAt(block.block.number)?.amounts[12] ?? 0n,
          });
          insertInstance.run(
            instance.id,
            instance.postId.toString(),
            instance.buyer,
            instance.batchId.toString(),
            instance.actionIndex,
            instance.blockNumber,
            instance.blockHash,
            instance.content,
            instance.contentHash,
          );
        }
      }
      cache.flush();
      const insertBlock = sql("INSERT OR REPLACE INTO blocks (number, hash) VALUES (?, ?)");
      for (const seen of commit.seen) insertBlock.run(seen.number, seen.hash);
      setMeta(
        "checkpoint",
        JSON.stringify({ number: commit.checkpoint.number.toString(), hash: commit.checkpoint.hash }),
      );
    });

  const rollback = (to: BlockRef | null) =>
    transaction(() => {
      const after = to === null ? -1n : to.number;
      const cache = cacheFor();
      // Take back what the undone batches added, newest first, with the rule sets they used.
      const batches = sql("SELECT * FROM batches WHERE block_number > ? ORDER BY block_number DESC, log_index DESC")
        .all(after)
        .map(batchOf);
      const deltas: Deltas = createDeltas();
      for (const batch of batches) {
        const rules = ruleSet(batch.ruleSetVersion);
        if (rules === null)
          throw new InvariantError(`rule set ${batch.ruleSetVersion} of batch ${batch.batchId} is missing`);
        addOutcomes(deltas, batchOutcomes(batch, rules.amounts, shortfallsOf(batch.batchId)).actions, -1);
      }
      cache.merge(deltas);
      for (const row of sql("SELECT from_addr, to_addr, value FROM transfers WHERE block_number > ?").all(after)) {
        const value = big(row, "value");
        cache.addBalance(str(row, "from_addr") as Address, value);
        cache.addBalance(str(row, "to_addr") as Address, -value);
      }
      cache.dropEmptied(deltas);
      cache.flush();
      for (const table of ["batches", "shortfalls", "posts", "transfers", "rule_sets", "report_instances"])
        sql(`DELETE FROM ${table} WHERE block_number > ?`).run(after);
      sql("DELETE FROM blocks WHERE number > ?").run(after);
      if (to === null) sql("DELETE FROM meta WHERE key = 'checkpoint'").run();
      else setMeta("checkpoint", JSON.stringify({ number: to.number.toString(), hash: to.hash }));
    });

  const store: IndexerStore = {
    async init(identity: StoreIdentity) {
      const wanted = JSON.stringify({
        schema: SCHEMA_VERSION,
        chainId: identity.chainId,
        ledger: identity.ledger.toLowerCase(),
        token: identity.token.toLowerCase(),
        deploymentBlock: identity.deploymentBlock.toString(),
      });
      const found = getMeta("identity");
      if (found === undefined) {
        if (readOnly) throw new StoreMismatchError("the database has not been indexed yet");
        setMeta("identity", wanted);
      } else if (found !== wanted)
        throw new StoreMismatchError(`the database at ${path} indexes another deployment: ${found}`);
    },
    async checkpoint() {
      const value = getMeta("checkpoint");
      if (value === undefined) return null;
      const { number, hash } = JSON.parse(value) as { number: string; hash: Hex };
      return { number: BigInt(number), hash };
    },
    async recentBlocks(limit) {
      return sql("SELECT number, hash FROM blocks ORDER BY number DESC LIMIT ?")
        .all(limit)
        .map((row) => ({ number: big(row, "number"), hash: str(row, "hash") as Hex }));
    },
    async commitRange(commit) {
      commitRange(commit);
    },
    async rollback(to) {
      rollback(to);
    },
    async pruneBlocks(below) {
      sql("DELETE FROM blocks WHERE number < ?").run(below);
    },
    async markSynced(at) {
      setMeta("synced_at", String(at));
    },
    async lastSyncedAt() {
      const value = getMeta("synced_at");
      return value === undefined ? null : Number(value);
    },
    async ruleSet(version) {
      return ruleSet(version);
    },
    async ruleSetAt(blockNumber) {
      return ruleSetAt(blockNumber);
    },
    async batch(batchId) {
      const row = sql("SELECT * FROM batches WHERE batch_id = ?").get(batchId.toString());
      return row ? { ...batchOf(row), shortfalls: shortfallsOf(batchId) } : null;
    },
    async post(postId) {
      return post(postId);
    },
    async postTotals(postId): Promise<AggregateRow | null> {
      const row = sql("SELECT lines, participants FROM post_totals WHERE post_key = ?").get(postKey(postId));
      return row ? { lines: decodeLines(str(row, "lines")), participants: num(row, "participants") } : null;
    },
    async postAccountLines(postId, account): Promise<KindLines | null> {
      const id = accountId(account);
      if (id === null) return null;
      const row = sql("SELECT lines FROM post_accounts WHERE account_id = ? AND post_key = ?").get(id, postKey(postId));
      return row ? decodeLines(str(row, "lines")) : null;
    },
    async accountLines(account) {
      const id = accountId(account);
      const row = id === null ? undefined : sql("SELECT lines FROM account_totals WHERE account_id = ?").get(id);
      return row ? decodeLines(str(row, "lines")) : null;
    },
    async accountPosts(account, limit) {
      const id = accountId(account);
      if (id === null) return [];
      if (accountPostsStatement === null) {
        accountPostsStatement = db.prepare(
          "SELECT post_key, lines FROM post_accounts WHERE account_id = ? ORDER BY post_key LIMIT ?",
        );
        // Post keys span the whole int64 range: read them as bigints.
        accountPostsStatement.setReadBigInts(true);
      }
      return accountPostsStatement
        .all(id, limit)
        .map((row) => ({ postId: postIdOfKey(row.post_key as bigint), lines: decodeLines(str(row, "lines")) }));
    },
    async balance(account) {
      const id = accountId(account);
      const row = id === null ? undefined : sql("SELECT balance FROM balances WHERE account_id = ?").get(id);
      return row ? big(row, "balance") : 0n;
    },
    async reportInstance(id) {
      const row = sql("SELECT * FROM report_instances WHERE id = ?").get(id);
      return row ? instanceOf(row) : null;
    },
    async reportInstances({ postId, buyer, limit }) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (postId !== undefined) {
        where.push("post_id = ?");
        args.push(postId.toString());
      }
      if (buyer !== undefined) {
        where.push("buyer = ?");
        args.push(buyer.toLowerCase());
      }
      const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
      return sql(`SELECT * FROM report_instances ${clause} ORDER BY block_number, id LIMIT ?`)
        .all(...args, limit)
        .map(instanceOf);
    },
    async stats(): Promise<StoreStats> {
      const count = (table: string) => num(sql(`SELECT count(*) AS n FROM ${table}`).get() ?? { n: 0 }, "n");
      const actions = sql("SELECT coalesce(sum(action_count), 0) AS n FROM batches").get() ?? { n: 0 };
      return {
        batches: count("batches"),
        actions: num(actions, "n"),
        transfers: count("transfers"),
        posts: count("posts"),
        reportInstances: count("report_instances"),
      };
    },
    snapshot(work) {
      return work(store);
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
  return store;
}
