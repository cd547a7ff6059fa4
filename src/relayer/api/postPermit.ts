import type { RequestHandler } from "express";
import {
  BaseError,
  getAddress,
  parseSignature,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { z } from "zod";
import { tweiAbi } from "../../chain/abi.js";
import { HttpProblem, parseInput } from "../../http/problem.js";
import { scrubUrls } from "../../observability/logger.js";
import type { SendLock } from "../chain/sendLock.js";
import { ledgerPermitInEffect } from "../../chain/ledgerPermit.js";
import { permitSignatureFault } from "./permitSignatureFault.js";
import type { RelayerContext } from "./relayerContext.js";

export const postPermitBody = z.strictObject({
  owner: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "not a 20-byte hex address"),
  /** The allowance granted to the ledger, in wei (decimal). */
  value: z.string().regex(/^\d{1,78}$/, "an amount in wei, in decimal"),
  /** Unix seconds after which the permit is void (decimal). */
  deadline: z.string().regex(/^\d{1,20}$/, "unix seconds, in decimal"),
  /** The owner's EIP-2612 signature (spender = the ledger). */
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte hex signature"),
});

export interface PermitSubmission {
  readonly owner: Address;
  readonly value: bigint;
  readonly deadline: bigint;
  readonly signature: Hex;
}

export interface PermitSubmitter {
  /** Submits the permit and waits for its receipt. Throws {@link PermitRejectedError} when the token would revert. */
  submit(permit: PermitSubmission): Promise<{ txHash: Hex; blockNumber: bigint }>;
}

export class PermitRejectedError extends Error {
  override name = "PermitRejectedError";
}

/**
 * Submits users' EIP-2612 permits (spender: the ledger) from the relayer's account.
 *
 * @example
 * const permits = createPermitSubmitter({ publicClient, walletClient, token, ledger, lock })
 */
export function createPermitSubmitter(options: {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  token: Address;
  ledger: Address;
  lock: SendLock;
}): PermitSubmitter {
  const { publicClient, walletClient, token, ledger, lock } = options;
  return {
    async submit({ owner, value, deadline, signature }) {
      const { v, r, s, yParity } = parseSignature(signature);
      const args = [owner, ledger, value, deadline, Number(v ?? BigInt(yParity + 27)), r, s] as const;
      let request;
      try {
        ({ request } = await publicClient.simulateContract({
          account: walletClient.account,
          address: token,
          abi: tweiAbi,
          functionName: "permit",
          args,
        }));
      } catch (error) {
        const reason = error instanceof BaseError ? error.shortMessage : "the token rejects the permit";
        if (
          error instanceof BaseError &&
          error.walk((e) => (e as { name?: string }).name === "ContractFunctionRevertedError")
        )
          throw new PermitRejectedError(scrubUrls(reason));
        throw error;
      }
      const hash = await lock.run(() => walletClient.writeContract({ ...request, chain: walletClient.chain }));
      // Mined is enough: the allowance shows at once, and a reorg that drops it only undoes it.
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new PermitRejectedError(`the permit transaction ${hash} reverted`);
      return { txHash: hash, blockNumber: receipt.blockNumber };
    },
  };
}

/**
 * `POST /v1/permits`: submits a user's signed permit for the ledger (gasless onboarding). A
 * permit the token refuses whose effect is already in place (submitted by someone else: its
 * nonce used, the allowance at least its value) is answered 200 `in_effect`, not an error. A
 * signature that can never be valid ({@link permitSignatureFault}) is 422 `invalid_permit` before
 * anything is asked of the chain; only a chain that cannot be reached is 503 `chain_unavailable`.
 * Authenticated before the body is read (`requireSite`).
 */
export function postPermit(ctx: RelayerContext): RequestHandler {
  return async (req, res) => {
    const body = parseInput(postPermitBody, req.body, "body");
    const permit = {
      owner: getAddress(body.owner.toLowerCase()),
      value: BigInt(body.value),
      deadline: BigInt(body.deadline),
      signature: body.signature as Hex,
    };
    if (permit.value >= 2n ** 256n)
      throw new HttpProblem(400, "invalid_request", "The request is not valid", {
        fields: [{ path: "value", message: "above uint256" }],
      });
    const fault = permitSignatureFault(permit.signature);
    if (fault !== undefined)
      throw new HttpProblem(422, "invalid_permit", "The token rejects the permit", {
        detail: `the signature can never be valid: ${fault}`,
      });
    try {
      const { txHash, blockNumber } = await ctx.permits.submit(permit);
      res.status(200).json({
        status: "submitted",
        owner: permit.owner,
        spender: ctx.ledger,
        value: body.value,
        txHash,
        blockNumber: blockNumber.toString(),
      });
    } catch (error) {
      if (error instanceof PermitRejectedError) {
        const effect = await ledgerPermitInEffect(
          ctx.publicClient,
          { token: ctx.token, ledger: ctx.ledger, chainId: ctx.chainId },
          permit,
        ).catch(() => undefined);
        if (effect?.inEffect) {
          res.status(200).json({
            status: "in_effect",
            owner: permit.owner,
            spender: ctx.ledger,
            value: body.value,
            allowance: effect.allowance.toString(),
            nonce: String(effect.nonce),
            txHash: null,
            blockNumber: null,
          });
          return;
        }
        throw new HttpProblem(422, "invalid_permit", "The token rejects the permit", { detail: error.message });
      }
      ctx.log.warn(
        { error: scrubUrls(error instanceof Error ? error.message : String(error)) },
        "permit not submitted",
      );
      throw new HttpProblem(503, "chain_unavailable", "The permit could not be submitted now", { retryAfter: 5 });
    }
  };
}
