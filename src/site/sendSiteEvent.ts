import type { Address } from "viem";
import { HttpProblem } from "../http/problem.js";
import type { SiteEventInput } from "../evidence/siteEvent.js";
import type { TweiClient } from "../sdk/createTweiClient.js";
import { relayEvent, type RelayedAnswer } from "./relayEvent.js";
import type { SentEvent, SentKind, SiteStore } from "./store/siteStore.js";

/** A claim older than this with no answer is a sender that died: another may take it over. */
const STALE_CLAIM_MS = 60_000;

export interface SendSiteEventParameters {
  readonly kind: SentKind;
  readonly slug: string;
  /** plus or minus, like or dislike. */
  readonly detail?: string;
}

/**
 * Sends one event through the SDK (signed with the site's key, on the server) and records the
 * relayer's answer in the store's outbox. The event id is claimed first (one INSERT … ON
 * CONFLICT), so two site processes never both send it; an event accepted before is answered
 * from the store, one another process is sending is a 409 `event_in_flight`. A duplicate (a retry
 * of an event the relayer has) counts as accepted.
 */
export async function sendSiteEvent(
  twei: TweiClient,
  store: SiteStore,
  event: SiteEventInput & { readonly user: Address },
  parameters: SendSiteEventParameters,
): Promise<SentEvent> {
  const claimedAt = Date.now();
  const claimed = await store.claimEvent(
    {
      eventId: event.eventId,
      user: event.user,
      kind: parameters.kind,
      slug: parameters.slug,
      ...(parameters.detail === undefined ? {} : { detail: parameters.detail }),
      claimedAt,
    },
    claimedAt - STALE_CLAIM_MS,
  );
  if (!claimed) {
    const earlier = await store.sentEvent(event.eventId);
    if (earlier) return earlier;
    throw new HttpProblem(409, "event_in_flight", "This action is being sent already", {
      detail: "wait a moment and reload",
      retryAfter: 2,
    });
  }
  let relayed: RelayedAnswer;
  try {
    relayed = await relayEvent(twei, event);
  } catch (error) {
    // Nothing was recorded by the relayer: another attempt may send it.
    await store.releaseClaim(event.eventId);
    throw error;
  }
  const sentAt = Date.now();
  const base = {
    eventId: event.eventId,
    sentAt,
    ...(parameters.detail === undefined ? {} : { detail: parameters.detail }),
  };
  const sent: SentEvent = { ...base, ...relayed };
  await store.recordAnswer(event.eventId, {
    answer: sent.answer,
    sentAt,
    ...(sent.code === undefined ? {} : { code: sent.code }),
    ...(sent.message === undefined ? {} : { message: sent.message }),
  });
  return sent;
}
