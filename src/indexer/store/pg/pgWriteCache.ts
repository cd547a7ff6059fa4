import type pg from "pg";
import type { Address } from "viem";
import type { Deltas } from "../../decode/deltas.js";
import { addLines, decodeLines, emptyLines, encodeLines, isEmptyLines, type KindLines } from "../../decode/lines.js";
import type { AggregateRow } from "../IndexerStore.js";
import { postKey } from "../sqliteSchema.js";

type Row = Record<string, unknown>;

interface Entry {
  lines: KindLines;
  /** The row was in the table when read (rows exist only while they hold an action). */
  existed: boolean;
}

/**
 * A commit's (or rollback's) aggregate changes on PostgreSQL: the rows its deltas touch are
 * read once (one query per table, by key arrays), added up in memory with bigint arithmetic,
 * and written once by {@link flush} as multi-row upserts and deletes over `unnest` arrays. Only
 * the one writer (who holds the writer lock) runs this, inside its transaction, so reading
 * then writing is safe.
 * A post's participant count is its number of (post, account) rows: +1 when a row starts
 * holding actions, −1 when a rollback empties one.
 */
export function createPgWriteCache(
  client: pg.ClientBase,
  accountIds: (accounts: Iterable<Address>) => Promise<Map<Address, number>>,
) {
  const postAccounts = new Map<string, Entry & { accountId: number; postKey: bigint; postId: bigint }>();
  const accounts = new Map<number, Entry>();
  const posts = new Map<bigint, Entry & { participants: number }>();
  const balances = new Map<Address, bigint>();
  const rows = async (text: string, values: unknown[]) => (await client.query(text, values)).rows as Row[];

  const loadPosts = async (postIds: Iterable<bigint>) => {
    const missing = [...postIds].filter((postId) => !posts.has(postId));
    if (missing.length === 0) return;
    const found = new Map<string, Row>();
    for (const row of await rows(
      "SELECT post_key, lines, participants FROM post_totals WHERE post_key = ANY($1::bigint[])",
      [missing.map(postKey)],
    ))
      found.set(String(row.post_key), row);
    for (const postId of missing) {
      const row = found.get(postKey(postId).toString());
      posts.set(
        postId,
        row
          ? { lines: decodeLines(String(row.lines)), participants: Number(row.participants), existed: true }
          : { lines: emptyLines(), participants: 0, existed: false },
      );
    }
  };

  const idOf = (ids: Map<Address, number>, account: Address): number => {
    const id = ids.get(account);
    if (id === undefined) throw new Error(`no id for account ${account}`);
    return id;
  };

  return {
    async merge(deltas: Deltas): Promise<void> {
      const ids = await accountIds(deltas.account.keys());
      // Read the rows this delta touches that the cache does not hold yet.
      const paKeys: { accountId: number; postKey: bigint; postId: bigint }[] = [];
      for (const [postId, byAccount] of deltas.postAccount)
        for (const account of byAccount.keys()) {
          const accountId = idOf(ids, account);
          if (!postAccounts.has(`${accountId}:${postId}`)) paKeys.push({ accountId, postKey: postKey(postId), postId });
        }
      if (paKeys.length > 0) {
        const found = new Map<string, string>();
        for (const row of await rows(
          `SELECT p.account_id, p.post_key, p.lines FROM post_accounts p
            JOIN unnest($1::bigint[], $2::bigint[]) AS k (account_id, post_key)
            ON p.account_id = k.account_id AND p.post_key = k.post_key`,
          [paKeys.map((k) => k.accountId), paKeys.map((k) => k.postKey)],
        ))
          found.set(`${String(row.account_id)}:${String(row.post_key)}`, String(row.lines));
        for (const key of paKeys) {
          const lines = found.get(`${key.accountId}:${key.postKey}`);
          postAccounts.set(`${key.accountId}:${key.postId}`, {
            ...key,
            lines: lines === undefined ? emptyLines() : decodeLines(lines),
            existed: lines !== undefined,
          });
        }
      }
      const accountKeys = [...deltas.account.keys()].map((a) => idOf(ids, a)).filter((id) => !accounts.has(id));
      if (accountKeys.length > 0) {
        const found = new Map<number, string>();
        for (const row of await rows(
          "SELECT account_id, lines FROM account_totals WHERE account_id = ANY($1::bigint[])",
          [accountKeys],
        ))
          found.set(Number(row.account_id), String(row.lines));
        for (const id of accountKeys) {
          const lines = found.get(id);
          accounts.set(id, {
            lines: lines === undefined ? emptyLines() : decodeLines(lines),
            existed: lines !== undefined,
          });
        }
      }
      await loadPosts([...deltas.post.keys(), ...deltas.postAccount.keys()]);

      for (const [postId, byAccount] of deltas.postAccount) {
        const post = posts.get(postId)!;
        for (const { account, lines } of byAccount.values()) {
          const entry = postAccounts.get(`${idOf(ids, account)}:${postId}`)!;
          const held = !isEmptyLines(entry.lines);
          addLines(entry.lines, lines);
          const holds = !isEmptyLines(entry.lines);
          if (holds !== held) post.participants += holds ? 1 : -1;
        }
      }
      for (const [account, lines] of deltas.account) addLines(accounts.get(idOf(ids, account))!.lines, lines);
      for (const [postId, lines] of deltas.post) addLines(posts.get(postId)!.lines, lines);
    },

    addBalance(account: Address, change: bigint): void {
      balances.set(account, (balances.get(account) ?? 0n) + change);
    },

    /** The post's totals as merged so far (for a report instance in the middle of a commit). */
    async postTotals(postId: bigint): Promise<AggregateRow> {
      await loadPosts([postId]);
      const entry = posts.get(postId)!;
      return { lines: entry.lines, participants: entry.participants };
    },

    /** Writes every row the merges changed: upserts for rows that hold actions, deletes for emptied ones. */
    async flush(): Promise<void> {
      const pa = { ids: [] as number[], keys: [] as bigint[], lines: [] as string[] };
      const paGone = { ids: [] as number[], keys: [] as bigint[] };
      for (const entry of postAccounts.values()) {
        if (!isEmptyLines(entry.lines)) {
          pa.ids.push(entry.accountId);
          pa.keys.push(entry.postKey);
          pa.lines.push(encodeLines(entry.lines));
        } else if (entry.existed) {
          paGone.ids.push(entry.accountId);
          paGone.keys.push(entry.postKey);
        }
      }
      if (pa.ids.length > 0)
        await client.query(
          `INSERT INTO post_accounts (account_id, post_key, lines)
            SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])
            ON CONFLICT (account_id, post_key) DO UPDATE SET lines = excluded.lines`,
          [pa.ids, pa.keys, pa.lines],
        );
      if (paGone.ids.length > 0)
        await client.query(
          `DELETE FROM post_accounts p USING unnest($1::bigint[], $2::bigint[]) AS k (account_id, post_key)
            WHERE p.account_id = k.account_id AND p.post_key = k.post_key`,
          [paGone.ids, paGone.keys],
        );

      const acc = { ids: [] as number[], lines: [] as string[] };
      const accGone: number[] = [];
      for (const [id, entry] of accounts) {
        if (!isEmptyLines(entry.lines)) {
          acc.ids.push(id);
          acc.lines.push(encodeLines(entry.lines));
        } else if (entry.existed) accGone.push(id);
      }
      if (acc.ids.length > 0)
        await client.query(
          `INSERT INTO account_totals (account_id, lines) SELECT * FROM unnest($1::bigint[], $2::text[])
            ON CONFLICT (account_id) DO UPDATE SET lines = excluded.lines`,
          [acc.ids, acc.lines],
        );
      if (accGone.length > 0)
        await client.query("DELETE FROM account_totals WHERE account_id = ANY($1::bigint[])", [accGone]);

      const post = { keys: [] as bigint[], lines: [] as string[], participants: [] as number[] };
      const postGone: bigint[] = [];
      for (const [postId, entry] of posts) {
        if (!isEmptyLines(entry.lines)) {
          post.keys.push(postKey(postId));
          post.lines.push(encodeLines(entry.lines));
          post.participants.push(entry.participants);
        } else if (entry.existed) postGone.push(postKey(postId));
      }
      if (post.keys.length > 0)
        await client.query(
          `INSERT INTO post_totals (post_key, lines, participants)
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[])
            ON CONFLICT (post_key) DO UPDATE SET lines = excluded.lines, participants = excluded.participants`,
          [post.keys, post.lines, post.participants],
        );
      if (postGone.length > 0)
        await client.query("DELETE FROM post_totals WHERE post_key = ANY($1::bigint[])", [postGone]);

      // Balances add up in SQL (NUMERIC is exact), so a transfer needs no read.
      const changed = [...balances].filter(([, change]) => change !== 0n);
      if (changed.length > 0) {
        const ids = await accountIds(changed.map(([account]) => account));
        await client.query(
          `INSERT INTO balances (account_id, balance) SELECT * FROM unnest($1::bigint[], $2::numeric[])
            ON CONFLICT (account_id) DO UPDATE SET balance = balances.balance + excluded.balance`,
          [changed.map(([account]) => idOf(ids, account)), changed.map(([, change]) => change.toString())],
        );
      }
    },
  };
}
