import type { Address, Hex } from "viem";
import { hashEvents, hashSiteEvent } from "../../evidence/encodeSiteEvent.js";
import { hashEnvelope, recoverDigestSigner } from "../../evidence/envelope.js";
import type { SiteEvent } from "../../evidence/siteEvent.js";
import { fieldsOf, type ProblemField } from "../../http/problem.js";
import { postEventsBody } from "./postEventsBody.js";

/** What checking a `POST /v1/events` body yields: the events, their hashes and who signed them. */
export type VerifiedEnvelope =
  | {
      readonly ok: true;
      readonly siteId: number;
      readonly nonce: string;
      readonly signature: Hex;
      readonly events: SiteEvent[];
      readonly eventHashes: Hex[];
      readonly eventsHash: Hex;
      readonly digest: Hex;
      /** null when the signature is malformed. */
      readonly signer: Address | null;
    }
  | { readonly ok: false; readonly problem: "malformed_json" }
  | { readonly ok: false; readonly problem: "invalid_request"; readonly fields: ProblemField[] };

/**
 * Parses a raw `POST /v1/events` body, hashes its events canonically and recovers the
 * envelope's signer: the CPU-heavy, state-free part of accepting events, run in worker
 * threads (verifyPool.ts) so the main thread only touches the database.
 */
export async function verifyEnvelope(
  body: string,
  domain: { chainId: number; ledger: Address },
): Promise<VerifiedEnvelope> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: "malformed_json" };
  }
  const parsed = postEventsBody.safeParse(json);
  if (!parsed.success) return { ok: false, problem: "invalid_request", fields: fieldsOf(parsed.error) };
  const { siteId, nonce, signature, events } = parsed.data;
  const eventHashes = events.map(hashSiteEvent);
  const eventsHash = hashEvents(eventHashes);
  const digest = hashEnvelope(domain, { siteId, nonce, eventsHash });
  let signer: Address | null;
  try {
    signer = await recoverDigestSigner(digest, signature as Hex);
  } catch {
    signer = null;
  }
  return {
    ok: true,
    siteId,
    nonce: nonce.toString(),
    signature: signature as Hex,
    events,
    eventHashes,
    eventsHash,
    digest,
    signer,
  };
}
