import type { StatementSync } from "node:sqlite";
import type { Address } from "viem";
import type { Deltas } from "../decode/deltas.js";
import { addLines, decodeLines, emptyLines, encodeLines, isEmptyLines, type KindLines } from "../decode/lines.js";
import type { AggregateRow } from "./IndexerStore.js";

const CHUNK = 200;

/**
 * Applies a commit's aggregate deltas. The many (post, account) and account rows go as
 * multi-row upserts that add in SQL (`merge_lines`), one statement per 200 rows and no read
 * first; the few post rows and balances are read once, changed in memory and written once.
 * A post's participant count is its number of (post, account) rows, recounted when touched.
 */
export function createWriteCache(sql: (text: string) => StatementSync) {
  const posts = new Map<string, { lines: KindLines; participants: number; existed: boolean; recount: boolean }>();
  const balances = new Map<string, { balance: bigint; existed: boolean }>();
  // Rows a rollback may have emptied (every row it touched).
  const touched: [string, string][] = [];
  const touchedAccounts: string[] = [];

  const loadPost = (postId: string) => {
    let entry = posts.get(postId);
    if (entry === undefined) {
      const row = sql("SELECT lines, participants FROM post_totals WHERE post_id = ?").get(postId);
      entry = row
        ? {
            lines: decodeLines(String(row.lines)),
            participants: Number(row.participants),
            existed: true,
            recount: false,
          }
        : { lines: emptyLines(), participants: 0, existed: false, recount: false };
      posts.set(postId, entry);
    }
    return entry;
  };

  const upsertMany = (table: string, keys: readonly string[], rows: readonly (string | number)[][]) => {
    const columns = [...keys, "lines"];
    const row = `(${columns.map(() => "?").join(",")})`;
    const text = (count: number) =>
      `INSERT INTO ${table} (${columns.join(",")}) VALUES ${Array.from({ length: count }, () => row).join(",")}
        ON CONFLICT (${keys.join(",")}) DO UPDATE SET lines = merge_lines(${table}.lines, excluded.lines)`;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      sql(text(chunk.length)).run(...chunk.flat());
    }
  };

  return {
    merge(deltas: Deltas): void {
      const pa: (string | number)[][] = [];
      for (const { postId, account, lines } of deltas.postAccount.values()) {
        const encoded = encodeLines(lines);
        // A delta that nets to nothing (an action and its rollback) changes no row.
        if (encoded === "[]" && isEmptyLines(lines)) continue;
        pa.push([postId.toString(), account, encoded]);
      }
      upsertMany("post_accounts", ["post_id", "account"], pa);
      for (const [postId, account] of pa) touched.push([postId as string, account as string]);
      const acc: (string | number)[][] = [];
      for (const [account, lines] of deltas.account) acc.push([account, encodeLines(lines)]);
      upsertMany("account_totals", ["account"], acc);
      for (const [account] of acc) touchedAccounts.push(account as string);
      for (const [postId, delta] of deltas.post) {
        const entry = loadPost(postId.toString());
        addLines(entry.lines, delta);
        entry.recount = true;
      }
    },

    addBalance(account: Address, change: bigint): void {
      let entry = balances.get(account);
      if (entry === undefined) {
        const row = sql("SELECT balance FROM balances WHERE account = ?").get(account);
        entry = { balance: row ? BigInt(String(row.balance)) : 0n, existed: row !== undefined };
        balances.set(account, entry);
      }
      entry.balance += change;
    },

    /** The post's totals as merged so far (for a report instance in the middle of a commit). */
    postTotals(postId: bigint): AggregateRow {
      const entry = loadPost(postId.toString());
      if (entry.recount) {
        entry.participants = Number(
          sql("SELECT count(*) AS n FROM post_accounts WHERE post_id = ? AND lines <> '[]'").get(postId.toString())
            ?.n ?? 0,
        );
        entry.recount = false;
      }
      return { lines: entry.lines, participants: entry.participants };
    },

    /** Drops rows a rollback emptied; only a rollback can empty one, so only it asks. */
    dropEmptied(): void {
      const drop = sql("DELETE FROM post_accounts WHERE post_id = ? AND account = ? AND lines = '[]'");
      for (const [postId, account] of touched) drop.run(postId, account);
      const dropAccount = sql("DELETE FROM account_totals WHERE account = ? AND lines = '[]'");
      for (const account of touchedAccounts) dropAccount.run(account);
    },

    flush(): void {
      const upsertPost = sql(
        `INSERT INTO post_totals (post_id, lines, participants) VALUES (?, ?, ?)
          ON CONFLICT (post_id) DO UPDATE SET lines = excluded.lines, participants = excluded.participants`,
      );
      for (const [postId, entry] of posts) {
        const { participants } = this.postTotals(BigInt(postId));
        if (!isEmptyLines(entry.lines)) upsertPost.run(postId, encodeLines(entry.lines), participants);
        else if (entry.existed) sql("DELETE FROM post_totals WHERE post_id = ?").run(postId);
      }
      const upsertBalance = sql(
        `INSERT INTO balances (account, balance) VALUES (?, ?)
          ON CONFLICT (account) DO UPDATE SET balance = excluded.balance`,
      );
      for (const [account, entry] of balances) {
        if (entry.balance !== 0n) upsertBalance.run(account, entry.balance.toString());
        else if (entry.existed) sql("DELETE FROM balances WHERE account = ?").run(account);
      }
    },
  };
}
