import { expect } from "chai";
import fc from "fast-check";
import { after, before, describe, it } from "mocha";
import { randomBytes } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { hashEvents, hashSiteEvent } from "../../src/evidence/encodeSiteEvent.js";
import { signEnvelope } from "../../src/evidence/envelope.js";
import { siteEventSchema } from "../../src/evidence/siteEvent.js";
import { privateKeyOf } from "../relayer/helpers/testChain.js";
import { encodeBody, hostileRequest, type HostileRequest } from "./helpers/hostileRequests.js";
import { ARTICLE_SLUG, DEMO_ACCOUNT_INDEX, startHostileStack, type HostileStack } from "./helpers/hostileStack.js";
import { rawRequest, type RawResponse } from "./helpers/rawRequest.js";
import { FUZZ_ROUTES, listRoutes, type FuzzRoute } from "./helpers/routeTable.js";

/** Runs per route; raise it for a deeper search (`TWEI_FUZZ_RUNS=500 npx hardhat test mocha test/http/routeFuzz.test.ts`). */
const RUNS = Number(process.env.TWEI_FUZZ_RUNS ?? 50);

/** The relayer's tables that only a request changes (settlement and webhooks change others on their own). */
const REQUEST_TABLES = ["envelopes", "events", "posts", "comments", "markers"] as const;

