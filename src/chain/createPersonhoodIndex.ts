import { encodeEventTopics, formatLog, parseEventLogs, type Address, type Client, type Hex } from "viem";
import { getBlock } from "viem/actions";
import type { PersonhoodPolicy } from "../rules/policy.js";
import { createLogRange, type LogRange } from "./createLogRange.js";
import { easAbi } from "./easAbi.js";
import { attestationFault, readAttestation } from "./personhoodAttestation.js";
import { readLogsAdaptively } from "./readLogsAdaptively.js";

export interface CreatePersonhoodIndexParameters {
  readonly policy: PersonhoodPolicy;
  /** The first block attestations may be in (EAS's deployment; 0 by default). */
  readonly fromBlock?: bigint;
  /**
   * Blocks read again below the last one read at each catch-up (64 by default): an attestation
   * that a reorganization moved into a block already read is found again. One reorganized out
   * stays listed but reads back as unknown, so it is skipped.
   */
  readonly reorgDepth?: bigint;
  /** The eth_getLogs span, adapted to what the RPC accepts; a new one by default. */
  readonly range?: LogRange;
}

/** Where a user's personhood attestations are: kept up to date with the chain's `Attested` logs. */
export interface PersonhoodIndex {
  /**
   * The newest attestation of `recipient` under the policy (its schema, an attester it names)
   * that is valid at the end of `blockNumber` (neither revoked nor expired at its time), read
   * with eth_call at that block; undefined when there is none. Reads the logs of the blocks not
   * read yet first.
   */
  find(recipient: Address, blockNumber: bigint): Promise<Hex | undefined>;
  /** Reads the `Attested` logs up to `toBlock` (the relayer warms the index at start with it). */
  sync(toBlock: bigint): Promise<void>;
  /** The last block whose logs the index holds (fromBlock - 1 before the first read). */
  readonly syncedTo: bigint;
}

/** Block timestamps kept (the blocks envelopes are accepted under, a few at a time). */
const MAX_TIMES = 64;

/**
 * An index of personhood attestations by recipient, fed incrementally: EAS keeps no index by
 * recipient, so the `Attested` logs under the policy's schema by its attesters are read once,
 * from `fromBlock`, then only the blocks mined since (plus `reorgDepth` below them) at each
 * lookup. A lookup costs one log query over the new blocks, one block read and one eth_call per
 * attestation of the user, whatever the chain's length (before, each lookup read the logs from
 * block 0). Catch-ups run one at a time; a failed one is retried by the next lookup. Memory: one
 * entry per attestation under the schema by the policy's attesters.
 *
 * @example
 * const index = createPersonhoodIndex(publicClient, { policy: policy.personhood })
 * const uid = await index.find(user, acceptedAtBlock)
 */
export function createPersonhoodIndex(client: Client, parameters: CreatePersonhoodIndexParameters): PersonhoodIndex {
  const { policy } = parameters;
  const fromBlock = parameters.fromBlock ?? 0n;
  const reorgDepth = parameters.reorgDepth ?? 64n;
  const range = parameters.range ?? createLogRange();
  const topics = encodeEventTopics({
    abi: easAbi,
    eventName: "Attested",
    args: { attester: [...policy.attesters], schemaUID: policy.schema },
  });
  /** Lowercase recipient → its attestations, oldest first. */
  const byRecipient = new Map<string, { uid: Hex; block: bigint }[]>();
  const known = new Set<string>();
  let syncedTo = fromBlock - 1n;
  let tail: Promise<void> = Promise.resolve();
  const times = new Map<bigint, Promise<bigint>>();

  async function catchUp(toBlock: bigint): Promise<void> {
    if (toBlock <= syncedTo) return;
    const start = syncedTo + 1n - reorgDepth;
    for await (const { logs } of readLogsAdaptively(client, {
      address: policy.eas,
      topics,
      fromBlock: start > fromBlock ? start : fromBlock,
      toBlock,
      range,
    }))
      for (const log of parseEventLogs({ abi: easAbi, eventName: "Attested", logs: logs.map((l) => formatLog(l)) })) {
        if (known.has(log.args.uid)) continue;
        known.add(log.args.uid);
        const key = log.args.recipient.toLowerCase();
        const list = byRecipient.get(key) ?? [];
        list.push({ uid: log.args.uid, block: log.blockNumber });
        byRecipient.set(key, list);
      }
    syncedTo = toBlock;
  }

  function sync(toBlock: bigint): Promise<void> {
    const run = tail.then(() => catchUp(toBlock));
    tail = run.catch(() => {});
    return run;
  }

  function timestamp(blockNumber: bigint): Promise<bigint> {
    const hit = times.get(blockNumber);
    if (hit) return hit;
    if (times.size >= MAX_TIMES) times.clear();
    const read = getBlock(client, { blockNumber }).then((block) => block.timestamp);
    times.set(blockNumber, read);
    read.catch(() => times.delete(blockNumber));
    return read;
  }

  return {
    async find(recipient, blockNumber) {
      await sync(blockNumber);
      const candidates = (byRecipient.get(recipient.toLowerCase()) ?? []).filter((a) => a.block <= blockNumber);
      if (candidates.length === 0) return undefined;
      const at = await timestamp(blockNumber);
      for (const { uid } of candidates.reverse()) {
        const attestation = await readAttestation(client, policy, uid, { blockNumber });
        if (attestationFault(attestation, { policy, recipient, at }) === undefined) return uid;
      }
      return undefined;
    },
    sync,
    get syncedTo() {
      return syncedTo;
    },
  };
}
