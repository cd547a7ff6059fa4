import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  encodeAbiParameters,
  encodeEventTopics,
  encodeFunctionData,
  isAddressEqual,
  keccak256,
  parseUnits,
  toHex,
  type Address,
  type Hex,
  type LocalAccount,
} from "viem";
import { directoryEvidenceSource } from "../../../src/auditor/evidenceSource.js";
import { runAudit, type AuditResult } from "../../../src/auditor/runAudit.js";
import { tweiAbi, tweiLedgerAbi } from "../../../src/chain/abi.js";
import { FIRST_BURN_KIND } from "../../../src/core/kinds.js";
import { encodePackedActions, type AccountAction, type PostRegistration } from "../../../src/core/packedActions.js";
import { amountFor, DEFAULT_RULE_AMOUNTS } from "../../../src/core/ruleSet.js";
import type { BatchEvidence } from "../../../src/evidence/batchEvidence.js";
import { hashEvents, hashSiteEvent } from "../../../src/evidence/encodeSiteEvent.js";
import { envelopeDomain, hashEnvelope, signEnvelope } from "../../../src/evidence/envelope.js";
import { buildEvidenceTree, EVIDENCE_VERSION } from "../../../src/evidence/evidenceTree.js";
import { siteEventSchema, type SiteEvent, type SiteEventInput } from "../../../src/evidence/siteEvent.js";
import { evaluateEvent } from "../../../src/rules/evaluateEvent.js";
import { createMemoryRulesState } from "../../../src/rules/memoryRulesState.js";
import { DEFAULT_POLICY, type PersonhoodPolicy, type RulePolicy } from "../../../src/rules/policy.js";
import { canonicalJson, policyHash } from "../../../src/rules/policyHash.js";
import { policyFileName } from "../../../src/auditor/policySource.js";
import type { RulesState } from "../../../src/rules/rulesState.js";
import { groupWithOrigins } from "../../../src/relayer/settlement/buildBatch.js";
import { waitForSuccess } from "../../../src/chain/waitForSuccess.js";
import { deployEas } from "../../../src/chain/deployEas.js";
import type { DeployerClient } from "../../../src/chain/deployTwei.js";
import { hardhatAccount } from "../../../src/devnet/startHardhatNode.js";
import { CHAIN_ID, startTestChain } from "../../relayer/helpers/testChain.js";
import { tempDir } from "../../relayer/helpers/testRelayer.js";

/**
 * Runtime code of a contract the tests install (hardhat_setCode) at the ledger's or the token's
 * address for one call, to make the chain say what the real contracts never would: a forged
 * log at that address, or a call made as that address (so the token mints for an impostor
 * "ledger"). Storage is untouched and the real code is put back at once. Compiled with the
 * `solc` package (0.8.30, optimizer 200 runs, evmVersion prague) from:
 *
 * ```solidity
 * contract Impostor {
 *     function emitLog(bytes32[] calldata topics, bytes calldata data) external {
 *         bytes memory copy = data;
 *         uint256 n = topics.length;
 *         assembly {
 *             let p := add(copy, 0x20)
 *             let len := mload(copy)
 *             switch n
 *             case 0 { log0(p, len) }
 *             case 1 { log1(p, len, calldataload(topics.offset)) }
 *             case 2 { log2(p, len, calldataload(topics.offset), calldataload(add(topics.offset, 0x20))) }
 *             case 3 { log3(p, len, calldataload(topics.offset), calldataload(add(topics.offset, 0x20)), calldataload(add(topics.offset, 0x40))) }
 *             default { log4(p, len, calldataload(topics.offset), calldataload(add(topics.offset, 0x20)), calldataload(add(topics.offset, 0x40)), calldataload(add(topics.offset, 0x60))) }
 *         }
 *     }
 *     function forward(address target, bytes calldata data) external {
 *         (bool ok, bytes memory reason) = target.call(data);
 *         if (!ok) assembly { revert(add(reason, 0x20), mload(reason)) }
 *     }
 * }
 * ```
 */
