import type pg from "pg";
import { addDeltas } from "../../decode/addDeltas.js";
import { createDeltas } from "../../decode/deltas.js";
import type { RangeCommit } from "../IndexerStore.js";
import { instanceFor } from "../instanceFor.js";
import type { PgReads } from "./pgReads.js";
import { createPgWriteCache, type PgAccountIds } from "./pgWriteCache.js";

/**
 * Writes one synced range on the writer's session, inside its transaction: the log rows as
 * multi-row inserts over `unnest` arrays (batches, shortfalls, transfers and report instances
 * once per range; posts and rule sets per block, since a block's report instances read them),
 * the aggregates through the write cache (once per range, and at each block that bought a
 * report), then the remembered blocks and the checkpoint.
 *
 * @example
 * await pgCommitRange(client, commit, { reads, accountIds })
 */
export async function pgCommitRange(
  client: pg.ClientBase,
  commit: RangeCommit,
  context: { reads: PgReads; accountIds: PgAccountIds },
): Promise<void> {
  const { reads } = context;
  const cache = createPgWriteCache(client, context.accountIds);
  const columns = <K extends string>(names: readonly K[]) => {
    const out = Object.fromEntries(names.map((name) => [name, [] as unknown[]])) as Record<K, unknown[]>;
    return out;
  };
  const batches = columns([
    "id",
    "site",
    "root",
    "rules",
    "minted",
    "burned",
    "actions",
    "count",
    "block",
    "hash",
    "tx",
    "log",
    "txHash",
  ] as const);
  const shortfalls = columns(["batch", "index", "account", "kind", "post", "amount", "block"] as const);
  const transfers = columns(["block", "tx", "log", "from", "to", "value", "txHash"] as const);
  const instances = columns([
    "id",
    "post",
    "buyer",
    "batch",
    "index",
    "block",
    "hash",
    "content",
    "contentHash",
  ] as const);
  const push = <K extends string>(into: Record<K, unknown[]>, row: Record<K, unknown>) => {
    for (const key of Object.keys(row) as K[]) into[key].push(row[key]);
  };

  // Blocks' deltas wait and go to the cache together (one read per table for the whole range),
  // except where a block's report instances need the totals as of that block.
  let pending = createDeltas();
  for (const block of commit.blocks) {
    if (block.ruleSets.length > 0)
      await client.query(
        `INSERT INTO rule_sets (version, amounts, block_number, tx_index, log_index)
          SELECT * FROM unnest($1::integer[], $2::text[], $3::bigint[], $4::integer[], $5::integer[])`,
        [
          block.ruleSets.map((r) => r.version),
          block.ruleSets.map((r) => JSON.stringify(r.amounts.map(String))),
          block.ruleSets.map((r) => r.blockNumber),
          block.ruleSets.map((r) => r.txIndex),
          block.ruleSets.map((r) => r.logIndex),
        ],
      );
    // A post id the policy admin released (TweiLedger.releasePost) is registered again: the newer
    // registration replaces the older (the last of one block's, as one statement updates a row once).
    const posts = [...new Map(block.batches.flatMap((b) => b.posts).map((p) => [p.postId, p])).values()];
    if (posts.length > 0)
      await client.query(
        `INSERT INTO posts (post_id, site_id, author, batch_id, block_number)
          SELECT * FROM unnest($1::numeric[], $2::bigint[], $3::text[], $4::numeric[], $5::bigint[])
          ON CONFLICT (post_id) DO UPDATE SET site_id = excluded.site_id, author = excluded.author,
            batch_id = excluded.batch_id, block_number = excluded.block_number`,
        [
          posts.map((p) => p.postId),
          posts.map((p) => p.siteId),
          posts.map((p) => p.author),
          posts.map((p) => p.batchId),
          posts.map((p) => p.blockNumber),
        ],
      );
    for (const { batch, shortfalls: unpaid, actionCount } of block.batches) {
      push(batches, {
        id: batch.batchId,
        site: batch.siteId,
        root: batch.evidenceRoot,
        rules: batch.ruleSetVersion,
        minted: batch.minted,
        burned: batch.burned,
        actions: batch.actions,
        count: actionCount,
        block: batch.blockNumber,
        hash: batch.blockHash,
        tx: batch.txIndex,
        log: batch.logIndex,
        txHash: batch.txHash,
      });
      for (const s of unpaid)
        push(shortfalls, {
          batch: s.batchId,
          index: s.actionIndex,
          account: s.account,
          kind: s.kind,
          post: s.postId,
          amount: s.amount,
          block: batch.blockNumber,
        });
    }
    for (const t of block.transfers) {
      push(transfers, {
        block: t.blockNumber,
        tx: t.txIndex,
        log: t.logIndex,
        from: t.from,
        to: t.to,
        value: t.value,
        txHash: t.txHash,
      });
      cache.addBalance(t.from, -t.value);
      cache.addBalance(t.to, t.value);
    }
    addDeltas(pending, block.deltas);
    if (block.purchases.length > 0) {
      await cache.merge(pending);
      pending = createDeltas();
    }
    for (const purchase of block.purchases) {
      const instance = instanceFor({
        purchase,
        block: block.block,
        post: await reads.post(purchase.postId),
        totals: await cache.postTotals(purchase.postId),
        reportPrice: (await reads.ruleSetAt(block.block.number))?.amounts[12] ?? 0n,
      });
      push(instances, {
        id: instance.id,
        post: instance.postId,
        buyer: instance.buyer,
        batch: instance.batchId,
        index: instance.actionIndex,
        block: instance.blockNumber,
        hash: instance.blockHash,
        content: instance.content,
        contentHash: instance.contentHash,
      });
    }
  }
  await cache.merge(pending);
  await cache.flush();
  if (batches.id.length > 0)
    await client.query(
      `INSERT INTO batches (batch_id, site_id, evidence_root, rule_set_version, minted, burned, actions,
          action_count, block_number, block_hash, tx_index, log_index, tx_hash)
        SELECT id, site, root, rules, minted, burned, decode(substr(actions, 3), 'hex'), n, block, hash, tx, log, tx_hash
        FROM unnest($1::numeric[], $2::bigint[], $3::text[], $4::integer[], $5::numeric[], $6::numeric[], $7::text[],
          $8::integer[], $9::bigint[], $10::text[], $11::integer[], $12::integer[], $13::text[])
          AS t (id, site, root, rules, minted, burned, actions, n, block, hash, tx, log, tx_hash)`,
      Object.values(batches),
    );
  if (shortfalls.batch.length > 0)
    await client.query(
      `INSERT INTO shortfalls (batch_id, action_index, account, kind, post_id, amount, block_number)
        SELECT * FROM unnest($1::numeric[], $2::integer[], $3::text[], $4::smallint[], $5::numeric[], $6::numeric[],
          $7::bigint[])`,
      Object.values(shortfalls),
    );
  if (transfers.block.length > 0)
    await client.query(
      `INSERT INTO transfers (block_number, tx_index, log_index, from_addr, to_addr, value, tx_hash)
        SELECT * FROM unnest($1::bigint[], $2::integer[], $3::integer[], $4::text[], $5::text[], $6::numeric[],
          $7::text[])`,
      Object.values(transfers),
    );
  if (instances.id.length > 0)
    await client.query(
      `INSERT INTO report_instances (id, post_id, buyer, batch_id, action_index, block_number, block_hash,
          content, content_hash)
        SELECT * FROM unnest($1::text[], $2::numeric[], $3::text[], $4::numeric[], $5::integer[], $6::bigint[],
          $7::text[], $8::text[], $9::text[])`,
      Object.values(instances),
    );
  // One row per number (an upsert may not touch a row twice).
  const seen = new Map(commit.seen.map((b) => [b.number, b.hash]));
  await client.query(
    `INSERT INTO blocks (number, hash) SELECT * FROM unnest($1::bigint[], $2::text[])
      ON CONFLICT (number) DO UPDATE SET hash = excluded.hash`,
    [[...seen.keys()], [...seen.values()]],
  );
  await setMeta(
    client,
    "checkpoint",
    JSON.stringify({ number: commit.checkpoint.number.toString(), hash: commit.checkpoint.hash }),
  );
}

/** Sets one `meta` row (identity, checkpoint). */
export async function setMeta(client: pg.ClientBase, key: string, value: string): Promise<void> {
  await client.query(
    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [key, value],
  );
}
