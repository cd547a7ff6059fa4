import type pg from "pg";
import type { Address } from "viem";
import { batchOutcomes, type BurnShortfall } from "../../decode/batchOutcomes.js";
import { addOutcomes, createDeltas } from "../../decode/deltas.js";
import { InvariantError } from "../../errors.js";
import type { BlockRef } from "../IndexerStore.js";
import { setMeta } from "./pgCommitRange.js";
import { batchOf, ruleSetOf, shortfallOf, type Row } from "../storeRows.js";
import { createPgWriteCache } from "./pgWriteCache.js";

/** Tables whose rows come from logs: a rollback deletes them by block number (each has that index). */
const LOG_TABLES = ["batches", "shortfalls", "posts", "transfers", "rule_sets", "report_instances"] as const;

/**
 * Undoes everything after block `to` on the writer's session, inside its transaction: takes
 * back what the undone batches and transfers added to the aggregates (with the rule sets those
 * batches used), then deletes their rows by block number and moves the checkpoint.
 *
 * @example
 * await pgRollback(client, commonAncestor, { accountIds })
 */
export async function pgRollback(
  client: pg.ClientBase,
  to: BlockRef | null,
  context: { accountIds: (accounts: Iterable<Address>) => Promise<Map<Address, number>> },
): Promise<void> {
  const after = to === null ? -1n : to.number;
  const rows = async (text: string) => (await client.query(text, [after])).rows as Row[];
  const cache = createPgWriteCache(client, context.accountIds);
  const rules = new Map(
    (await client.query("SELECT * FROM rule_sets")).rows.map((row: Row) => {
      const ruleSet = ruleSetOf(row);
      return [ruleSet.version, ruleSet.amounts] as const;
    }),
  );
  const unpaid = new Map<string, BurnShortfall[]>();
  for (const row of await rows("SELECT * FROM shortfalls WHERE block_number > $1 ORDER BY action_index")) {
    const shortfall = shortfallOf(row);
    const key = shortfall.batchId.toString();
    unpaid.set(key, [...(unpaid.get(key) ?? []), shortfall]);
  }
  // Take back what the undone batches added, newest first.
  const deltas = createDeltas();
  for (const batch of (
    await rows("SELECT * FROM batches WHERE block_number > $1 ORDER BY block_number DESC, log_index DESC")
  ).map(batchOf)) {
    const amounts = rules.get(batch.ruleSetVersion);
    if (amounts === undefined)
      throw new InvariantError(`rule set ${batch.ruleSetVersion} of batch ${batch.batchId} is missing`);
    addOutcomes(deltas, batchOutcomes(batch, amounts, unpaid.get(batch.batchId.toString()) ?? []).actions, -1);
  }
  await cache.merge(deltas);
  for (const row of await rows("SELECT from_addr, to_addr, value FROM transfers WHERE block_number > $1")) {
    const value = BigInt(String(row.value));
    cache.addBalance(String(row.from_addr) as Address, value);
    cache.addBalance(String(row.to_addr) as Address, -value);
  }
  await cache.flush();
  for (const table of LOG_TABLES) await client.query(`DELETE FROM ${table} WHERE block_number > $1`, [after]);
  await client.query("DELETE FROM blocks WHERE number > $1", [after]);
  if (to === null) await client.query("DELETE FROM meta WHERE key = 'checkpoint'");
  else await setMeta(client, "checkpoint", JSON.stringify({ number: to.number.toString(), hash: to.hash }));
}
