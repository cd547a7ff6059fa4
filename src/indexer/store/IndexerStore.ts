import type { Address, Hex } from "viem";
import type { BurnShortfall, Checkpoint, SettledBatch } from "../decode/batchOutcomes.js";
import type { Deltas } from "../decode/deltas.js";
import type { KindLines } from "../decode/lines.js";

/** A block the indexer has seen, by number and hash (for noticing reorgs). */
export interface BlockRef {
  readonly number: bigint;
  readonly hash: Hex;
}

/** What a database is for: refusing to mix two deployments in one file. */
export interface StoreIdentity {
  readonly chainId: number;
  readonly ledger: Address;
  readonly token: Address;
  readonly deploymentBlock: bigint;
}

export interface RuleSetRow extends Checkpoint {
  readonly version: number;
  readonly amounts: readonly bigint[];
}

export interface TransferRow extends Checkpoint {
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  readonly txHash: Hex;
}

export interface PostRow {
  readonly postId: bigint;
  readonly siteId: number;
  readonly author: Address;
  readonly batchId: bigint;
  readonly blockNumber: bigint;
}

/** A settled PnL Reports burn: one purchased report instance. */
export interface Purchase {
  readonly batchId: bigint;
  readonly actionIndex: number;
  readonly buyer: Address;
  readonly postId: bigint;
}

export interface ReportInstanceRow {
  /** `<batchId>-<actionIndex>` of the PnL Reports burn that bought it. */
  readonly id: string;
  readonly postId: bigint;
  readonly buyer: Address;
  readonly batchId: bigint;
  readonly actionIndex: number;
  readonly blockNumber: bigint;
  readonly blockHash: Hex;
  /** The canonical JSON of the post's report as of the block (see reports/canonicalReport.ts). */
  readonly content: string;
  /** keccak256 of `content`. */
  readonly contentHash: Hex;
}

/** Everything one block brings, in chain order. */
export interface BlockCommit {
  readonly block: BlockRef;
  readonly ruleSets: readonly RuleSetRow[];
  readonly batches: readonly {
    batch: SettledBatch;
    shortfalls: readonly BurnShortfall[];
    posts: readonly PostRow[];
    actionCount: number;
  }[];
  readonly transfers: readonly TransferRow[];
  readonly deltas: Deltas;
  readonly purchases: readonly Purchase[];
}

/** One synced block range, committed atomically with the checkpoint it reaches. */
export interface RangeCommit {
  readonly blocks: readonly BlockCommit[];
  /** The last block of the range: the new checkpoint. */
  readonly checkpoint: BlockRef;
  /** Hashes to remember for reorg detection (the range's end and every block with logs). */
  readonly seen: readonly BlockRef[];
}

export interface AggregateRow {
  readonly lines: KindLines;
  readonly participants: number;
}

export interface StoreStats {
  readonly batches: number;
  readonly actions: number;
  readonly transfers: number;
  readonly posts: number;
  readonly reportInstances: number;
}

/**
 * The indexer's state. SQLite (node:sqlite) implements it; every method is async so a
 * PostgreSQL implementation can too. Writes happen only through {@link commitRange} and
 * {@link rollback}, each atomic, so a crash leaves the store at a checkpoint.
 */
export interface IndexerStore {
  /** Binds the store to a deployment on first use; throws StoreMismatchError on another one. */
  init(identity: StoreIdentity): Promise<void>;
  /** The last block indexed, or null before the first range. */
  checkpoint(): Promise<BlockRef | null>;
  /** Remembered block hashes, newest first. */
  recentBlocks(limit: number): Promise<BlockRef[]>;
  commitRange(commit: RangeCommit): Promise<void>;
  /**
   * Undoes everything after block `to` (the common ancestor after a reorg) and makes it the
   * checkpoint; `to` null undoes everything.
   */
  rollback(to: BlockRef | null): Promise<void>;
  /** Forgets block hashes below `below` (deeper than any reorg that is still possible). */
  pruneBlocks(below: bigint): Promise<void>;
  /** The writer's heartbeat: it reached the chain's head at `at` (ms since the epoch), new blocks or not. */
  markSynced(at: number): Promise<void>;
  /** When the writer last reached the head (ms since the epoch; null: never), so readers can tell a silent writer. */
  lastSyncedAt(): Promise<number | null>;

  ruleSet(version: number): Promise<RuleSetRow | null>;
  /** The rule set in force at the end of `blockNumber`. */
  ruleSetAt(blockNumber: bigint): Promise<RuleSetRow | null>;
  batch(batchId: bigint): Promise<(SettledBatch & { shortfalls: BurnShortfall[] }) | null>;
  post(postId: bigint): Promise<PostRow | null>;
  postTotals(postId: bigint): Promise<AggregateRow | null>;
  postAccountLines(postId: bigint, account: Address): Promise<KindLines | null>;
  accountLines(account: Address): Promise<KindLines | null>;
  accountPosts(account: Address, limit: number): Promise<{ postId: bigint; lines: KindLines }[]>;
  /** The token balance from indexed Transfer logs (the zero address holds minus the supply). */
  balance(account: Address): Promise<bigint>;
  reportInstance(id: string): Promise<ReportInstanceRow | null>;
  reportInstances(filter: { postId?: bigint; buyer?: Address; limit: number }): Promise<ReportInstanceRow[]>;
  stats(): Promise<StoreStats>;
  /**
   * Runs `work`'s reads against one state of the store (a report's several reads then agree on
   * one checkpoint, even while the writer commits). PostgreSQL: one REPEATABLE READ READ ONLY
   * transaction. SQLite: the store itself (its reads and commits are synchronous, so a report's
   * reads, issued together, never interleave with a commit).
   */
  snapshot<T>(work: (reads: IndexerReads) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The reads of an {@link IndexerStore}, as {@link IndexerStore.snapshot} hands them out. */
export type IndexerReads = Omit<
  IndexerStore,
  "init" | "commitRange" | "rollback" | "pruneBlocks" | "markSynced" | "snapshot" | "close"
>;
