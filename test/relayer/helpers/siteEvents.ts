import { parseUnits, type Address } from "viem";
import { ActionKind } from "../../../src/core/kinds.js";
import { postIdFor } from "../../../src/core/postId.js";
import { hashSiteEvent } from "../../../src/evidence/encodeSiteEvent.js";
import { siteEventSchema, type SiteEventInput } from "../../../src/evidence/siteEvent.js";
import type { TestStore } from "./testStores.js";

/** A publication of `postId` by `user` (100 words). */
export const publishEvent = (eventId: string, user: Address, postId: string): SiteEventInput => ({
  eventId,
  type: "post_published",
  occurredAt: 1,
  user,
  postId,
  wordCount: 100,
});

/** A full read of `postId` by `user` (10,000 basis points: one Read-to-Earn unit's whole amount). */
export const readEvent = (eventId: string, user: Address, postId: string): SiteEventInput => ({
  eventId,
  type: "post_read",
  occurredAt: 2,
  user,
  postId,
  secondsRead: 10_000,
});

/**
 * Writes a read the way a relayer without today's acceptance checks did: straight into the
 * store (stop the relayer first on SQLite), accepted with the actions the rules gave, priced
 * under rule-set `ruleSetVersion` (here a read paid to whoever it names, the zero address too).
 */
export async function queueUnchecked(
  testStore: TestStore,
  siteId: number,
  event: SiteEventInput,
  nonce: bigint,
  ruleSetVersion = 1,
) {
  const store = testStore.open();
  try {
    const parsed = siteEventSchema.parse(event);
    const postId = postIdFor(siteId, parsed.postId);
    const eventHash = hashSiteEvent(parsed);
    await store.acceptEnvelope(
      {
        siteId,
        nonce,
        eventsHash: eventHash,
        digest: `0x${"ab".repeat(32)}`,
        signature: "0x00",
        receivedAt: Date.now(),
        acceptedAtBlock: 1n,
        ruleSetVersion,
        events: [{ event: parsed, eventHash }],
      },
      () => ({
        accepted: true,
        actions: [{ account: parsed.user, kind: ActionKind.ReadToEarn, units: 10_000, postId }],
        effects: { markers: [`read:${parsed.postId}:${parsed.user}`], counters: [] },
        notes: [],
      }),
      () => parseUnits("1", 18),
    );
  } finally {
    await store.close();
  }
}
