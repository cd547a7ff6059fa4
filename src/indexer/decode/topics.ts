import { toEventSelector, type AbiEvent, type Hex } from "viem";
import { tweiAbi, tweiLedgerAbi } from "../../chain/abi.js";

const selector = (abi: readonly unknown[], name: string): Hex => {
  const event = abi.find((item) => (item as AbiEvent).type === "event" && (item as AbiEvent).name === name);
  if (event === undefined) throw new Error(`no event ${name} in the ABI`);
  return toEventSelector(event as AbiEvent);
};

/** The topic0 of every event the indexer reads. */
export const TOPICS = {
  BatchSettled: selector(tweiLedgerAbi, "BatchSettled"),
  BurnShortfall: selector(tweiLedgerAbi, "BurnShortfall"),
  RuleSetScheduled: selector(tweiLedgerAbi, "RuleSetScheduled"),
  Transfer: selector(tweiAbi, "Transfer"),
} as const;

export const INDEXED_TOPICS: readonly Hex[] = Object.values(TOPICS);
