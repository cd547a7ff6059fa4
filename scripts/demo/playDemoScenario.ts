import { formatUnits, parseUnits, type Hex } from "viem";
import { tweiAbi } from "../../src/chain/abi.js";
import { postIdFor } from "../../src/core/postId.js";
import { DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import type { EventResult } from "../../src/sdk/createTweiClient.js";
import { signLedgerPermit } from "../../src/sdk/signLedgerPermit.js";
import {
  accountOf,
  ARTICLE,
  COMMENTS,
  demoSteps,
  PEOPLE,
  PERMIT_TWEI,
  SPENDERS,
  WELCOME_POST,
  type DemoStep,
  type Person,
} from "./scenario.js";
import { DEMO_SITE_ID, type DemoStack } from "./startDemoStack.js";

/** A batch the scenario's events settled in. */
export interface SettledBatch {
  readonly batchId: string;
  readonly txHash: Hex;
  readonly blockNumber: bigint;
  readonly events: number;
}

export interface DemoOutcome {
  readonly articlePostId: bigint;
  readonly welcomePostId: bigint;
  /** Every event's fate as the relayer answered it, by event id. */
  readonly results: ReadonlyMap<string, EventResult>;
  readonly batches: readonly SettledBatch[];
  readonly ruleSetTxHash: Hex;
  /** The block of the last settlement: the reports are computed at or after it. */
  readonly lastBlock: bigint;
}

const nameOf = (address: string): string => {
  for (const [key, person] of Object.entries(PEOPLE))
    if (accountOf(key as Person).address.toLowerCase() === address.toLowerCase()) return person.name;
  return address;
};

function describeEvent(event: SiteEventInput): string {
  const who = nameOf(event.user);
  switch (event.type) {
    case "post_published":
      return `${who} publishes ${event.postId} (${event.wordCount} words)`;
    case "post_read":
      return `${who} reads ${event.postId} for ${event.secondsRead} s`;
    case "post_plus":
      return `${who} gives the post a plus`;
    case "post_minus":
      return `${who} gives the post a minus`;
    case "comment_created":
      return `${who} comments (${event.commentId}, ${event.length} characters): "${COMMENTS.find((c) => c.commentId === event.commentId)?.text ?? ""}"`;
    case "comment_liked":
      return `${who} likes ${event.commentId}`;
    case "comment_disliked":
      return `${who} dislikes ${event.commentId}`;
    case "report_purchased":
      return `${who} buys a PnL report`;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Plays the demo's story against a running stack through the site SDK over HTTP: permits for
 * the spenders, the launch (rule set v1), the switch to the default rule set (v2), then the
 * article with its reads, votes, comments, reactions and a report purchase. After each step it
 * waits until the relayer reports the step's events settled, so the next step's spends can
 * draw on what this one paid; at the end it waits for the indexer to reach the last
 * settlement block.
 *
 * @example
 * const outcome = await playDemoScenario(stack, { say: console.log });
 */
export async function playDemoScenario(
  stack: DemoStack,
  options: { say?: (line: string) => void; settleTimeoutMs?: number } = {},
): Promise<DemoOutcome> {
  const say = options.say ?? (() => {});
  const { client, publicClient, deployment } = stack;
  const results = new Map<string, EventResult>();
  const batches = new Map<string, SettledBatch>();
  let lastBlock = 0n;

  async function waitSettled(eventIds: readonly string[]): Promise<void> {
    const deadline = Date.now() + (options.settleTimeoutMs ?? 30_000);
    const open = new Set(eventIds);
    while (open.size > 0) {
      for (const eventId of [...open]) {
        const status = (await stack.client.event(eventId)) as {
          status: string;
          batchId: string | null;
          txHash: Hex | null;
          blockNumber: string | null;
        };
        if (status.status !== "settled" || status.batchId === null || status.txHash === null) continue;
        open.delete(eventId);
        const blockNumber = BigInt(status.blockNumber ?? "0");
        if (blockNumber > lastBlock) lastBlock = blockNumber;
        const known = batches.get(status.batchId);
        batches.set(status.batchId, {
          batchId: status.batchId,
          txHash: status.txHash,
          blockNumber,
          events: (known?.events ?? 0) + 1,
        });
        if (!known) say(`    ✓ batch ${status.batchId} settled in tx ${status.txHash} (block ${blockNumber})`);
      }
      if (open.size === 0) break;
      if (Date.now() > deadline) throw new Error(`events ${[...open].join(", ")} did not settle in time`);
      await sleep(150);
    }
  }

  async function play(step: DemoStep): Promise<void> {
    say(`\n▶ ${step.caption}`);
    for (const event of step.events) say(`    → ${describeEvent(event)}`);
    const answer = await stack.client.sendEvents(step.events);
    const accepted: string[] = [];
    for (const result of answer.results) {
      results.set(result.eventId, result);
      if (result.status === "accepted") {
        accepted.push(result.eventId);
        for (const note of result.notes ?? []) say(`    ℹ ${result.eventId}: accepted, ${note}`);
      } else say(`    ✗ ${result.eventId}: ${result.status} (${result.code}): ${result.message}`);
    }
    say(`    sent envelope ${answer.nonce}: ${answer.counts.accepted} accepted, ${answer.counts.rejected} rejected`);
    await waitSettled(accepted);
  }

  // Onboarding: each user who will pay a tribute signs an EIP-2612 permit for the ledger, and
  // the relayer submits it (the user needs no ETH).
  say(`\n▶ ${SPENDERS.length} users sign permits letting the ledger burn up to ${PERMIT_TWEI} Twei (gasless)`);
  const { timestamp } = await publicClient.getBlock();
  for (const person of SPENDERS) {
    const owner = accountOf(person);
    const nonce = await publicClient.readContract({
      address: deployment.token,
      abi: tweiAbi,
      functionName: "nonces",
      args: [owner.address],
    });
    const value = parseUnits(PERMIT_TWEI, 18);
    const deadline = timestamp + 3_600n;
    const signature = await signLedgerPermit({
      owner,
      token: deployment.token,
      ledger: deployment.ledger,
      chainId: deployment.chainId,
      value,
      nonce,
      deadline,
    });
    const answer = await client.submitPermit({ owner: owner.address, value, deadline, signature });
    say(`    ✓ ${PEOPLE[person].name} ${owner.address}: permit in tx ${String(answer.txHash)}`);
  }

  const steps = demoSteps(Number(timestamp));
  say(
    "\nWhy a launch phase: on a fresh chain nobody holds Twei, yet publishing and commenting cost Twei and\n" +
      "Comment-to-Earn needs level 13 (72 Twei earned). The ledger starts with launch rules (rule set v1:\n" +
      "publishing free, a full read pays 100 Twei); the early users earn there, then the default rules apply.",
  );
  for (const step of steps.launch) await play(step);

  const ruleSetTxHash = await stack.setRuleSet(DEFAULT_RULE_AMOUNTS);
  say(`\n▶ the launch ends: the default rule set (v2) is written on-chain in tx ${ruleSetTxHash}`);
  await stack.restartRelayer();
  say("    relayer restarted on the same database and port, and reads rule set v2");

  for (const step of steps.article) await play(step);

  say(`\n▶ waiting for the indexer to reach block ${lastBlock}…`);
  const checkpoint = await stack.indexer.waitForBlock(lastBlock, { timeoutMs: 30_000 });
  say(`    ✓ indexed up to block ${checkpoint.number}`);

  return {
    articlePostId: postIdFor(DEMO_SITE_ID, ARTICLE.sitePostId),
    welcomePostId: postIdFor(DEMO_SITE_ID, WELCOME_POST.sitePostId),
    results,
    batches: [...batches.values()],
    ruleSetTxHash,
    lastBlock,
  };
}

/** Twei for people: the token's own decimals, no floating point. */
export const twei = (wei: bigint): string => formatUnits(wei, 18);
