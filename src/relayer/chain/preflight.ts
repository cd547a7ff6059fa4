import { type Address, type Hex, type PublicClient } from "viem";
import { tweiLedgerAbi } from "../../chain/abi.js";
import { ABI_HASH } from "../../chain/deployTwei.js";
import { describeChainError } from "../../chain/decodeRevert.js";
import type { Finality } from "../settlement/finality.js";

/** One reason the relayer cannot serve, with what to do about it. */
export interface PreflightProblem {
  /** Stable: `chain_id_mismatch`, `abi_mismatch`, `no_ledger`, `token_mismatch`, `not_relayer`, `policy_not_on_chain`, `no_gas`, `no_finalized_block`. */
  readonly code: string;
  readonly message: string;
}

export interface PreflightParameters {
  readonly publicClient: PublicClient;
  /** What the deployment file says. */
  readonly chainId: number;
  readonly ledger: Address;
  readonly token: Address;
  /** The deployment's ABI hash (absent: not checked). */
  readonly abiHash?: Hex;
  /** The relayer's account. */
  readonly account: Address;
  readonly finality: Finality;
  /** Whether this relayer settles (an API-only instance needs no role, gas or finality). */
  readonly settles: boolean;
  /**
   * The relayer's policy hash (src/rules/policyHash.ts) and its registered sites: the ledger must
   * hold that hash in force for each (absent: not checked).
   */
  readonly policy?: { readonly hash: Hex; readonly siteIds: readonly number[] };
}

/** The relayer cannot start: every problem found, each with what to do. */
export class PreflightError extends Error {
  override name = "PreflightError";
  constructor(readonly problems: readonly PreflightProblem[]) {
    super(problems.map((problem) => problem.message).join("; "));
  }
}

/**
 * The relayer's start-up checks against the chain: the chain id and the ABI hash of the
 * deployment file, a ledger at its address with this token and, for a relayer that settles, the
 * RELAYER_ROLE for its account, its policy's hash in force for each of its sites, some gas money, and a `finalized` block where finality waits for
 * one. Returns every
 * problem (empty: ready). Throws when the chain cannot be read at all.
 *
 * @example
 * const problems = await preflight({ publicClient, chainId, ledger, token, abiHash, account, finality })
 */
export async function preflight(parameters: PreflightParameters): Promise<PreflightProblem[]> {
  const { publicClient, ledger, token, account } = parameters;
  const problems: PreflightProblem[] = [];
  const chainId = await publicClient.getChainId();
  if (chainId !== parameters.chainId)
    return [
      {
        code: "chain_id_mismatch",
        message: `the RPC endpoint serves chain ${chainId}, the deployment file is for chain ${parameters.chainId}: point TWEI_RPC_URL at the deployment's network, or pick the right TWEI_NETWORK`,
      },
    ];
  if (parameters.abiHash !== undefined && parameters.abiHash.toLowerCase() !== ABI_HASH.toLowerCase())
    problems.push({
      code: "abi_mismatch",
      message: `the deployment's ABI hash ${parameters.abiHash} is not this relayer's ${ABI_HASH}: the contracts were deployed from another version; run the relayer of that version, or deploy this one`,
    });
  const code = await publicClient.getCode({ address: ledger });
  if (!code || code === "0x")
    return [
      ...problems,
      {
        code: "no_ledger",
        message: `there is no contract at the ledger address ${ledger} on chain ${chainId}: the deployment file does not match this network (redeploy, or fix TWEI_NETWORK)`,
      },
    ];
  try {
    const [ledgerToken, role] = await Promise.all([
      publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "token" }),
      publicClient.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "RELAYER_ROLE" }),
    ]);
    if (ledgerToken.toLowerCase() !== token.toLowerCase())
      problems.push({
        code: "token_mismatch",
        message: `the ledger's token is ${ledgerToken}, the deployment file says ${token}: fix the deployment file`,
      });
    const isRelayer = await publicClient.readContract({
      address: ledger,
      abi: tweiLedgerAbi,
      functionName: "hasRole",
      args: [role, account],
    });
    if (!isRelayer && parameters.settles)
      problems.push({
        code: "not_relayer",
        message: `the relayer account ${account} lacks RELAYER_ROLE on the ledger ${ledger}: an admin must grant it (grantRole(RELAYER_ROLE, ${account})), or set RELAYER_PRIVATE_KEY to the key that holds it`,
      });
    for (const siteId of parameters.policy?.siteIds ?? []) {
      const held = await publicClient.readContract({
        address: ledger,
        abi: tweiLedgerAbi,
        functionName: "sitePolicy",
        args: [siteId],
      });
      const mine = parameters.policy!.hash;
      if (held.policyHash.toLowerCase() !== mine.toLowerCase())
        problems.push({
          code: "policy_not_on_chain",
          message: `site ${siteId}: this relayer's policy hashes to ${mine}, the ledger holds ${held.policyHash} in force${held.scheduledAt === 0n ? "" : ` (${held.scheduledPolicyHash} announced for ${new Date(Number(held.scheduledAt) * 1_000).toISOString()})`}: a policy admin commits it with npm run set-policy (a change is in force after the ledger's change delay), or run the relayer with the policy the ledger holds`,
        });
    }
  } catch (error) {
    problems.push({
      code: "no_ledger",
      message: `the contract at ${ledger} does not answer as a Twei ledger (${describeChainError(error)}): check the deployment file`,
    });
  }
  if (!parameters.settles) return problems;
  const balance = await publicClient.getBalance({ address: account });
  if (balance === 0n)
    problems.push({
      code: "no_gas",
      message: `the relayer account ${account} holds no ETH to pay gas with: fund it before starting the relayer`,
    });
  if (parameters.finality.mode === "finalized")
    try {
      await publicClient.getBlock({ blockTag: "finalized" });
    } catch {
      problems.push({
        code: "no_finalized_block",
        message: `the node has no "finalized" block to wait for: set RELAYER_CONFIRMATIONS to a depth instead`,
      });
    }
  return problems;
}