const IMPOSTOR_CODE: Hex =
  "0x608060405234801561000f575f5ffd5b5060043610610034575f3560e01c80636fadcf7214610038578063edebc13b1461004d575b5f5ffd5b61004b6100463660046101cf565b610060565b005b61004b61005b36600461022b565b6100d3565b5f5f846001600160a01b0316848460405161007c9291906102c6565b5f604051808303815f865af19150503d805f81146100b5576040519150601f19603f3d011682016040523d82523d5f602084013e6100ba565b606091505b5091509150816100cc57805160208201fd5b5050505050565b5f82828080601f0160208091040260200160405190810160405280939291908181526020018383808284375f920191909152505082519293508692602085019250905082801561014e57600181146101565760028114610160576003811461016f57606089013560408a013560208b01358b358587a461017f565b8183a061017f565b88358284a161017f565b602089013589358385a261017f565b604089013560208a01358a358486a35b505050505050505050565b5f5f83601f84011261019a575f5ffd5b50813567ffffffffffffffff8111156101b1575f5ffd5b6020830191508360208285010111156101c8575f5ffd5b9250929050565b5f5f5f604084860312156101e1575f5ffd5b83356001600160a01b03811681146101f7575f5ffd5b9250602084013567ffffffffffffffff811115610212575f5ffd5b61021e8682870161018a565b9497909650939450505050565b5f5f5f5f6040858703121561023e575f5ffd5b843567ffffffffffffffff811115610254575f5ffd5b8501601f81018713610264575f5ffd5b803567ffffffffffffffff81111561027a575f5ffd5b8760208260051b840101111561028e575f5ffd5b60209182019550935085013567ffffffffffffffff8111156102ae575f5ffd5b6102ba8782880161018a565b95989497509550505050565b818382375f910190815291905056fea2646970667358221220e970bac0766f45a4239c5b3d2d6ad71cae584876bfd2a227be79a8dd30b9bcdd64736f6c634300081e0033";

const impostorAbi = [
  {
    type: "function",
    name: "emitLog",
    stateMutability: "nonpayable",
    inputs: [
      { name: "topics", type: "bytes32[]" },
      { name: "data", type: "bytes" },
    ],
    outputs: [],
  },
  {
    type: "function",
    name: "forward",
    stateMutability: "nonpayable",
    inputs: [
      { name: "target", type: "address" },
      { name: "data", type: "bytes" },
    ],
    outputs: [],
  },
] as const;

export const SITE_ID = 1;
const UNLIMITED = 2n ** 200n;
/** OpenZeppelin ERC20 5.x storage (see contracts/Twei.sol): balances in slot 0, the supply in slot 2. */
const BALANCES_SLOT = 0n;
const TOTAL_SUPPLY_SLOT = 2n;

/** What a crafted batch settles: by default what the rules give for its events, packed as the relayer packs. */
export interface CraftOptions {
  /** The actions to settle instead of the rules' (in event order; grouped as the relayer groups them). */
  readonly actions?: readonly AccountAction[];
  readonly posts?: readonly PostRegistration[];
  /** The packed actions to settle, as they are (no grouping). */
  readonly packed?: Hex;
  /** Settle through an impostor at the ledger's address, whose BatchSettled says this instead of the truth. */
  readonly forge?: {
    readonly siteId?: number;
    readonly ruleSetVersion?: number;
    readonly minted?: (truth: bigint) => bigint;
    readonly burned?: (truth: bigint) => bigint;
  };
  /** The key that signs the envelope (the site's signer by default). */
  readonly signer?: LocalAccount;
  /** Whose earnings the relayer saw when it accepted the events: every settled batch's (the default), or none (its record lagged). */
  readonly relayerEarned?: "settled" | "none";
  /**
   * The attestation the relayer found valid for each user at acceptance (policy `personhood`):
   * the honest outcome is evaluated with it and the evidence names it.
   */
  readonly attested?: ReadonlyMap<Address, Hex>;
  /** The envelope's `acceptedAtBlock` (absent by default). */
  readonly acceptedAtBlock?: bigint;
  /** Changes the evidence file before it is written. */
  readonly editEvidence?: (evidence: BatchEvidence) => void;
}

