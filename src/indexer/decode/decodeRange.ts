import { decodeAbiParameters, type Address, type Hex, type RpcLog } from "viem";
import { ActionKind } from "../../core/kinds.js";
import type { RuleAmounts } from "../../core/ruleSet.js";
import { InvariantError } from "../errors.js";
import type { BlockCommit, BlockRef, PostRow, Purchase, RuleSetRow, TransferRow } from "../store/IndexerStore.js";
import { batchOutcomes, type BurnShortfall, type SettledBatch } from "./batchOutcomes.js";
import { addOutcomes, createDeltas } from "./deltas.js";
import { TOPICS } from "./topics.js";

export interface DecodeRangeParameters {
  readonly logs: readonly RpcLog[];
  readonly ledger: Address;
  readonly token: Address;
  /** The rule set of a version from before the range (the store's). */
  readonly ruleSet: (version: number) => Promise<RuleAmounts | null>;
}

const word = (data: Hex, index: number): bigint => BigInt(`0x${data.slice(2 + index * 64, 2 + (index + 1) * 64)}`);
const topicAddress = (topic: Hex | undefined): Address => `0x${(topic ?? "").slice(26)}`.toLowerCase() as Address;
const batchSettledData = [
  { type: "bytes32" },
  { type: "uint32" },
  { type: "uint256" },
  { type: "uint256" },
  { type: "bytes" },
] as const;

/**
 * Turns a range's raw logs into what each block commits: rule sets, settled batches with their
 * shortfalls and posts, transfers, the aggregate deltas and the report instances bought.
 *
 * @example
 * const blocks = await decodeRange({ logs, ledger, token, ruleSet: (v) => store.ruleSet(v) })
 */
export async function decodeRange(parameters: DecodeRangeParameters): Promise<BlockCommit[]> {
  const ledger = parameters.ledger.toLowerCase();
  const token = parameters.token.toLowerCase();
  const logs = parameters.logs
    .filter((log) => !log.removed)
    .map((log) => ({
      log,
      blockNumber: BigInt(log.blockNumber ?? "0x0"),
      logIndex: Number(log.logIndex ?? "0x0"),
      txIndex: Number(log.transactionIndex ?? "0x0"),
    }))
    .sort((a, b) =>
      a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
    );
  const rules = new Map<number, RuleAmounts>();
  const rulesFor = async (version: number): Promise<RuleAmounts> => {
    const amounts = rules.get(version) ?? (await parameters.ruleSet(version));
    if (amounts === null) throw new InvariantError(`a batch names rule set ${version}, which no log set`);
    rules.set(version, amounts);
    return amounts;
  };
  const blocks: BlockCommit[] = [];
  let current: {
    block: BlockRef;
    ruleSets: RuleSetRow[];
    batches: { batch: SettledBatch; shortfalls: BurnShortfall[]; posts: PostRow[]; actionCount: number }[];
    transfers: TransferRow[];
    deltas: ReturnType<typeof createDeltas>;
    purchases: Purchase[];
  } | null = null;
  let pending: { txHash: Hex | null; shortfalls: BurnShortfall[] } = { txHash: null, shortfalls: [] };

  for (const { log, blockNumber, logIndex, txIndex } of logs) {
    const blockHash = log.blockHash as Hex;
    const txHash = log.transactionHash as Hex;
    if (current === null || current.block.number !== blockNumber) {
      current = {
        block: { number: blockNumber, hash: blockHash },
        ruleSets: [],
        batches: [],
        transfers: [],
        deltas: createDeltas(),
        purchases: [],
      };
      blocks.push(current);
    } else if (current.block.hash !== blockHash)
      throw new InvariantError(`block ${blockNumber} came with two hashes in one range`);
    const address = log.address.toLowerCase();
    const [topic0, topic1, topic2] = log.topics as Hex[];
    const checkpoint = { blockNumber, txIndex, logIndex };
    if (address === token && topic0 === TOPICS.Transfer) {
      current.transfers.push({
        ...checkpoint,
        from: topicAddress(topic1),
        to: topicAddress(topic2),
        value: BigInt(log.data),
        txHash,
      });
      continue;
    }
    if (address !== ledger) continue;
    if (topic0 === TOPICS.RuleSetScheduled) {
      // RuleSetScheduled's data: effectiveAt, then the 13 amounts, then the 13 unit bounds.
      const amounts = Array.from({ length: 13 }, (_, i) => word(log.data, i + 1));
      const version = Number(BigInt(topic1 ?? "0x0"));
      rules.set(version, amounts);
      current.ruleSets.push({ ...checkpoint, version, amounts });
    } else if (topic0 === TOPICS.BurnShortfall) {
      if (pending.txHash !== txHash) pending = { txHash, shortfalls: [] };
      pending.shortfalls.push({
        batchId: BigInt(topic1 ?? "0x0"),
        account: topicAddress(topic2),
        actionIndex: Number(word(log.data, 0)),
        kind: Number(word(log.data, 1)),
        postId: word(log.data, 2),
        amount: word(log.data, 3),
      });
    } else if (topic0 === TOPICS.BatchSettled) {
      const [evidenceRoot, ruleSetVersion, minted, burned, actions] = decodeAbiParameters(batchSettledData, log.data);
      const batch: SettledBatch = {
        ...checkpoint,
        batchId: BigInt(topic1 ?? "0x0"),
        siteId: Number(BigInt(topic2 ?? "0x0")),
        evidenceRoot,
        ruleSetVersion,
        minted,
        burned,
        actions,
        blockHash,
        txHash,
      };
      // The ledger emits a batch's shortfalls before its BatchSettled, in the same transaction.
      const shortfalls = pending.txHash === txHash ? pending.shortfalls.filter((s) => s.batchId === batch.batchId) : [];
      const outcomes = batchOutcomes(batch, await rulesFor(ruleSetVersion), shortfalls);
      addOutcomes(current.deltas, outcomes.actions, 1);
      const posts = outcomes.posts.map((p) => ({
        postId: p.postId,
        siteId: batch.siteId,
        author: p.author,
        batchId: batch.batchId,
        blockNumber,
      }));
      current.batches.push({ batch, shortfalls, posts, actionCount: outcomes.actions.length });
      for (const action of outcomes.actions)
        if (action.kind === ActionKind.PnLReports && action.paid)
          current.purchases.push({
            batchId: batch.batchId,
            actionIndex: action.actionIndex,
            buyer: action.account,
            postId: action.postId,
          });
    }
  }
  return blocks;
}
