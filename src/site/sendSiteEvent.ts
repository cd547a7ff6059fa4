import type { Address } from "viem";
import { HttpProblem } from "../http/problem.js";
import type { SiteEventInput } from "../evidence/siteEvent.js";
import { TweiApiError, type EventResult, type TweiClient } from "../sdk/createTweiClient.js";
import type { SentEvent, SentKind, SiteStore } from "./store/siteStore.js";

/** A claim older than this with no answer is a sender that died: another may take it over. */
const STALE_CLAIM_MS = 60_000;

/** The relayer could not be reached or answered with a fault: nothing was recorded, retrying is safe (503). */
const unreachable = (detail: string) =>
  new HttpProblem(503, "relayer_unreachable", "Twei's relayer cannot be reached; try again shortly", {
    detail,
    retryAfter: 2,
  });

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
  let result: EventResult | undefined;
  try {
    result = (await twei.sendEvents([event])).results[0];
  } catch (error) {
    if (error instanceof TweiApiError && error.code === "events_rejected")
      result = (error.problem.results as EventResult[] | undefined)?.[0];
    else {
      await store.releaseClaim(event.eventId);
      throw unreachable(
        error instanceof TweiApiError
          ? `the relayer answered ${error.status} ${error.code}`
          : "the relayer cannot be reached",
      );
    }
  }
  if (!result) {
    await store.releaseClaim(event.eventId);
    throw unreachable("the relayer gave no result for the event");
  }
  const sentAt = Date.now();
  const base = {
    eventId: event.eventId,
    sentAt,
    ...(parameters.detail === undefined ? {} : { detail: parameters.detail }),
  };
  const sent: SentEvent =
    result.status === "accepted" || result.status === "duplicate"
      ? { ...base, answer: "accepted" }
      : { ...base, answer: "rejected", code: result.code, message: result.message };
  await store.recordAnswer(event.eventId, {
    answer: sent.answer,
    sentAt,
    ...(sent.code === undefined ? {} : { code: sent.code }),
    ...(sent.message === undefined ? {} : { message: sent.message }),
  });
  return sent;
}
