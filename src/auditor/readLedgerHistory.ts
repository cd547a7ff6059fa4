import { formatLog, parseEventLogs, type Address, type Hex, type Log, type PublicClient, type RpcLog } from "viem";
import { tweiAbi, tweiLedgerAbi } from "../chain/abi.js";
import type { LogRange } from "../chain/createLogRange.js";
import { readLogsAdaptively } from "../chain/readLogsAdaptively.js";
import type { SignerChange } from "../evidence/batchEvidence.js";
import { policyHashAt, type PolicyChange } from "./policyHashAt.js";

/** A settled batch as the chain recorded it, with the registry and rule set of its moment. */
export interface SettledBatchLog {
  readonly batchId: bigint;
  readonly siteId: number;
  readonly evidenceRoot: Hex;
  readonly ruleSetVersion: number;
  readonly minted: bigint;
  readonly burned: bigint;
  readonly actions: Hex;
  readonly blockNumber: bigint;
  readonly txHash: Hex;
  /** The site's signer as the registry held it when the batch settled (replayed from Site* events). */
  readonly siteSigner: Address | undefined;
  readonly siteActive: boolean;
  /** The rule set version in force when the batch settled (replayed from RuleSetScheduled and its effectiveAt). */
  readonly versionInForce: number;
  /** The version it replaced, while the ledger still accepted it (its grace period); undefined otherwise. */
  readonly previousInGrace: number | undefined;
  /**
   * The site's policy hash in force when the batch settled (replayed from PolicyScheduled and its
   * effectiveAt, as TweiLedger.sitePolicy answers it); undefined when the site had none committed.
   */
  readonly policyHash: Hex | undefined;
  /**
   * The site's policy schedule as of the batch's block (oldest first): the policy in force when
   * each of its envelopes was accepted is found in it (src/auditor/policyHashAt.ts).
   */
  readonly policyHistory: readonly PolicyChange[];
}

export interface ShortfallLog {
  readonly batchId: bigint;
  readonly account: Address;
  readonly actionIndex: number;
  readonly kind: number;
  readonly postId: bigint;
  readonly amount: bigint;
}

export interface TransferLog {
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
}

export interface LedgerHistory {
  readonly fromBlock: bigint;
  readonly toBlock: bigint;
  readonly batches: readonly SettledBatchLog[];
  /** BurnShortfall events by batch id. */
  readonly shortfalls: ReadonlyMap<bigint, readonly ShortfallLog[]>;
  /** Every rule set by version. */
  readonly ruleSets: ReadonlyMap<number, readonly bigint[]>;
  /** Each site's signers over time (SiteRegistered, SiteSignerUpdated), oldest first. */
  readonly signers: ReadonlyMap<number, readonly SignerChange[]>;
  /** PostRegistered events (less those PostReleased since): post id → site, author and batch. */
  readonly posts: ReadonlyMap<bigint, { siteId: number; author: Address; batchId: bigint }>;
  readonly transfers: readonly TransferLog[];
}

/**
 * The registry and rule sets as replayed from the logs so far: carried from one read to the
 * next, so a follower reads only new blocks (src/auditor/createAuditor.ts).
 */
export interface LedgerRegistry {
  readonly sites: Map<number, { signer: Address; active: boolean }>;
  readonly signers: Map<number, SignerChange[]>;
  readonly ruleSets: Map<number, readonly bigint[]>;
  readonly posts: Map<bigint, { siteId: number; author: Address; batchId: bigint }>;
  /**
   * The ledger's rule schedule, replayed as TweiLedger does: the version in force, the one it
   * replaced (still accepted until `replacedAt + grace`) and one announced for `nextAt`.
   */
  rules: { current: number; previous: number; replacedAt: bigint; next: number; nextAt: bigint };
  /** The ledger's ruleSetGrace in seconds, read once when first needed. */
  grace: bigint | undefined;
  /**
   * Each site's policy schedule, replayed as TweiLedger does, oldest first: each announcement is
   * in force from the first block stamped at or after its effectiveAt, and one replaced before
   * then is dropped (it never was). Kept whole: a batch's envelopes may be accepted under an
   * earlier policy than its own block's.
   */
  readonly policies: Map<number, PolicyChange[]>;
}

export const createLedgerRegistry = (): LedgerRegistry => ({
  sites: new Map(),
  signers: new Map(),
  ruleSets: new Map(),
  posts: new Map(),
  rules: { current: 0, previous: 0, replacedAt: 0n, next: 0, nextAt: 0n },
  grace: undefined,
  policies: new Map(),
});

