import type { StatementSync } from "node:sqlite";
import type { Address } from "viem";
import type { Deltas } from "../decode/deltas.js";
import { addLines, decodeLines, emptyLines, encodeLines, isEmptyLines, type KindLines } from "../decode/lines.js";
import type { AggregateRow } from "./IndexerStore.js";

interface Entry {
  lines: KindLines;
  existed: boolean;
}

/**
 * Aggregate rows read once, changed in memory and written once per commit: a range touches
 * the same post and accounts many times. A row whose actions all went (a rollback) is deleted,
 * and the post's participant count follows its accounts' rows.
 */
export function createWriteCache(sql: (text: string) => StatementSync) {
  const postAccounts = new Map<string, Entry & { postId: string; account: string }>();
  const posts = new Map<string, Entry & { participants: number }>();
  const accounts = new Map<string, Entry>();
  const balances = new Map<string, { balance: bigint; existed: boolean }>();

  const loadPost = (postId: string) => {
    let entry = posts.get(postId);
    if (entry === undefined) {
      const row = sql("SELECT lines, participants FROM post_totals WHERE post_id = ?").get(postId);
      entry = row
        ? { lines: decodeLines(String(row.lines)), participants: Number(row.participants), existed: true }
        : { lines: emptyLines(), participants: 0, existed: false };
      posts.set(postId, entry);
    }
    return entry;
  };

  return {
    merge(deltas: Deltas): void {
      const selectPostAccount = sql("SELECT lines FROM post_accounts WHERE post_id = ? AND account = ?");
      const selectAccount = sql("SELECT lines FROM account_totals WHERE account = ?");
      for (const [key, delta] of deltas.postAccount) {
        let entry = postAccounts.get(key);
        const postId = delta.postId.toString();
        if (entry === undefined) {
          const row = selectPostAccount.get(postId, delta.account);
          entry = row
            ? { postId, account: delta.account, lines: decodeLines(String(row.lines)), existed: true }
            : { postId, account: delta.account, lines: emptyLines(), existed: false };
          postAccounts.set(key, entry);
        }
        const wasEmpty = isEmptyLines(entry.lines);
        addLines(entry.lines, delta.lines);
        const isEmpty = isEmptyLines(entry.lines);
        if (wasEmpty !== isEmpty) loadPost(postId).participants += isEmpty ? -1 : 1;
      }
      for (const [postId, delta] of deltas.post) addLines(loadPost(postId.toString()).lines, delta);
      for (const [account, delta] of deltas.account) {
        let entry = accounts.get(account);
        if (entry === undefined) {
          const row = selectAccount.get(account);
          entry = row
            ? { lines: decodeLines(String(row.lines)), existed: true }
            : { lines: emptyLines(), existed: false };
          accounts.set(account, entry);
        }
        addLines(entry.lines, delta);
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
      return { lines: entry.lines, participants: entry.participants };
    },

    flush(): void {
      const upsertPostAccount = sql(
        `INSERT INTO post_accounts (post_id, account, lines) VALUES (?, ?, ?)
          ON CONFLICT (post_id, account) DO UPDATE SET lines = excluded.lines`,
      );
      const deletePostAccount = sql("DELETE FROM post_accounts WHERE post_id = ? AND account = ?");
      for (const entry of postAccounts.values()) {
        if (!isEmptyLines(entry.lines)) upsertPostAccount.run(entry.postId, entry.account, encodeLines(entry.lines));
        else if (entry.existed) deletePostAccount.run(entry.postId, entry.account);
      }
      const upsertPost = sql(
        `INSERT INTO post_totals (post_id, lines, participants) VALUES (?, ?, ?)
          ON CONFLICT (post_id) DO UPDATE SET lines = excluded.lines, participants = excluded.participants`,
      );
      for (const [postId, entry] of posts) {
        if (!isEmptyLines(entry.lines)) upsertPost.run(postId, encodeLines(entry.lines), entry.participants);
        else if (entry.existed) sql("DELETE FROM post_totals WHERE post_id = ?").run(postId);
      }
      const upsertAccount = sql(
        `INSERT INTO account_totals (account, lines) VALUES (?, ?)
          ON CONFLICT (account) DO UPDATE SET lines = excluded.lines`,
      );
      for (const [account, entry] of accounts) {
        if (!isEmptyLines(entry.lines)) upsertAccount.run(account, encodeLines(entry.lines));
        else if (entry.existed) sql("DELETE FROM account_totals WHERE account = ?").run(account);
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
