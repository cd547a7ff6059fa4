import type { Address, Hex } from "viem";
import { hashEvents, hashSiteEvent } from "../../evidence/encodeSiteEvent.js";
import { hashEnvelope } from "../../evidence/envelope.js";
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
      /** The signature in its canonical form (`v` 27 or 28): what the store keeps and the evidence publishes. */
      readonly signature: Hex;
      readonly events: SiteEvent[];
      readonly eventHashes: Hex[];
      readonly eventsHash: Hex;
      readonly digest: Hex;
      /** The expected signer when the signature is theirs, else whoever it recovers to (null: not a canonical signature). */
      readonly signer: Address | null;
      /** Why the signature is refused when `signer` is null (not canonical, or it recovers no key). */
      readonly signatureProblem?: string;
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
  // The one check the auditor also runs on the evidence (src/evidence/signerVerifier.ts): only a
  // canonical signature is accepted, and it is stored canonical, so what passes here passes there.
  let signer: Address | null = null;
  let canonical = signature as Hex;
  let signatureProblem: string | undefined;
  const recovered = await verifier.recoverSigner(digest, signature as Hex, expectedSigner);
  if (recovered.ok) {
    signer = recovered.signer;
    canonical = recovered.signature;
  } else signatureProblem = recovered.problem;
  return {
    ok: true,
    siteId,
    nonce: nonce.toString(),
    signature: canonical,
    events,
    eventHashes,
    eventsHash,
    digest,
    signer,
    ...(signatureProblem === undefined ? {} : { signatureProblem }),
  };
}