/** The ledger's and the token's logs, in block ranges the RPC accepts (src/chain/readLogsAdaptively.ts). */
async function logsOf(
  client: PublicClient,
  parameters: { ledger: Address; token: Address; fromBlock: bigint; toBlock: bigint; range?: LogRange },
) {
  const ledgerLogs: Log[] = [];
  const tokenLogs: Log[] = [];
  for await (const { logs } of readLogsAdaptively(client, {
    address: [parameters.ledger, parameters.token],
    fromBlock: parameters.fromBlock,
    toBlock: parameters.toBlock,
    ...(parameters.range ? { range: parameters.range } : {}),
  })) {
    const split = splitLogs(logs, parameters.ledger);
    ledgerLogs.push(...split.ledgerLogs);
    tokenLogs.push(...split.tokenLogs);
  }
  return { ledgerLogs, tokenLogs };
}

/** Raw logs of the ledger and the token, formatted and told apart by address. */
function splitLogs(logs: readonly RpcLog[], ledgerAddress: Address) {
  const ledgerLogs: Log[] = [];
  const tokenLogs: Log[] = [];
  const ledger = ledgerAddress.toLowerCase();
  for (const log of logs) (log.address.toLowerCase() === ledger ? ledgerLogs : tokenLogs).push(formatLog(log));
  return { ledgerLogs, tokenLogs };
}

const position = (log: { blockNumber: bigint | null; logIndex: number | null }) =>
  (log.blockNumber ?? 0n) * 1_000_000n + BigInt(log.logIndex ?? 0);

/**
 * Reads everything the auditor needs from the chain between two blocks: the ledger's
 * BatchSettled, BurnShortfall, PostRegistered, RuleSetScheduled, PolicyScheduled and Site* events
 * (replayed in order, so each batch carries the site signer, rule set and site policy hash of its
 * moment, and its site's policy schedule so far) and the token's Transfer events.
 *
 * @example
 * const history = await readLedgerHistory(publicClient, { ledger, token, fromBlock: 1n, toBlock: head })
 */
