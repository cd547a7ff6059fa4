import type { Address, Hex } from "viem";
import type { BurnShortfall, SettledBatch } from "../decode/batchOutcomes.js";
import type { PostRow, ReportInstanceRow, RuleSetRow } from "./IndexerStore.js";

/**
 * A row of either store: node:sqlite's (TEXT decimals, integers, BLOBs as Uint8Array) or pg's
 * (BIGINT and NUMERIC as strings, INTEGER as numbers, BYTEA as Buffers); same column names.
 */
export type Row = Record<string, unknown>;
export const str = (row: Row, key: string) => String(row[key]);
export const num = (row: Row, key: string) => Number(row[key]);
export const big = (row: Row, key: string) => BigInt(row[key] as string | number | bigint);

export const ruleSetOf = (row: Row): RuleSetRow => ({
  version: num(row, "version"),
  amounts: (JSON.parse(str(row, "amounts")) as string[]).map(BigInt),
  blockNumber: big(row, "block_number"),
  txIndex: num(row, "tx_index"),
  logIndex: num(row, "log_index"),
});

export const postOf = (row: Row): PostRow => ({
  postId: big(row, "post_id"),
  siteId: num(row, "site_id"),
  author: str(row, "author") as Address,
  batchId: big(row, "batch_id"),
  blockNumber: big(row, "block_number"),
});

export const shortfallOf = (row: Row): BurnShortfall => ({
  batchId: big(row, "batch_id"),
  actionIndex: num(row, "action_index"),
  account: str(row, "account") as Address,
  kind: num(row, "kind"),
  postId: big(row, "post_id"),
  amount: big(row, "amount"),
});

export const batchOf = (row: Row): SettledBatch => ({
  batchId: big(row, "batch_id"),
  siteId: num(row, "site_id"),
  evidenceRoot: str(row, "evidence_root") as Hex,
  ruleSetVersion: num(row, "rule_set_version"),
  minted: big(row, "minted"),
  burned: big(row, "burned"),
  actions: `0x${Buffer.from(row.actions as Uint8Array).toString("hex")}`,
  blockNumber: big(row, "block_number"),
  blockHash: str(row, "block_hash") as Hex,
  txIndex: num(row, "tx_index"),
  logIndex: num(row, "log_index"),
  txHash: str(row, "tx_hash") as Hex,
});

export const instanceOf = (row: Row): ReportInstanceRow => ({
  id: str(row, "id"),
  postId: big(row, "post_id"),
  buyer: str(row, "buyer") as Address,
  batchId: big(row, "batch_id"),
  actionIndex: num(row, "action_index"),
  blockNumber: big(row, "block_number"),
  blockHash: str(row, "block_hash") as Hex,
  content: str(row, "content"),
  contentHash: str(row, "content_hash") as Hex,
});
