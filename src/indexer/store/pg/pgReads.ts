import type { Address, Hex } from "viem";
import { decodeLines, type KindLines } from "../../decode/lines.js";
import type { AggregateRow, BlockRef, IndexerReads, StoreStats } from "../IndexerStore.js";
import { postIdOfKey, postKey } from "../sqliteSchema.js";
import { batchOf, instanceOf, postOf, ruleSetOf, shortfallOf, type Row } from "../storeRows.js";

/** Runs one statement (on the pool, or on the writer's session inside its transaction). */
export type PgQuery = (text: string, values?: unknown[]) => Promise<Row[]>;

export type PgReads = IndexerReads & { meta(key: string): Promise<string | undefined> };

/**
 * The indexer store's reads on PostgreSQL, each one statement (every hot one an index lookup:
 * primary keys, or the block/post/buyer indexes of pgIndexerSchema.ts). Each statement sees
 * only committed ranges, whole.
 *
 * @example
 * const reads = createPgReads(async (text, values) => (await pool.query(text, values)).rows)
 */
export function createPgReads(q: PgQuery): PgReads {
  const one = async (text: string, values: unknown[]) => (await q(text, values))[0];
  const meta = async (key: string) => {
    const row = await one("SELECT value FROM meta WHERE key = $1", [key]);
    return row === undefined ? undefined : String(row.value);
  };
  const linesOf = (row: Row | undefined) => (row === undefined ? null : decodeLines(String(row.lines)));
  return {
    meta,
    async checkpoint(): Promise<BlockRef | null> {
      const value = await meta("checkpoint");
      if (value === undefined) return null;
      const { number, hash } = JSON.parse(value) as { number: string; hash: Hex };
      return { number: BigInt(number), hash };
    },
    async recentBlocks(limit) {
      return (await q("SELECT number, hash FROM blocks ORDER BY number DESC LIMIT $1", [limit])).map((row) => ({
        number: BigInt(String(row.number)),
        hash: String(row.hash) as Hex,
      }));
    },
    async ruleSet(version) {
      const row = await one("SELECT * FROM rule_sets WHERE version = $1", [version]);
      return row ? ruleSetOf(row) : null;
    },
    async ruleSetAt(blockNumber) {
      const row = await one(
        `SELECT * FROM rule_sets WHERE block_number <= $1
          ORDER BY block_number DESC, tx_index DESC, log_index DESC LIMIT 1`,
        [blockNumber],
      );
      return row ? ruleSetOf(row) : null;
    },
    async batch(batchId) {
      const row = await one("SELECT * FROM batches WHERE batch_id = $1", [batchId]);
      if (row === undefined) return null;
      const shortfalls = await q("SELECT * FROM shortfalls WHERE batch_id = $1 ORDER BY action_index", [batchId]);
      return { ...batchOf(row), shortfalls: shortfalls.map(shortfallOf) };
    },
    async post(postId) {
      const row = await one("SELECT * FROM posts WHERE post_id = $1", [postId]);
      return row ? postOf(row) : null;
    },
    async postTotals(postId): Promise<AggregateRow | null> {
      const row = await one("SELECT lines, participants FROM post_totals WHERE post_key = $1", [postKey(postId)]);
      return row ? { lines: decodeLines(String(row.lines)), participants: Number(row.participants) } : null;
    },
    async postAccountLines(postId, account): Promise<KindLines | null> {
      return linesOf(
        await one(
          `SELECT p.lines FROM post_accounts p JOIN accounts a ON a.id = p.account_id
            WHERE a.address = $1 AND p.post_key = $2`,
          [account.toLowerCase(), postKey(postId)],
        ),
      );
    },
    async accountLines(account) {
      return linesOf(
        await one("SELECT t.lines FROM account_totals t JOIN accounts a ON a.id = t.account_id WHERE a.address = $1", [
          account.toLowerCase(),
        ]),
      );
    },
    async accountPosts(account, limit) {
      const rows = await q(
        `SELECT p.post_key, p.lines FROM post_accounts p JOIN accounts a ON a.id = p.account_id
          WHERE a.address = $1 ORDER BY p.post_key LIMIT $2`,
        [account.toLowerCase(), limit],
      );
      return rows.map((row) => ({ postId: postIdOfKey(BigInt(String(row.post_key))), lines: linesOf(row)! }));
    },
    async balance(account: Address) {
      const row = await one(
        "SELECT b.balance FROM balances b JOIN accounts a ON a.id = b.account_id WHERE a.address = $1",
        [account.toLowerCase()],
      );
      return row ? BigInt(String(row.balance)) : 0n;
    },
    async reportInstance(id) {
      const row = await one("SELECT * FROM report_instances WHERE id = $1", [id]);
      return row ? instanceOf(row) : null;
    },
    async reportInstances({ postId, buyer, limit }) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (postId !== undefined) {
        args.push(postId);
        where.push(`post_id = $${args.length}`);
      }
      if (buyer !== undefined) {
        args.push(buyer.toLowerCase());
        where.push(`buyer = $${args.length}`);
      }
      args.push(limit);
      const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
      // COLLATE "C": ids in byte order whatever the database's locale (as SQLite orders them).
      return (
        await q(
          `SELECT * FROM report_instances ${clause} ORDER BY block_number, id COLLATE "C" LIMIT $${args.length}`,
          args,
        )
      ).map(instanceOf);
    },
    async lastSyncedAt() {
      const value = await meta("synced_at");
      return value === undefined ? null : Number(value);
    },
    async stats(): Promise<StoreStats> {
      const row = await one(
        `SELECT (SELECT count(*) FROM batches) AS batches,
          (SELECT coalesce(sum(action_count), 0) FROM batches) AS actions,
          (SELECT count(*) FROM transfers) AS transfers,
          (SELECT count(*) FROM posts) AS posts,
          (SELECT count(*) FROM report_instances) AS report_instances`,
        [],
      );
      const n = (key: string) => Number(row?.[key] ?? 0);
      return {
        batches: n("batches"),
        actions: n("actions"),
        transfers: n("transfers"),
        posts: n("posts"),
        reportInstances: n("report_instances"),
      };
    },
  };
}
