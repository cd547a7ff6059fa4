import {
  encodeFunctionData,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { tweiLedgerAbi } from "../../chain/abi.js";
import { decodeRevert } from "../../chain/decodeRevert.js";
import { settlementAccessList } from "../../chain/settlementAccessList.js";
import type { BatchAttempt, BatchRecord, RelayerStore } from "../storage/relayerStore.js";
import { classifyRevert, type RevertClass } from "./classifyRevert.js";

/** EIP-7825's cap on one transaction's gas. */
export const TX_GAS_CAP = 16_777_216n;

export type SendBatchReturnType =
  /** Sent (or replaced on the same nonce); the attempt is recorded. */
  | { readonly kind: "sent"; readonly hash: Hex; readonly nonce: number }
  /** Its dry run reverted: nothing was sent. */
  | { readonly kind: "refused"; readonly why: RevertClass };

export interface SendBatchParameters {
  readonly publicClient: PublicClient;
  readonly walletClient: WalletClient<Transport, Chain | undefined, Account>;
  readonly store: RelayerStore;
  readonly ledger: Address;
  readonly token: Address;
  readonly batch: BatchRecord;
  /** Gas measured when the batch was cut, to skip a second dry run on its first send. */
  readonly probedGas?: bigint;
}

/** The calldata of `settle` for a batch priced under rule-set version `ruleSetVersion`. */
export function settleCalldata(
  batch: Pick<BatchRecord, "batchId" | "siteId" | "evidenceRoot" | "actions">,
  ruleSetVersion: number,
): Hex {
  return encodeFunctionData({
    abi: tweiLedgerAbi,
    functionName: "settle",
    args: [batch.batchId, batch.siteId, ruleSetVersion, batch.evidenceRoot, batch.actions],
  });
}

/** The rule-set version in force on-chain now (what a batch cut before versions were recorded names). */
export async function currentRuleSetVersion(publicClient: PublicClient, ledger: Address): Promise<number> {
  const [current] = await publicClient.readContract({
    address: ledger,
    abi: tweiLedgerAbi,
    functionName: "versionsInForce",
  });
  return current;
}

/** At least 25% over the last attempt's fees (nodes require 10% to replace), and today's. */
async function feesFor(publicClient: PublicClient, last: BatchAttempt | undefined, replacing: boolean) {
  const fees = await publicClient.estimateFeesPerGas();
  let maxFeePerGas = fees.maxFeePerGas;
  let maxPriorityFeePerGas = fees.maxPriorityFeePerGas;
  if (replacing && last) {
    const bump = (value: bigint) => (value * 125n) / 100n + 1n;
    if (maxFeePerGas < bump(last.maxFeePerGas)) maxFeePerGas = bump(last.maxFeePerGas);
    if (maxPriorityFeePerGas < bump(last.maxPriorityFeePerGas)) maxPriorityFeePerGas = bump(last.maxPriorityFeePerGas);
  }
  return { maxFeePerGas, maxPriorityFeePerGas };
}

/**
 * Sends a recorded batch's settlement, or replaces its last attempt on the same nonce with
 * higher fees when that attempt may still be pending (so only one of them can ever be mined).
 * Dry-runs it first (with the access list it is sent with) and sends nothing when that reverts.
 * The attempt is recorded before the transaction leaves, and again with its hash. Call it
 * holding the relayer's send lock.
 *
 * @example
 * const sent = await sendBatch({ publicClient, walletClient, store, ledger, token, batch })
 */
export async function sendBatch(parameters: SendBatchParameters): Promise<SendBatchReturnType> {
  const { publicClient, walletClient, store, ledger, token, batch } = parameters;
  const account = walletClient.account;
  const confirmedNonce = await publicClient.getTransactionCount({ address: account.address, blockTag: "latest" });
  const last = batch.attempts.at(-1);
  const replacing = last !== undefined && last.nonce >= confirmedNonce;
  const data = settleCalldata(batch, batch.ruleSetVersion ?? (await currentRuleSetVersion(publicClient, ledger)));
  const accessList = settlementAccessList({ token, ledger, actions: batch.actions });
  let gas: bigint;
  try {
    gas =
      parameters.probedGas ??
      (await publicClient.estimateGas({ account, to: ledger, data, accessList, blockTag: "latest" }));
  } catch (error) {
    const why = classifyRevert(decodeRevert(error));
    if (why.kind === "transient") throw error;
    return { kind: "refused", why };
  }
  gas = (gas * 12n) / 10n;
  if (gas > TX_GAS_CAP) gas = TX_GAS_CAP;
  const nonce =
    replacing && last
      ? last.nonce
      : await publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
  const fees = await feesFor(publicClient, last, replacing);
  const sentAt = Date.now();
  await store.recordAttempt(batch.batchId, { nonce, ...fees, txHash: null, sentAt });
  const hash = await walletClient.sendTransaction({
    account,
    chain: walletClient.chain,
    to: ledger,
    data,
    accessList,
    gas,
    nonce,
    ...fees,
  });
  await store.recordAttempt(batch.batchId, { nonce, ...fees, txHash: hash, sentAt });
  return { kind: "sent", hash, nonce };
}

/**
 * Fills a nonce that a batch's pending attempt holds, when that batch can no longer be sent (its
 * dry run now reverts): a 0-value transfer to the relayer itself, with higher fees, so that the
 * relayer's later transactions are not stuck behind it. Whichever of the two is mined, the nonce
 * is used, and the batch is judged afterwards by what the chain says.
 *
 * @example
 * const hash = await cancelAttempt({ publicClient, walletClient, attempt: batch.attempts.at(-1) })
 */
export async function cancelAttempt(parameters: {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  attempt: BatchAttempt;
}): Promise<Hex> {
  const { publicClient, walletClient, attempt } = parameters;
  const fees = await feesFor(publicClient, attempt, true);
  return walletClient.sendTransaction({
    account: walletClient.account,
    chain: walletClient.chain,
    to: walletClient.account.address,
    value: 0n,
    gas: 21_000n,
    nonce: attempt.nonce,
    ...fees,
  });
}
