import { randomBytes } from "node:crypto";
import {
  zeroAddress,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { tweiLedgerAbi } from "../chain/abi.js";
import { DEFAULT_POLICY } from "../rules/policy.js";
import { policyHash } from "../rules/policyHash.js";
import { hashApiKey } from "./api/siteDirectory.js";
import type { RelayerStore } from "./storage/relayerStore.js";

export interface RegisterSiteParameters {
  readonly store: RelayerStore;
  readonly publicClient: PublicClient;
  /** A policy admin of the ledger (registers the site on-chain when it is not yet). */
  readonly adminClient: WalletClient<Transport, Chain | undefined, Account>;
  readonly ledger: Address;
  readonly siteId: number;
  readonly signer: Address;
  /** What the site's batches may mint per epoch. */
  readonly epochCap: bigint;
  /** What they may burn per epoch; `epochCap` by default. */
  readonly burnCap?: bigint;
  readonly webhookUrl?: string;
  /**
   * The policy document the relayer applies to the site (DEFAULT_POLICY by default): committed
   * on-chain by hash when the ledger holds none for the site yet (the relayer refuses to start
   * otherwise); a policy the ledger holds already is left as it is.
   */
  readonly policy?: unknown;
}

export interface RegisterSiteReturnType {
  /** Shown once: only its hash is stored. */
  readonly apiKey: string;
  readonly webhookSecret: string | null;
  readonly txHash: Hex | null;
}

/**
 * Registers a site: on-chain (signer and emission cap, unless already registered; its policy's
 * hash, unless the ledger holds one) and in the relayer's store (a fresh API key, kept only as a hash, and an optional webhook).
 *
 * @example
 * const { apiKey } = await registerSite({ store, publicClient, adminClient, ledger, siteId: 1, signer, epochCap })
 */
export async function registerSite(parameters: RegisterSiteParameters): Promise<RegisterSiteReturnType> {
  const { store, publicClient, adminClient, ledger, siteId, signer, epochCap } = parameters;
  const onChain = await publicClient.readContract({
    address: ledger,
    abi: tweiLedgerAbi,
    functionName: "site",
    args: [siteId],
  });
  let txHash: Hex | null = null;
  if (onChain.signer === zeroAddress) {
    txHash = await adminClient.writeContract({
      address: ledger,
      abi: tweiLedgerAbi,
      functionName: "registerSite",
      args: [siteId, signer, epochCap, parameters.burnCap ?? epochCap],
      chain: adminClient.chain,
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash: txHash });
    if (receipt.status !== "success") throw new Error(`registerSite transaction ${txHash} reverted`);
  } else if (onChain.signer.toLowerCase() !== signer.toLowerCase()) {
    throw new Error(`site ${siteId} is registered on-chain with signer ${onChain.signer}, not ${signer}`);
  }
  const held = await publicClient.readContract({
    address: ledger,
    abi: tweiLedgerAbi,
    functionName: "sitePolicy",
    args: [siteId],
  });
  if (/^0x0+$/.test(held.policyHash) && /^0x0+$/.test(held.scheduledPolicyHash)) {
    const policyTx = await adminClient.writeContract({
      address: ledger,
      abi: tweiLedgerAbi,
      functionName: "schedulePolicy",
      args: [siteId, policyHash(parameters.policy ?? DEFAULT_POLICY)],
      chain: adminClient.chain,
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash: policyTx });
    if (receipt.status !== "success") throw new Error(`schedulePolicy transaction ${policyTx} reverted`);
  }
  const apiKey = `twei_${siteId}_${randomBytes(24).toString("base64url")}`;
  const webhookSecret = parameters.webhookUrl ? randomBytes(32).toString("hex") : null;
  await store.createSite({
    siteId,
    apiKeyHash: hashApiKey(apiKey),
    webhookUrl: parameters.webhookUrl ?? null,
    webhookSecret,
  });
  return { apiKey, webhookSecret, txHash };
}