export async function readLedgerHistory(
  client: PublicClient,
  parameters: {
    ledger: Address;
    token: Address;
    fromBlock: bigint;
    toBlock: bigint;
    /** The eth_getLogs span, adapted to what the RPC accepts; keep one across reads (a new one by default). */
    range?: LogRange;
    /** The registry replayed up to `fromBlock` (updated in place); a new one when absent. */
    registry?: LedgerRegistry;
    /**
     * The ledger's and token's raw logs of `fromBlock`…`toBlock`, already read (one chunk of
     * readLogsAdaptively: the auditor replays the history chunk by chunk); read here when absent.
     */
    logs?: readonly RpcLog[];
  },
): Promise<LedgerHistory> {
  const { ledger, fromBlock, toBlock } = parameters;
  const { ledgerLogs, tokenLogs } = parameters.logs
    ? splitLogs(parameters.logs, ledger)
    : await logsOf(client, parameters);
  const events = parseEventLogs({ abi: tweiLedgerAbi, logs: ledgerLogs }).sort((a, b) =>
    position(a) < position(b) ? -1 : 1,
  );
  const registry = parameters.registry ?? createLedgerRegistry();
  const { sites, signers, ruleSets, posts, policies } = registry;
  const signerFrom = (siteId: number, signer: Address, block: bigint | null) => {
    const list = signers.get(siteId) ?? [];
    list.push({ block: block ?? 0n, signer });
    signers.set(siteId, list);
  };
  const shortfalls = new Map<bigint, ShortfallLog[]>();
  const batches: SettledBatchLog[] = [];
  const rules = registry.rules;
  const timestamps = new Map<bigint, bigint>();
  const timestampOf = async (blockNumber: bigint) => {
    let at = timestamps.get(blockNumber);
    if (at === undefined) timestamps.set(blockNumber, (at = (await client.getBlock({ blockNumber })).timestamp));
    return at;
  };
  // TweiLedger adopts an announced rule set lazily, at the first call at or after its effectiveAt.
  const adoptDue = (at: bigint) => {
    if (rules.next === 0 || at < rules.nextAt) return;
    Object.assign(rules, {
      previous: rules.current,
      replacedAt: rules.nextAt,
      current: rules.next,
      next: 0,
      nextAt: 0n,
    });
  };
  /**
   * Brings the rule schedule to a settlement's block: adopts an announced version whose time has
   * come, ends a grace that is over. Block timestamps are read only while either can happen.
   */
  const advanceRulesTo = async (blockNumber: bigint): Promise<void> => {
    if (rules.next === 0 && rules.previous === 0) return;
    const at = await timestampOf(blockNumber);
    adoptDue(at);
    if (rules.previous !== 0) {
      registry.grace ??= BigInt(
        await client.readContract({ address: ledger, abi: tweiLedgerAbi, functionName: "ruleSetGrace", blockNumber }),
      );
      if (at >= rules.replacedAt + registry.grace) rules.previous = 0; // the grace only ends: replacedAt moves on adoption
    }
  };
  for (const event of events) {
    switch (event.eventName) {
      case "PolicyScheduled": {
        const { siteId, policyHash, effectiveAt } = event.args;
        const at = await timestampOf(event.blockNumber);
        const schedule = policies.get(siteId) ?? [];
        // TweiLedger keeps one announcement: a new one replaces it before its effectiveAt.
        while ((schedule.at(-1)?.effectiveAt ?? 0n) > at) schedule.pop();
        // The site's first policy (and any with no change delay) is in force in the announcing block.
        const inForceFrom = effectiveAt <= at ? event.blockNumber : undefined;
        schedule.push({ policyHash, effectiveAt, block: event.blockNumber, inForceFrom });
        policies.set(siteId, schedule);
        break;
      }
      case "RuleSetScheduled":
        ruleSets.set(event.args.version, [...event.args.amounts]);
        {
          const at = await timestampOf(event.blockNumber);
          adoptDue(at);
          // With no change delay the new version is in force in the announcing block.
          if (event.args.effectiveAt <= at)
            Object.assign(rules, {
              previous: rules.current,
              replacedAt: event.args.effectiveAt,
              current: event.args.version,
              next: 0,
              nextAt: 0n,
            });
          else Object.assign(rules, { next: event.args.version, nextAt: event.args.effectiveAt });
        }
        break;
      case "SiteRegistered":
        sites.set(event.args.siteId, { signer: event.args.signer, active: true });
        signerFrom(event.args.siteId, event.args.signer, event.blockNumber);
        break;
      case "SiteSignerUpdated": {
        const site = sites.get(event.args.siteId);
        sites.set(event.args.siteId, { signer: event.args.newSigner, active: site?.active ?? true });
        signerFrom(event.args.siteId, event.args.newSigner, event.blockNumber);
        break;
      }
      case "SiteActivationUpdated": {
        const site = sites.get(event.args.siteId);
        if (site) sites.set(event.args.siteId, { ...site, active: event.args.active });
        break;
      }
      case "PostRegistered":
        posts.set(event.args.postId, {
          siteId: event.args.siteId,
          author: event.args.author,
          batchId: event.args.batchId,
        });
        break;
      case "PostReleased":
        // The policy admin's remedy for a squatted post id: it may be registered again.
        posts.delete(event.args.postId);
        break;
      case "BurnShortfall": {
        const list = shortfalls.get(event.args.batchId) ?? [];
        list.push({
          batchId: event.args.batchId,
          account: event.args.account,
          actionIndex: Number(event.args.actionIndex),
          kind: event.args.kind,
          postId: event.args.postId,
          amount: event.args.amount,
        });
        shortfalls.set(event.args.batchId, list);
        break;
      }
      case "BatchSettled": {
        const site = sites.get(event.args.siteId);
        await advanceRulesTo(event.blockNumber);
        batches.push({
          batchId: event.args.batchId,
          siteId: event.args.siteId,
          evidenceRoot: event.args.evidenceRoot,
          ruleSetVersion: event.args.ruleSetVersion,
          minted: event.args.minted,
          burned: event.args.burned,
          actions: event.args.actions,
          blockNumber: event.blockNumber,
          txHash: event.transactionHash,
          siteSigner: site?.signer,
          siteActive: site?.active ?? false,
          versionInForce: rules.current,
          previousInGrace: rules.previous === 0 ? undefined : rules.previous,
          policyHash: await policyHashAt(policies.get(event.args.siteId) ?? [], event.blockNumber, timestampOf),
          policyHistory: [...(policies.get(event.args.siteId) ?? [])],
        });
        break;
      }
      default:
        break;
    }
  }
  const transfers = parseEventLogs({ abi: tweiAbi, logs: tokenLogs, eventName: "Transfer" })
    .sort((a, b) => (position(a) < position(b) ? -1 : 1))
    .map((log) => ({ from: log.args.from, to: log.args.to, value: log.args.value }));
  return { fromBlock, toBlock, batches, shortfalls, ruleSets, signers, posts, transfers };
}