export interface CraftedBatch {
  readonly batchId: bigint;
  readonly evidence: BatchEvidence;
  readonly packed: Hex;
}

/**
 * A real Hardhat node with Twei deployed by the production code and one registered site, on
 * which a test settles batches the way the relayer does (events evaluated by the real rules,
 * signed by the site's real key in an EIP-712 envelope, packed by the relayer's grouping,
 * settled by the relayer's role on the real ledger) and writes each batch's evidence file into
 * `evidenceDir`, as the relayer publishes it. A test can then craft what an honest relayer or
 * ledger never produces, and `snapshot()` lets it go back to the clean chain afterwards.
 */
export async function startCraftedChain(
  options: { changeDelay?: number; ruleSetGrace?: number; policy?: RulePolicy; personhood?: boolean } = {},
) {
  const chain = await startTestChain(options);
  // With `personhood`: EAS deployed, and the policy requires an attestation by a site attester (user 9).
  const attester = chain.walletOf(chain.user(9)) as unknown as DeployerClient;
  const eas = options.personhood
    ? await deployEas({ publicClient: chain.publicClient, walletClient: chain.admin as unknown as DeployerClient })
    : undefined;
  const personhood: PersonhoodPolicy | undefined = eas
    ? { eas: eas.eas, schema: eas.personhoodSchema, attesters: [attester.account.address] }
    : undefined;
  // The policy an audit falls back on for a site with none committed; `usePolicy` changes the one
  // the fixture's "relayer" applies to new batches.
  const fallback: RulePolicy = { ...(options.policy ?? DEFAULT_POLICY), ...(personhood ? { personhood } : {}) };
  let policy = fallback;
  const evidenceDir = await tempDir("crafted-evidence");
  const signer = chain.newSigner();
  const relayer = chain.walletOf(hardhatAccount(1));
  const domain = { chainId: CHAIN_ID, ledger: chain.deployed.ledger };
  await waitForSuccess(
    chain.publicClient,
    await chain.admin.writeContract({
      address: chain.deployed.ledger,
      abi: tweiLedgerAbi,
      functionName: "registerSite",
      args: [SITE_ID, signer.address, parseUnits("100000", 18), parseUnits("100000", 18)],
    } as never),
  );

  let nextBatchId = 1n;
  let nextNonce = 1n;
  let occurredAt = 1_800_000_000;
  /** The events of every batch settled so far (with the attestations found and the policy they were accepted under), in order: the rules' state is their replay. */
  let settledEvents: { events: SiteEvent[]; policy: RulePolicy; attested?: ReadonlyMap<Address, Hex> }[] = [];
  let written: string[] = [];

  /** What the rules give for `events` after every event settled so far (rejections thrown). */
  const honestOutcome = (
    events: readonly SiteEvent[],
    relayerEarned: "settled" | "none" = "settled",
    attested?: ReadonlyMap<Address, Hex>,
  ) => {
    // What each account earned in the batches settled before: the levels the relayer sees.
    const earned = new Map<Address, bigint>();
    const state = createMemoryRulesState({ defaultFunds: UNLIMITED, earned });
    const evaluate = (
      event: SiteEvent,
      rulesState: RulesState,
      found?: ReadonlyMap<Address, Hex>,
      under: RulePolicy = policy,
    ) =>
      evaluateEvent({
        siteId: SITE_ID,
        event,
        policy: under,
        amounts: DEFAULT_RULE_AMOUNTS,
        state: {
          ...rulesState,
          attestation: (account) => [...(found ?? [])].find(([user]) => isAddressEqual(user, account))?.[1],
        },
      });
    for (const batch of settledEvents) {
      const minted = new Map<Address, bigint>();
      for (const event of batch.events) {
        const outcome = evaluate(event, state, batch.attested, batch.policy);
        if (!outcome.accepted) continue;
        state.apply(outcome, DEFAULT_RULE_AMOUNTS);
        for (const a of outcome.actions)
          if (a.kind < FIRST_BURN_KIND) {
            const account = a.account.toLowerCase() as Address;
            minted.set(account, (minted.get(account) ?? 0n) + amountFor(DEFAULT_RULE_AMOUNTS, a.kind, a.units));
          }
      }
      for (const [account, amount] of minted) earned.set(account, (earned.get(account) ?? 0n) + amount);
    }
    const posts: PostRegistration[] = [];
    const actions: AccountAction[] = [];
    const attestations: (Hex | undefined)[] = [];
    // A relayer whose record of settlements lags sees no earnings at all.
    const seen: RulesState = relayerEarned === "none" ? { ...state, earned: () => 0n } : state;
    for (const event of events) {
      const outcome = evaluate(event, seen, attested);
      if (!outcome.accepted) throw new Error(`the rules reject ${event.eventId}: ${outcome.code}`);
      state.apply(outcome, DEFAULT_RULE_AMOUNTS);
      attestations.push(outcome.attestation);
      if (outcome.registers) posts.push(outcome.registers);
      actions.push(...outcome.actions);
    }
    return { posts, actions, attestations };
  };

  const send = async (request: Record<string, unknown>, wallet = relayer) =>
    waitForSuccess(chain.publicClient, await wallet.writeContract({ chain: chain.chain, ...request } as never));

  /** Runs `fn` with the impostor's code at `address`, then puts the real code back. */
  async function asImpostor(address: Address, fn: () => Promise<void>): Promise<void> {
    const real = await chain.publicClient.getCode({ address });
    await chain.rpc("hardhat_setCode", [address, IMPOSTOR_CODE]);
    try {
      await fn();
    } finally {
      await chain.rpc("hardhat_setCode", [address, real ?? "0x"]);
    }
  }

  /** Emits, from `address`, the log `eventName` of `abi` with `args`, which no real code emitted. */
  async function forgeLog(
    address: Address,
    abi: typeof tweiAbi | typeof tweiLedgerAbi,
    eventName: string,
    args: Record<string, unknown>,
  ): Promise<void> {
    const item = (
      abi as readonly {
        type: string;
        name?: string;
        inputs?: readonly { name: string; type: string; indexed?: boolean }[];
      }[]
    ).find((entry) => entry.type === "event" && entry.name === eventName);
    if (!item?.inputs) throw new Error(`no event ${eventName}`);
    const topics = encodeEventTopics({ abi: [item], eventName, args } as never) as Hex[];
    const unindexed = item.inputs.filter((input) => !input.indexed);
    const data = encodeAbiParameters(unindexed as never, unindexed.map((input) => args[input.name]) as never);
    await asImpostor(address, async () => {
      await send({ address, abi: impostorAbi, functionName: "emitLog", args: [topics, data] }, chain.admin);
    });
  }

  const versionInForce = async () =>
    (
      await chain.publicClient.readContract({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "versionsInForce",
      })
    )[0];

  /**
   * Settles a batch of `events` (one envelope, signed by the site) and writes its evidence file.
   * By default an honest batch; `options` make it what a test needs.
   */
  async function settle(inputs: readonly SiteEventInput[], options: CraftOptions = {}): Promise<CraftedBatch> {
    const events = inputs.map((input) => siteEventSchema.parse(input));
    const honest =
      options.actions || options.packed ? undefined : honestOutcome(events, options.relayerEarned, options.attested);
    const posts = options.posts ?? honest?.posts ?? [];
    const actions = options.actions ?? honest?.actions ?? [];
    const packed =
      options.packed ??
      encodePackedActions({
        posts,
        groups: groupWithOrigins(actions.map((action, leafIndex) => ({ leafIndex, action }))).groups,
      });
    const batchId = nextBatchId++;
    const nonce = nextNonce++;
    const siteId = options.forge?.siteId ?? SITE_ID;
    const eventHashes = events.map(hashSiteEvent);
    const eventsHash = hashEvents(eventHashes);
    const digest = hashEnvelope(domain, { siteId, nonce, eventsHash });
    const signature = await signEnvelope(options.signer ?? signer, domain, { siteId, nonce, eventsHash });
    const root = buildEvidenceTree(
      eventHashes.map((eventHash, index) => ({ eventHash, envelopeDigest: digest, index })),
      EVIDENCE_VERSION,
    ).root;
    const version = await versionInForce();
    if (options.forge)
      await settleAsImpostor({ batchId, siteId, root, packed, actions, version, forge: options.forge });
    else
      await send({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "settle",
        args: [batchId, siteId, version, root, packed],
      });
    const typed = envelopeDomain(domain);
    const evidence: BatchEvidence = {
      version: EVIDENCE_VERSION,
      batchId: batchId.toString(),
      siteId,
      evidenceRoot: root,
      actions: packed,
      domain: {
        name: typed.name as BatchEvidence["domain"]["name"],
        version: typed.version as BatchEvidence["domain"]["version"],
        chainId: CHAIN_ID,
        verifyingContract: chain.deployed.ledger,
      },
      envelopes: [
        {
          nonce: nonce.toString(),
          eventsHash,
          digest,
          signature,
          eventHashes,
          ...(options.acceptedAtBlock === undefined ? {} : { acceptedAtBlock: options.acceptedAtBlock.toString() }),
        },
      ],
      events: events.map((event, leafIndex) => ({
        leafIndex,
        envelopeNonce: nonce.toString(),
        envelopeIndex: leafIndex,
        eventHash: eventHashes[leafIndex] as Hex,
        event,
        ...(honest?.attestations[leafIndex] ? { attestation: honest.attestations[leafIndex] } : {}),
      })),
    };
    options.editEvidence?.(evidence);
    const file = join(evidenceDir, `${batchId}.json`);
    await writeFile(file, JSON.stringify(evidence, null, 2));
    written.push(file);
    if (!options.actions && !options.packed && !options.forge)
      settledEvents = [
        ...settledEvents,
        { events, policy, ...(options.attested ? { attested: options.attested } : {}) },
      ];
    return { batchId, evidence, packed };
  }

  /**
   * What an impostor ledger does: moves the tokens the actions call for (as the ledger, through
   * the token's settleBalances: every burn paid) and logs a BatchSettled that says `forge`.
   */
  async function settleAsImpostor(batch: {
    batchId: bigint;
    siteId: number;
    root: Hex;
    packed: Hex;
    actions: readonly AccountAction[];
    version: number;
    forge: NonNullable<CraftOptions["forge"]>;
  }): Promise<void> {
    const byAccount = new Map<Address, { mint: bigint; burn: bigint }>();
    let minted = 0n;
    let burned = 0n;
    for (const action of batch.actions) {
      const amount = amountFor(DEFAULT_RULE_AMOUNTS, action.kind, action.units);
      const entry = byAccount.get(action.account) ?? { mint: 0n, burn: 0n };
      if (action.kind < FIRST_BURN_KIND) {
        entry.mint += amount;
        minted += amount;
      } else {
        entry.burn += amount;
        burned += amount;
      }
      byAccount.set(action.account, entry);
    }
    const records = [...byAccount].flatMap(([account, { mint, burn }]) => [BigInt(account), (burn << 128n) | mint]);
    const { ledger, token } = chain.deployed;
    await asImpostor(ledger, async () => {
      if (records.length > 0)
        await send(
          {
            address: ledger,
            abi: impostorAbi,
            functionName: "forward",
            args: [token, encodeFunctionData({ abi: tweiAbi, functionName: "settleBalances", args: [records] })],
          },
          chain.admin,
        );
    });
    await forgeLog(ledger, tweiLedgerAbi, "BatchSettled", {
      batchId: batch.batchId,
      siteId: batch.siteId,
      evidenceRoot: batch.root,
      ruleSetVersion: batch.forge.ruleSetVersion ?? batch.version,
      minted: batch.forge.minted ? batch.forge.minted(minted) : minted,
      burned: batch.forge.burned ? batch.forge.burned(burned) : burned,
      actions: batch.packed,
    });
  }

  /** A site event of `type` by `user`, at the next second of the site's clock. */
  const event = (
    type: SiteEventInput["type"],
    eventId: string,
    user: Address,
    postId: string,
    fields: Record<string, unknown> = {},
  ): SiteEventInput => ({ type, eventId, user, postId, occurredAt: occurredAt++, ...fields }) as SiteEventInput;

  return {
    ...chain,
    evidenceDir,
    /** The policy the fixture's relayer applies at first, and its audit falls back on for a site with none committed. */
    policy: fallback,
    /** With `personhood`: the policy's EAS part, EAS's schema registry and the site attester's wallet. */
    personhood: personhood && eas ? { policy: personhood, schemaRegistry: eas.schemaRegistry, attester } : undefined,
    /** The policy the fixture's "relayer" applies to the batches settled from now on. */
    usePolicy(next: RulePolicy) {
      policy = next;
    },
    /** Publishes a policy document beside the evidence (`policies/<hash>.json`, canonical JSON), as a relayer's archive does; returns its hash. */
    async publishPolicy(document: unknown): Promise<Hex> {
      const hash = policyHash(document);
      await mkdir(join(evidenceDir, "policies"), { recursive: true });
      const file = join(evidenceDir, policyFileName(hash));
      await writeFile(file, canonicalJson(document));
      written.push(file);
      return hash;
    },
    siteSigner: signer,
    settle,
    event,
    forgeLog,
    asImpostor,
    /** Sends `value` Twei from `from` to `to` with an ordinary ERC-20 transfer. */
    async transfer(from: LocalAccount, to: Address, value: bigint) {
      await send(
        { address: chain.deployed.token, abi: tweiAbi, functionName: "transfer", args: [to, value] },
        chain.walletOf(from),
      );
    },
    /** Writes a token storage slot straight (no log): what a buggy token would do. */
    async addToSlot(slot: bigint, delta: bigint) {
      const key = toHex(slot, { size: 32 });
      const current = BigInt((await chain.rpc("eth_getStorageAt", [chain.deployed.token, key, "latest"])) as Hex);
      await chain.rpc("hardhat_setStorageAt", [chain.deployed.token, key, toHex(current + delta, { size: 32 })]);
      await chain.rpc("evm_mine");
    },
    balanceSlot: (account: Address) =>
      BigInt(keccak256(encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [account, BALANCES_SLOT]))),
    totalSupplySlot: TOTAL_SUPPLY_SLOT,
    /** Audits the whole chain with the evidence in `dir` (the fixture's own by default). */
    audit(dir = evidenceDir): Promise<AuditResult> {
      return runAudit({
        publicClient: chain.publicClient,
        deployment: { ...chain.deployed, chainId: CHAIN_ID },
        evidence: directoryEvidenceSource(dir),
        policy: fallback,
      });
    },
    /** Remembers the chain and the fixture as they are; the function returned goes back to them. */
    async snapshot(): Promise<() => Promise<void>> {
      const id = await chain.rpc("evm_snapshot");
      const saved = { nextBatchId, nextNonce, occurredAt, settledEvents, written, policy };
      return async () => {
        await chain.rpc("evm_revert", [id]);
        for (const file of written.slice(saved.written.length)) await rm(file, { recursive: true, force: true });
        ({ nextBatchId, nextNonce, occurredAt, settledEvents, policy } = saved);
        written = saved.written;
      };
    },
    async stop() {
      await chain.stop();
      await rm(evidenceDir, { recursive: true, force: true });
    },
  };
}

export type CraftedChain = Awaited<ReturnType<typeof startCraftedChain>>;
