import { z } from "zod";
import { siteEventSchema } from "../../evidence/siteEvent.js";

export const MAX_EVENTS_PER_REQUEST = 1_000;

/** The body of `POST /v1/events`: one signed envelope of events. */
export const postEventsBody = z.strictObject({
  siteId: z.number().int().min(0).max(0xffffffff),
  /** The site's envelope nonce: a uint64 in decimal, never reused for other events. */
  nonce: z
    .string()
    .regex(/^(0|[1-9]\d{0,19})$/, "a uint64 in decimal")
    .transform((value) => BigInt(value))
    .refine((value) => value < 2n ** 64n, "a uint64 in decimal"),
  /** The site signer's EIP-712 signature of the envelope {siteId, nonce, eventsHash}. */
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte hex signature"),
  events: z.array(siteEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST),
});
