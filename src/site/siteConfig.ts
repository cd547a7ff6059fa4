import type { Request } from "express";
import type { Address, LocalAccount, PublicClient } from "viem";
import type { DeployerClient } from "../chain/deployTwei.js";
import type { RulePolicy } from "../rules/policy.js";
import type { TweiClient } from "../sdk/createTweiClient.js";
import type { SiteStore } from "./store/siteStore.js";

/** One article of the site. `sitePostId` is the post id the site reported to the relayer. */
export interface Article {
  readonly slug: string;
  readonly sitePostId: string;
  readonly title: string;
  readonly author: Address;
  /** ISO date (YYYY-MM-DD) shown as the post's date. */
  readonly date: string;
  /** The article's text (the demo's pages); a site the gateway serves gives `wordCount` instead. */
  readonly text: string;
  /** Words in the article, when the site reports it instead of its text (the gateway's posts). */
  readonly wordCount?: number;
}

/** A comment already on the site when it starts (the demo's story). */
export interface SeedComment {
  readonly commentId: string;
  readonly slug: string;
  readonly author: Address;
  readonly text: string;
  readonly likes?: number;
  readonly dislikes?: number;
}

/** A dev account the demo wallet signs with on the server (a local development chain only). */
export interface DemoWalletAccount {
  readonly name: string;
  readonly account: LocalAccount;
}

export interface SiteConfig {
  readonly siteName: string;
  /**
   * The site's canonical origin (`https://news.example`): Sign-In with Ethereum messages are
   * issued and verified for its domain only, never the request's Host. https off a local chain;
   * the session cookie is `Secure` unless it is loopback.
   */
  readonly origin: string;
  readonly articles: readonly Article[];
  readonly comments?: readonly SeedComment[];
  /** Display names of known addresses (lowercase keys); others show as a short address. */
  readonly names?: ReadonlyMap<string, string>;
  /** The site's relayer client: holds the site's signer key and API key, on the server only. */
  readonly twei: TweiClient;
  readonly siteId: number;
  readonly chainId: number;
  readonly token: Address;
  readonly ledger: Address;
  readonly publicClient: PublicClient;
  /** The relayer's public URL (evidence links) and the indexer's (reports). */
  readonly relayerUrl: string;
  readonly indexerUrl: string;
  /** The rules' thresholds the relayer applies (level gate, plus budget). */
  readonly policy: RulePolicy;
  /** The price of one report instance, in wei (the ledger's PnL Reports amount). */
  readonly reportPriceWei: bigint;
  readonly reading?: {
    readonly heartbeatMs?: number;
    readonly idleAfterMs?: number;
    readonly clockRate?: number;
    /** A reader who has not come back for this long (ms) gets a partial read sent; 30 min by default. */
    readonly partialAfterMs?: number;
    /** How often (ms) the site looks for such reads; a quarter of `partialAfterMs`, at most a minute, by default. */
    readonly sweepEveryMs?: number;
  };
  /**
   * The site attests its signed-in readers' personhood (EAS, under the policy's `personhood`
   * schema) when they ask: `POST /twei/api/personhood/attest` (src/site/routes/personhood.ts).
   * Needs `policy.personhood`, with this key's address among its attesters.
   */
  readonly attester?: {
    /** The site's attester key (a wallet client with its account); it pays each attestation's gas. */
    readonly walletClient: DeployerClient;
    /**
     * The site's own check before it vouches for a reader (an e-mail verified, a subscription):
     * throws an HttpProblem to refuse. None: any signed-in reader who asks is attested once (the
     * demo), so the proof is only as strong as the per-IP limits.
     */
    readonly check?: (user: Address, req: Request) => Promise<void>;
  };
  /**
   * The newcomer hold (src/site/core/newcomerHold.ts): the reads of an account the site has not
   * seen read on `readingDays` UTC days (2 by default), and the chain never paid up to
   * `liftLevel` (2), nor proved a person, are kept, not sent, and paid when the reader comes
   * back. On by default; `false` turns it off (every read is sent at once).
   */
  readonly newcomerHold?: { readonly readingDays?: number; readonly liftLevel?: number } | false;
  /** The first block to look for personhood attestations in (EAS's deployment); 0 by default. */
  readonly personhoodFromBlock?: bigint;
  /** The demo wallet: dev accounts signed on the server. Refused unless the chain is a local development chain. */
  readonly demoWallet?: readonly DemoWalletAccount[];
  /**
   * Per-IP and per-user request budgets (token buckets), and the per-IP limits a scripted
   * client meets first (src/site/core/ipLimits.ts; defaults in DEFAULT_IP_LIMITS).
   */
  readonly limits?: {
    readonly perIpPerSecond?: number;
    readonly perUserPerSecond?: number;
    readonly newAccountsPerIpPerDay?: number;
    readonly metersPerIpAtOnce?: number;
    readonly readsPerIpPerHour?: number;
    /** Personhood attestations the site makes per IP per UTC day (5 by default). */
    readonly attestationsPerIpPerDay?: number;
  };
  readonly host?: string;
  readonly port?: number;
  /**
   * Express's `trust proxy` for the app that serves the kit (createSiteApp, the gateway): the
   * per-IP limits count `req.ip`, which is the proxy's address behind a reverse proxy unless it is
   * trusted (then the client's, from X-Forwarded-For). The proxy's addresses or subnets
   * (`"loopback"`, `"10.0.0.0/8"`) or its hop count; never `true` on a server reachable without
   * the proxy (any client could then name its own IP). Unset: no proxy trusted. A host app that
   * mounts createTweiSiteRouter sets it itself: `app.set("trust proxy", …)`.
   */
  readonly trustProxy?: boolean | number | string;
  /**
   * The site kit's state (sessions, nonces, meters, sent events, comments): PostgreSQL via
   * `openSiteStore({ databaseUrl })`, shared by every site process; closed by its opener.
   */
  readonly store?: SiteStore;
  /** Without `store`: the SQLite file (default `data/site/site.sqlite`), opened and closed by the site. */
  readonly databasePath?: string;
  /**
   * The widget's pages are served by another origin (the gateway): the session cookie is
   * `SameSite=None; Secure` and the widget may send it back as a bearer token instead.
   */
  readonly crossOrigin?: boolean;
  /** Moderation: moderators' API keys, and how long a new comment is held before its comment_created goes out. */
  readonly moderation?: {
    readonly keys?: readonly string[];
    /** Milliseconds; 0 (default) sends at once. A comment hidden within the window never earns. */
    readonly windowMs?: number;
  };
}

/** The chain id of local development nodes (Hardhat, anvil): the only chain the demo wallet and a sped clock run on. */
export const DEV_CHAIN_ID = 31337;
