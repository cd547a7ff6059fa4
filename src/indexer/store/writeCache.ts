import type { StatementSync } from "node:sqlite";
import type { Address } from "viem";
import type { Deltas } from "../decode/deltas.js";
import { addLines, decodeLines, emptyLines, encodeLines, isEmptyLines, type KindLines } from "../decode/lines.js";
import type { AggregateRow } from "./IndexerStore.js";
import { postKey } from "./sqliteSchema.js";

const CHUNK = 200;
type Value = string | number | bigint;

/**
 * Applies a commit's aggregate deltas. The many (post, account) and account rows go as
 * multi-row upserts that add in SQL (`merge_lines`), one statement per 200 rows and no read
 * first (balances likewise, with `add_wei`); the few post rows are read once, changed in memory
 * and written once.
 * A post's participant count is its number of (post, account) rows, counted as rows come and go.
 */
export function createWriteCache(
  sql: (text: string) => StatementSync,
  accountIds: (accounts: Iterable<Address>) => { ids: Map<Address, number>; created: ReadonlySet<number> },
) {
  const posts = new Map<bigint, { lines: KindLines; participants: number; existed: boolean }>();
  // Accounts created by this commit: their (post, account) rows are new unless `rowsNow` has them.
  const created = new Set<number>();
  const rowsNow = new Map<bigint, Set<number>>();
  const balances = new Map<Address, bigint>();

  const loadPost = (postId: bigint) => {
    let entry = posts.get(postId);
    if (entry === undefined) {
      const row = sql("SELECT lines, participants FROM post_totals WHERE post_key = ?").get(postKey(postId));
      entry = row
        ? {
            lines: decodeLines(String(row.lines)),
            participants: Number(row.participants),
            existed: true,
          }
        : { lines: emptyLines(), participants: 0, existed: false };
      posts.set(postId, entry);
    }
    return entry;
  };

  /** Multi-row upserts of `params` (flat, `keys.length + 1` values a row) that add lines in SQL. */
  const upsertMany = (table: string, keys: readonly string[], params: readonly Value[]) => {
    const columns = [...keys, "lines"];
    const row = `(${columns.map(() => "?").join(",")})`;
    const text = (count: number) =>
      `INSERT INTO ${table} (${columns.join(",")}) VALUES ${Array.from({ length: count }, () => row).join(",")}
        ON CONFLICT (${keys.join(",")}) DO UPDATE SET lines = merge_lines(${table}.lines, excluded.lines)`;
    const step = CHUNK * columns.length;
    for (let i = 0; i < params.length; i += step) {
      const chunk = params.slice(i, i + step);
      sql(text(chunk.length / columns.length)).run(...chunk);
    }
  };

  return {
    merge(deltas: Deltas): void {
      const resolved = accountIds(deltas.account.keys());
      for (const id of resolved.created) created.add(id);
      const idOf = (account: Address): number => {
        const id = resolved.ids.get(account);
        if (id === undefined) throw new Error(`no id for account ${account}`);
        return id;
      };
      const exists = sql("SELECT 1 AS found FROM post_accounts WHERE account_id = ? AND post_key = ?");
      const pa: Value[] = [];
      for (const [postId, byAccount] of deltas.postAccount) {
        const key = postKey(postId);
        let joined = 0;
        let seen = rowsNow.get(key);
        if (seen === undefined) {
          seen = new Set();
          rowsNow.set(key, seen);
        }
        for (const { account, lines } of byAccount.values()) {
          const encoded = encodeLines(lines);
          // A delta that nets to nothing (an action and its rollback) changes no row.
          if (encoded === "[]") continue;
          const id = idOf(account);
          pa.push(id, key, encoded);
          // A row that did not exist makes the account a participant of the post.
          if (seen.has(id)) continue;
          seen.add(id);
          if (created.has(id) || exists.get(id, key) === undefined) joined++;
        }
        if (joined > 0) loadPost(postId).participants += joined;
      }
      upsertMany("post_accounts", ["account_id", "post_key"], pa);
      const acc: Value[] = [];
      for (const [account, lines] of deltas.account) acc.push(idOf(account), encodeLines(lines));
      upsertMany("account_totals", ["account_id"], acc);
      for (const [postId, delta] of deltas.post) addLines(loadPost(postId).lines, delta);
    },

    addBalance(account: Address, change: bigint): void {
      balances.set(account, (balances.get(account) ?? 0n) + change);
    },

    /** The post's totals as merged so far (for a report instance in the middle of a commit). */
    postTotals(postId: bigint): AggregateRow {
      const entry = loadPost(postId);
      return { lines: entry.lines, participants: entry.participants };
    },

    /** Drops the rows of `deltas` that a rollback emptied (only a rollback can): they leave their post. */
    dropEmptied(deltas: Deltas): void {
      const { ids } = accountIds(deltas.account.keys());
      const drop = sql("DELETE FROM post_accounts WHERE account_id = ? AND post_key = ? AND lines = '[]'");
      for (const [postId, byAccount] of deltas.postAccount)
        for (const account of byAccount.keys())
          if (Number(drop.run(ids.get(account) ?? -1, postKey(postId)).changes) > 0) loadPost(postId).participants -= 1;
      const dropAccount = sql("DELETE FROM account_totals WHERE account_id = ? AND lines = '[]'");
      for (const account of deltas.account.keys()) dropAccount.run(ids.get(account) ?? -1);
    },

    flush(): void {
      const upsertPost = sql(
        `INSERT INTO post_totals (post_key, lines, participants) VALUES (?, ?, ?)
          ON CONFLICT (post_key) DO UPDATE SET lines = excluded.lines, participants = excluded.participants`,
      );
      for (const [postId, entry] of posts) {
        if (!isEmptyLines(entry.lines)) upsertPost.run(postKey(postId), encodeLines(entry.lines), entry.participants);
        else if (entry.existed) sql("DELETE FROM post_totals WHERE post_key = ?").run(postKey(postId));
      }
      // Balances add up in SQL too (`add_wei`), so a transfer needs no read.
      const { ids } = accountIds(balances.keys());
      const rows: Value[][] = [];
      for (const [account, change] of balances)
        if (change !== 0n) rows.push([ids.get(account) ?? -1, change.toString()]);
      for (let i = 0; i < rows.length; i += CHUNK) {
        const chunk = rows.slice(i, i + CHUNK);
        sql(
          `INSERT INTO balances (account_id, balance) VALUES ${chunk.map(() => "(?,?)").join(",")}
            ON CONFLICT (account_id) DO UPDATE SET balance = add_wei(balances.balance, excluded.balance)`,
        ).run(...chunk.flat());
      }
    },
  };
}