/** A stack trace, a source location or an internal error name in an answer. */
const INTERNALS = /\n\s*at |\bat \S+ \(|node_modules|\.ts:\d+|\.js:\d+:\d+|SQLITE_|ECONNREFUSED|ZlibError|URIError/;

/**
 * Issue 24: property-based fuzzing over every route of the relayer, the indexer and the site
 * (real apps in this process, real SQLite stores, a real Hardhat node), with bodies, paths,
 * queries, encodings and credentials a hostile client could send. For every answer: no 5xx, a
 * problem+json with a code for every refusal, no stack, internal detail or secret in any body,
 * no error-level log line, and no state change from a refused request.
 */
describe("every route of the relayer, the indexer and the site under property-based fuzzing", function () {
  this.timeout(600_000);
  let stack: HostileStack;
  let sessionCookie: string;
  let secrets: string[];
  let nonce = BigInt(Date.now()) * 1_000n;

  before(async function () {
    stack = await startHostileStack();
    sessionCookie = await signIn(stack);
    const demoKey = privateKeyOf(DEMO_ACCOUNT_INDEX);
    const relayerKey = stack.chain.relayerKey;
    secrets = [stack.site.apiKey, demoKey.slice(2), relayerKey.slice(2), new URL(stack.chain.node.url).host];
  });

  after(async function () {
    await stack?.stop();
  });

  it("lists every route each app answers (a new route must join the fuzzing)", function () {
    for (const app of ["relayer", "indexer", "site"] as const) {
      const listed = FUZZ_ROUTES.filter((r) => r.app === app).map((r) => `${r.method} ${r.path}`);
      expect(listRoutes(stack.apps[app]).sort(), app).to.deep.equal(listed.sort());
    }
  });

  /** What a refused request must leave as it was: the relayer's request tables and the reader's view of the site. */
  async function fingerprint() {
    const db = new DatabaseSync(stack.relayerDbPath, { readOnly: true });
    let counts: Record<string, unknown>;
    try {
      counts = Object.fromEntries(
        REQUEST_TABLES.map((table) => [table, db.prepare(`SELECT count(*) AS n FROM ${table}`).get()?.n]),
      );
    } finally {
      db.close();
    }
    const headers = { cookie: sessionCookie };
    const post = (await rawRequest(stack.urls.site, { path: `/twei/api/posts/${ARTICLE_SLUG}`, headers })).json;
    const me = (await rawRequest(stack.urls.site, { path: "/twei/api/me", headers })).json;
    const reader = post?.reader as
      { read: { seconds: number }; vote: { vote: string } | null; reports: unknown[]; plusesLeft: number } | undefined;
    return {
      counts,
      comments: (post?.comments as { commentId: string; text: string; likes: number; dislikes: number }[]).map((c) => [
        c.commentId,
        c.text,
        c.likes,
        c.dislikes,
      ]),
      reader: reader && [reader.read.seconds, reader.vote?.vote, reader.reports.length, reader.plusesLeft],
      signedIn: me?.address,
    };
  }

  async function send(route: FuzzRoute, request: HostileRequest): Promise<RawResponse> {
    const headers: Record<string, string> = {};
    const credential = route.endsSession && request.credential === "valid" ? "foreign" : request.credential;
    if (route.app === "site") {
      const cookies = {
        valid: sessionCookie,
        none: undefined,
        foreign: `twei_session=${randomBytes(24).toString("base64url")}`,
        malformed: "twei_session=%zz; twei_session=; =;;",
      };
      const cookie = cookies[credential];
      if (cookie) headers.cookie = cookie;
    } else {
      const authorizations = {
        valid: `Bearer ${stack.site.apiKey}`,
        none: undefined,
        foreign: `Bearer ${randomBytes(32).toString("hex")}`,
        malformed: `Basic ${Buffer.from("a:b").toString("base64")}`,
      };
      const authorization = authorizations[credential];
      if (authorization) headers.authorization = authorization;
    }
    if (request.contentType) headers["content-type"] = request.contentType;
    if (request.contentEncoding) headers["content-encoding"] = request.contentEncoding;
    let body: Buffer | undefined;
    if (request.body.kind === "bytes") body = Buffer.from(request.body.bytes);
    else if (request.body.kind === "text") body = Buffer.from(request.body.text);
    else if (request.body.kind === "large") body = Buffer.from(JSON.stringify({ a: "x".repeat(request.body.size) }));
    else if (request.body.kind === "events") body = Buffer.from(await signedEnvelope(request.body.events));
    return rawRequest(stack.urls[route.app], {
      method: request.method,
      path: request.path,
      headers,
      ...(body === undefined ? {} : { body: encodeBody(body, request.contentEncoding, request.encodedTruly) }),
    });
  }

  /** The events in an envelope the site's own key signed: hostile content behind a valid signature. */
  async function signedEnvelope(events: readonly Record<string, unknown>[]): Promise<string> {
    nonce += 1n;
    const eventsHash = hashEvents(events.map((e) => hashSiteEvent(siteEventSchema.parse(e))));
    const signature = await signEnvelope(
      stack.site.signer,
      { chainId: 31337, ledger: stack.chain.deployed.ledger },
      { siteId: stack.site.siteId, nonce, eventsHash },
    );
    return JSON.stringify({ siteId: stack.site.siteId, nonce: nonce.toString(), signature, events });
  }

  function errorLines(): number {
    return [...stack.relayerLog.lines, ...stack.indexerLog.lines].filter((l) => Number(l.level) >= 50).length;
  }

  for (const route of FUZZ_ROUTES)
    it(`${route.app}: ${route.method} ${route.path}`, async function () {
      await fc.assert(
        fc.asyncProperty(hostileRequest(route), async (request) => {
          const errorsBefore = errorLines();
          const siteErrorsBefore = stack.siteErrors.length;
          const before = await fingerprint();
          const answer = await send(route, request);
          const what = `${request.method} ${request.path.slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 300)}`;
          expect(answer.status, what).to.be.within(200, 499);
          expect(answer.text, what).not.to.match(INTERNALS);
          for (const secret of secrets) expect(answer.text.toLowerCase(), what).not.to.include(secret.toLowerCase());
          expect(errorLines(), `an error-level log line for ${what}`).to.equal(errorsBefore);
          expect(stack.siteErrors.slice(siteErrorsBefore).map(String), what).to.deep.equal([]);
          if (answer.status >= 400) {
            expect(answer.headers["content-type"], what).to.match(/^application\/problem\+json/);
            expect(answer.json?.code, what)
              .to.be.a("string")
              .and.match(/^[a-z][a-z0-9_]*$/);
            expect(await fingerprint(), `state changed by the refused ${what}`).to.deep.equal(before);
          }
        }),
        { numRuns: RUNS },
      );
    });
});

/** Signs the demo wallet's account in (SIWE) and returns its session cookie. */
async function signIn(stack: HostileStack): Promise<string> {
  const json = { "content-type": "application/json" };
  const issued = await rawRequest(stack.urls.site, {
    method: "POST",
    path: "/twei/api/siwe/message",
    headers: json,
    body: JSON.stringify({ address: stack.demoAccount.address }),
  });
  const message = String(issued.json?.message);
  const signature = await stack.demoAccount.signMessage({ message });
  const verified = await rawRequest(stack.urls.site, {
    method: "POST",
    path: "/twei/api/siwe/verify",
    headers: json,
    body: JSON.stringify({ message, signature }),
  });
  const cookie = String(verified.headers["set-cookie"] ?? "").split(";")[0];
  if (verified.status !== 200 || !cookie) throw new Error(`sign-in failed: ${verified.status} ${verified.text}`);
  return cookie;
}
