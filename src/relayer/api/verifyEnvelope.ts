import type { Address, Hex } from "viem";
import { hashEvents, hashSiteEvent } from "../../evidence/encodeSiteEvent.js";
import { hashEnvelope, recoverDigestSigner } from "../../evidence/envelope.js";
import { createSignerVerifier } from "../../evidence/signerVerifier.js";
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
      /** The expected signer when the signature is theirs, else whoever it recovers to (null: malformed). */
      readonly signer: Address | null;
    }
  | { readonly ok: false; readonly problem: "malformed_json" }
  | { readonly ok: false; readonly problem: "invalid_request"; readonly fields: ProblemField[] };

// One per thread: it caches the public keys of the signers it has seen.
const verifier = createSignerVerifier();

/**
 * Parses a raw `POST /v1/events` body, hashes its events canonically and recovers the
 * envelope's signer: the CPU-heavy, state-free part of accepting events, run in worker
 * threads (verifyPool.ts) so the main thread only touches the database.
 */
export async function verifyEnvelope(
  body: string,
  domain: { chainId: number; ledger: Address },
  expectedSigner: Address | null,
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
  if (expectedSigner && (await verifier.isSignedBy(digest, signature as Hex, expectedSigner))) signer = expectedSigner;
  else
    try {
      // Not the expected signer's: recover whose it is, for the error message.
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
