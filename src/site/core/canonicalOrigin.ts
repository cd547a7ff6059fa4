import { DEV_CHAIN_ID } from "../siteConfig.js";

/** The site's configured origin, parsed once at start-up. */
export interface CanonicalOrigin {
  /** `https://news.example` (scheme, host and port; no path). */
  readonly origin: string;
  /** `news.example`: the SIWE message's domain. */
  readonly host: string;
  /** Loopback (127.0.0.0/8, ::1, localhost): the only place a session cookie may go without `Secure`. */
  readonly loopback: boolean;
}

export class InvalidOriginError extends Error {
  override name = "InvalidOriginError";
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * Parses the site's canonical origin: the only domain Sign-In with Ethereum messages are issued
 * and verified for (never the request's Host header, which a phishing proxy chooses). It must be
 * a bare origin, and https off a local development chain.
 *
 * @example
 * const canonical = canonicalOriginOf("https://news.example", 1) // { host: "news.example", loopback: false, … }
 */
export function canonicalOriginOf(origin: string | undefined, chainId: number): CanonicalOrigin {
  if (!origin) throw new InvalidOriginError("the site needs its canonical origin (e.g. https://news.example)");
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new InvalidOriginError(`the site's origin ${JSON.stringify(origin)} is not a URL`);
  }
  if (url.origin !== origin.replace(/\/$/, ""))
    throw new InvalidOriginError(`the site's origin ${JSON.stringify(origin)} must be scheme://host[:port], no path`);
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new InvalidOriginError(`the site's origin ${JSON.stringify(origin)} must be https`);
  if (url.protocol !== "https:" && chainId !== DEV_CHAIN_ID)
    throw new InvalidOriginError(
      `the site's origin ${url.origin} must be https off a local development chain (${DEV_CHAIN_ID})`,
    );
  return { origin: url.origin, host: url.host, loopback: LOOPBACK.test(url.hostname) };
}
