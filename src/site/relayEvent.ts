import { HttpProblem } from "../http/problem.js";
import type { SiteEventInput } from "../evidence/siteEvent.js";
import { TweiApiError, type EventResult, type TweiClient } from "../sdk/createTweiClient.js";

/** The relayer's verdict on one event: a duplicate (a retry of an event sent before) counts as accepted. */
export interface RelayedAnswer {
  readonly answer: "accepted" | "rejected";
  readonly code?: string;
  readonly message?: string;
}

/** The relayer could not be reached or answered with a fault: nothing was recorded, retrying is safe (503). */
const unreachable = (detail: string) =>
  new HttpProblem(503, "relayer_unreachable", "Twei's relayer cannot be reached; try again shortly", {
    detail,
    retryAfter: 2,
  });

/**
 * Sends one event through the SDK (signed with the site's key, on the server) and returns the
 * relayer's verdict; throws a 503 `relayer_unreachable` problem when there is none.
 *
 * @example
 * const { answer, code } = await relayEvent(config.twei, { eventId, type: "post_read", … })
 */
export async function relayEvent(twei: TweiClient, event: SiteEventInput): Promise<RelayedAnswer> {
  let result: EventResult | undefined;
  try {
    result = (await twei.sendEvents([event])).results[0];
  } catch (error) {
    if (error instanceof TweiApiError && error.code === "events_rejected")
      result = (error.problem.results as EventResult[] | undefined)?.[0];
    else
      throw unreachable(
        error instanceof TweiApiError
          ? `the relayer answered ${error.status} ${error.code}`
          : "the relayer cannot be reached",
      );
  }
  if (!result) throw unreachable("the relayer gave no result for the event");
  return result.status === "accepted" || result.status === "duplicate"
    ? { answer: "accepted" }
    : { answer: "rejected", code: result.code, message: result.message };
}
