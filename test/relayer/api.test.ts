import { expect } from "chai";
import express from "express";
import type { Server } from "node:http";
import { after, before, describe, it } from "mocha";
import { parseUnits, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { tweiAbi, tweiLedgerAbi } from "../../src/chain/abi.js";
import { MAX_BODY_BYTES } from "../../src/relayer/api/createApp.js";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS, amountFor } from "../../src/core/ruleSet.js";
import { batchEvidenceSchema, verifyBatchEvidence } from "../../src/evidence/batchEvidence.js";
import { verifyEvidenceProof } from "../../src/evidence/evidenceTree.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import { verifyWebhook } from "../../src/relayer/webhooks/signWebhook.js";
import { createTweiClient, TweiApiError } from "../../src/sdk/createTweiClient.js";
import { signLedgerPermit } from "../../src/sdk/signLedgerPermit.js";
import { STORES, testDatabase } from "../helpers/postgres.js";
import { CHAIN_ID, startTestChain, type TestChain } from "./helpers/testChain.js";
import {
  addSite,
  clientFor,
  removeDir,
  startTestRelayer,
  tempDir,
  waitFor,
  type TestSite,
} from "./helpers/testRelayer.js";

const SITE = 11;
const OTHER_SITE = 12;
const twei = (value: string) => parseUnits(value, 18);

/** Calls the API with raw fetch (for the error paths the SDK would not produce). */
async function call(url: string, path: string, init: { method?: string; key?: string; body?: string } = {}) {
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? "GET",
    headers: {
      "content-type": "application/json",
      ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
    },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // metrics and other text answers
  }
  return { status: response.status, headers: response.headers, json, text };
}

async function expectProblem(work: Promise<unknown>, status: number, code: string): Promise<TweiApiError> {
  try {
    await work;
  } catch (error) {
    expect(error).to.be.instanceOf(TweiApiError);
    const problem = error as TweiApiError;
    expect([problem.status, problem.code]).to.deep.equal([status, code]);
    return problem;
  }
  throw new Error(`expected a ${status} ${code} problem`);
}

for (const store of STORES)
  describe(`relayer API on ${store} (real HTTP, real Hardhat node)`, function () {
    let chain: TestChain;
    let db: Awaited<ReturnType<typeof testDatabase>>;
    let dir: string;
    let url: string;
    let site: TestSite;
    let otherSite: TestSite;
    let stopRelayer: () => Promise<void>;
    let webhookServer: Server;
    const webhooks: { body: string; signature: string | undefined }[] = [];
    let failWebhooks = 1;
    let author: Address;
    let reader: Address;

    before(async function () {
      chain = await startTestChain();
      db = await testDatabase(store, "api");
      dir = await tempDir("api");
      const hooks = express();
      hooks.use(express.text({ type: () => true }));
      hooks.post("/hook", (req, res) => {
        // The first delivery fails, so the relayer must retry it.
        if (failWebhooks-- > 0) return void res.status(500).end();
        webhooks.push({ body: req.body as string, signature: req.get("twei-signature") });
        res.status(204).end();
      });
      webhookServer = await new Promise<Server>((resolve) => {
        const server = hooks.listen(0, "127.0.0.1", () => resolve(server));
      });
      const port = (webhookServer.address() as { port: number }).port;
      site = await addSite(chain, dir, SITE, { webhookUrl: `http://127.0.0.1:${port}/hook`, databaseUrl: db?.url });
      otherSite = await addSite(chain, dir, OTHER_SITE, { databaseUrl: db?.url });
      const relayer = await startTestRelayer(chain, dir, {
        ...(db ? { databaseUrl: db.url } : {}),
        siteCacheMs: 0,
        webhooks: { intervalMs: 100, backoffMs: 100 },
      });
      url = relayer.url;
      stopRelayer = () => relayer.stop();
      author = chain.user(0).address;
      reader = chain.user(1).address;
      await chain.seed(SITE, [{ account: author, kind: ActionKind.CommentRewards, units: 10 }]);
      await chain.approveLedger(chain.user(0));
    });

    after(async function () {
      await stopRelayer?.();
      webhookServer?.close();
      await chain?.stop();
      await db?.stop();
      await removeDir(dir);
    });

    describe("health and metrics", function () {
      it("answers /healthz, and /readyz with the database, chain, settlement and gas money checked", async function () {
        expect((await call(url, "/healthz")).json).to.deep.equal({ status: "ok" });
        const ready = await call(url, "/readyz");
        expect(ready.status).to.equal(200);
        const balance = await chain.publicClient.getBalance({ address: chain.relayerAddress });
        expect(ready.json.checks).to.deep.equal({
          database: true,
          chain: true,
          settlement: "open",
          balance: balance.toString(),
        });
      });

      it("serves unknown routes a 404 problem", async function () {
        const answer = await call(url, "/v1/nothing");
        expect([answer.status, answer.json.code]).to.deep.equal([404, "not_found"]);
        expect(answer.headers.get("content-type")).to.match(/application\/problem\+json/);
      });
    });

    describe("POST /v1/events", function () {
      it("accepts events, settles them on-chain and pays exactly the rule set's amounts", async function () {
        const client = clientFor(chain, url, site);
        const answer = await client.sendEvents([
          { eventId: "pub-1", type: "post_published", occurredAt: 1, user: author, postId: "post-1", wordCount: 200 },
          { eventId: "read-1", type: "post_read", occurredAt: 2, user: reader, postId: "post-1", secondsRead: 30 },
        ]);
        expect(answer.counts).to.deep.equal({ accepted: 2, duplicate: 0, conflict: 0, rejected: 0 });
        const settled = await waitFor("read-1 settled", async () => {
          const event = await client.event("read-1");
          return event.status === "settled" ? event : undefined;
        });
        expect(settled.txHash).to.match(/^0x[0-9a-f]{64}$/);
        expect(settled.blockNumber).to.match(/^\d+$/);
        expect(await chain.balanceOf(reader)).to.equal(amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.ReadToEarn, 5_000));
        // 10 Comment Rewards seeded, 5 Twei publishing tribute burned.
        expect(await chain.balanceOf(author)).to.equal(twei("20") - twei("5"));
      });

      it("answers every event's fate: accepted, duplicate, conflict and rejected with a reason", async function () {
        const client = clientFor(chain, url, site);
        const answer = await client.sendEvents([
          { eventId: "read-1", type: "post_read", occurredAt: 2, user: reader, postId: "post-1", secondsRead: 30 },
          { eventId: "pub-1", type: "post_published", occurredAt: 9, user: author, postId: "post-1", wordCount: 201 },
          { eventId: "self-read", type: "post_read", occurredAt: 3, user: author, postId: "post-1", secondsRead: 60 },
          { eventId: "plus-1", type: "post_plus", occurredAt: 4, user: reader, postId: "post-1" },
        ]);
        expect(answer.results.map((r) => [r.eventId, r.status, "code" in r ? r.code : null])).to.deep.equal([
          ["read-1", "duplicate", "duplicate"],
          ["pub-1", "conflict", "event_id_conflict"],
          ["self-read", "rejected", "self_read"],
          ["plus-1", "accepted", null],
        ]);
      });

      it("applies once-per rules within one request too", async function () {
        const client = clientFor(chain, url, site);
        const reader2 = chain.user(3).address;
        const answer = await client.sendEvents([
          { eventId: "twice-1", type: "post_read", occurredAt: 7, user: reader2, postId: "post-1", secondsRead: 60 },
          { eventId: "twice-2", type: "post_read", occurredAt: 8, user: reader2, postId: "post-1", secondsRead: 60 },
        ]);
        expect(answer.results.map((r) => ("code" in r ? r.code : r.status))).to.deep.equal([
          "accepted",
          "already_read",
        ]);
      });

      it("pays Comment Rewards only from level 13, reading the level from what the chain minted", async function () {
        const client = clientFor(chain, url, site);
        const veteran = chain.user(4);
        const novice = chain.user(5);
        // 36 Comment Rewards of 2 Twei: 72 Twei earned on-chain, level 13; the novice has 1 Twei.
        await chain.seed(SITE, [
          { account: veteran.address, kind: ActionKind.CommentRewards, units: 36 },
          { account: novice.address, kind: ActionKind.ReadToEarn, units: 10_000 },
        ]);
        await chain.approveLedger(veteran);
        await chain.approveLedger(novice);
        const answer = await client.sendEvents([
          {
            eventId: "cv",
            type: "comment_created",
            occurredAt: 9,
            user: veteran.address,
            postId: "post-1",
            commentId: "cv",
            length: 80,
          },
          {
            eventId: "cn",
            type: "comment_created",
            occurredAt: 9,
            user: novice.address,
            postId: "post-1",
            commentId: "cn",
            length: 80,
          },
        ]);
        expect(answer.results[0]).to.deep.equal({ eventId: "cv", status: "accepted", actions: 2 });
        expect(answer.results[1]).to.deep.include({ eventId: "cn", status: "accepted", actions: 1 });
        expect(JSON.stringify(answer.results[1])).to.match(/level 2 is below 13/);
        const user = await call(url, `/v1/users/${veteran.address}`);
        expect(user.json).to.deep.include({ earned: twei("72").toString(), level: 13 });
      });

      it("treats a replayed request as duplicates, and a nonce reused for other events as a 409", async function () {
        const client = clientFor(chain, url, site);
        const events: SiteEventInput[] = [
          { eventId: "report-1", type: "report_purchased", occurredAt: 5, user: author, postId: "post-1" },
        ];
        const { body } = await client.signEvents(events, 777n);
        const first = await call(url, "/v1/events", { method: "POST", key: site.apiKey, body });
        expect(first.json.counts).to.deep.include({ accepted: 1 });
        const replay = await call(url, "/v1/events", { method: "POST", key: site.apiKey, body });
        expect([replay.status, replay.json.counts]).to.deep.equal([
          200,
          { accepted: 0, duplicate: 1, conflict: 0, rejected: 0 },
        ]);
        await expectProblem(
          client.sendEvents([{ ...events[0], eventId: "report-2" } as SiteEventInput], { nonce: 777n }),
          409,
          "nonce_reused",
        );
      });

      it("answers 422 when the rules reject every event", async function () {
        const client = clientFor(chain, url, site);
        const problem = await expectProblem(
          client.sendEvents([{ eventId: "ghost", type: "post_plus", occurredAt: 1, user: reader, postId: "no-post" }]),
          422,
          "events_rejected",
        );
        expect(problem.problem.results).to.deep.equal([
          {
            eventId: "ghost",
            status: "rejected",
            code: "unknown_post",
            message: "post no-post was not published through the relayer",
          },
        ]);
      });

      it("rejects a spend the user cannot cover with balance and allowance, less what is pending", async function () {
        const client = clientFor(chain, url, site);
        // User 2 holds nothing and never allowed the ledger anything.
        const answer = await client.sendEvents([
          { eventId: "minus-poor", type: "post_minus", occurredAt: 1, user: chain.user(2).address, postId: "post-1" },
          { eventId: "report-3", type: "report_purchased", occurredAt: 1, user: author, postId: "post-1" },
        ]);
        expect(answer.results[0]).to.deep.include({ status: "rejected", code: "insufficient_funds" });
        expect(answer.results[1]).to.deep.include({ status: "accepted" });
      });

      it("refuses requests without a valid API key (401)", async function () {
        expect((await call(url, "/v1/events", { method: "POST", body: "{}" })).json.code).to.equal("unauthorized");
        const wrong = await call(url, "/v1/events", { method: "POST", key: "twei_11_nope", body: "{}" });
        expect([wrong.status, wrong.json.code]).to.deep.equal([401, "unauthorized"]);
      });

      it("names each bad field of an invalid body (400) and malformed JSON", async function () {
        const bad = await call(url, "/v1/events", {
          method: "POST",
          key: site.apiKey,
          body: JSON.stringify({
            siteId: SITE,
            nonce: "1",
            signature: "0x12",
            events: [{ eventId: "x", type: "post_read", occurredAt: 1, user: "0xnope", postId: "p", secondsRead: -1 }],
          }),
        });
        expect([bad.status, bad.json.code]).to.deep.equal([400, "invalid_request"]);
        expect((bad.json.errors as { path: string }[]).map((e) => e.path)).to.have.members([
          "signature",
          "events.0.user",
          "events.0.secondsRead",
        ]);
        const malformed = await call(url, "/v1/events", { method: "POST", key: site.apiKey, body: "{nope" });
        expect([malformed.status, malformed.json.code]).to.deep.equal([400, "malformed_json"]);
        const tooMany = await clientFor(chain, url, site)
          .sendEvents(
            Array.from({ length: 1_001 }, (_, i) => ({
              eventId: `m-${i}`,
              type: "post_plus" as const,
              occurredAt: 1,
              user: reader,
              postId: "post-1",
            })),
          )
          .catch((error: unknown) => error as TweiApiError);
        expect((tooMany as TweiApiError).status).to.equal(400);
        expect(JSON.stringify((tooMany as TweiApiError).problem.errors)).to.contain('"path":"events"');
      });

      it("refuses an oversized body with 413 and survives it", async function () {
        const answer = await call(url, "/v1/events", { method: "POST", key: site.apiKey, body: "x".repeat(1_200_000) });
        expect([answer.status, answer.json.code]).to.deep.equal([413, "payload_too_large"]);
        expect(answer.text).to.not.match(/at .*\.ts:\d+/);
        expect((await call(url, "/healthz")).status).to.equal(200);
      });

      it("refuses a forged envelope: signed by another key (403)", async function () {
        const forger = createTweiClient({
          url,
          apiKey: site.apiKey,
          siteId: SITE,
          signer: privateKeyToAccount(generatePrivateKey()),
          chainId: CHAIN_ID,
          ledger: chain.deployed.ledger,
        });
        await expectProblem(
          forger.sendEvents([
            { eventId: "forged", type: "post_plus", occurredAt: 1, user: chain.user(2).address, postId: "post-1" },
          ]),
          403,
          "invalid_signature",
        );
        const stillNew = await call(url, `/v1/events/${SITE}/forged`, { key: site.apiKey });
        expect(stillNew.status).to.equal(404);
      });

      it("refuses an envelope signed for another chain id or ledger (403)", async function () {
        for (const [chainId, ledger] of [
          [1, chain.deployed.ledger],
          [CHAIN_ID, chain.deployed.token],
        ] as const) {
          const client = createTweiClient({
            url,
            apiKey: site.apiKey,
            siteId: SITE,
            signer: site.signer,
            chainId,
            ledger,
          });
          await expectProblem(
            client.sendEvents([
              {
                eventId: "wrong-domain",
                type: "post_plus",
                occurredAt: 1,
                user: chain.user(2).address,
                postId: "post-1",
              },
            ]),
            403,
            "invalid_signature",
          );
        }
      });

      it("refuses an envelope for another site than the key's (403)", async function () {
        const client = createTweiClient({
          url,
          apiKey: site.apiKey,
          siteId: OTHER_SITE,
          signer: otherSite.signer,
          chainId: CHAIN_ID,
          ledger: chain.deployed.ledger,
        });
        await expectProblem(
          client.sendEvents([{ eventId: "x", type: "post_plus", occurredAt: 1, user: reader, postId: "post-1" }]),
          403,
          "site_mismatch",
        );
      });

      it("refuses events of a site deactivated on-chain (403), and accepts them again once reactivated", async function () {
        const client = clientFor(chain, url, otherSite);
        const event: SiteEventInput = {
          eventId: "o-1",
          type: "post_published",
          occurredAt: 1,
          user: author,
          postId: "o-post",
          wordCount: 10,
        };
        await chain.setSiteActive(OTHER_SITE, false);
        await expectProblem(client.sendEvents([event]), 403, "site_inactive");
        await chain.setSiteActive(OTHER_SITE, true);
        expect((await client.sendEvents([event])).counts.accepted).to.equal(1);
      });
    });

    describe("GET /v1/events/:siteId/:eventId and /v1/batches/:batchId", function () {
      it("gives a settled event's batch, transaction and a merkle proof of it against the on-chain root", async function () {
        const client = clientFor(chain, url, site);
        const event = await waitFor("plus-1 settled", async () => {
          const e = await client.event("plus-1");
          return e.status === "settled" ? e : undefined;
        });
        const batch = await client.batch(event.batchId as string);
        const evidence = batchEvidenceSchema.parse(batch);
        const logs = await chain.publicClient.getContractEvents({
          address: chain.deployed.ledger,
          abi: tweiLedgerAbi,
          eventName: "BatchSettled",
          args: { batchId: BigInt(evidence.batchId) },
          fromBlock: 0n,
        });
        const onChainRoot = logs[0]?.args.evidenceRoot as Hex;
        expect(onChainRoot).to.equal(evidence.evidenceRoot);
        expect(logs[0]?.args.actions).to.equal(evidence.actions);
        const envelope = event.envelope as { digest: Hex; index: number };
        expect(
          verifyEvidenceProof(
            onChainRoot,
            { eventHash: event.eventHash as Hex, envelopeDigest: envelope.digest, index: envelope.index },
            event.proof as Hex[],
            { position: event.leafIndex as number, version: 2 },
          ),
        ).to.equal(true);
        expect(batch.onChain).to.deep.equal({ settled: true });
        // The auditor's check: from the evidence alone plus the chain.
        expect(await verifyBatchEvidence({ evidence, siteSigner: site.signer.address, onChainRoot })).to.deep.equal([]);
      });

      it("answers 404 for unknown events and batches, 403 for another site's events, 400 for bad ids", async function () {
        expect((await call(url, `/v1/events/${SITE}/nope`, { key: site.apiKey })).json.code).to.equal(
          "event_not_found",
        );
        expect((await call(url, `/v1/events/${SITE}/pub-1`, { key: otherSite.apiKey })).json.code).to.equal(
          "site_mismatch",
        );
        expect((await call(url, "/v1/batches/999999")).json.code).to.equal("batch_not_found");
        expect((await call(url, "/v1/batches/0x1")).status).to.equal(400);
      });
    });

    describe("GET /v1/users/:address and POST /v1/permits", function () {
      it("shows balance, allowance, level and pending earnings and spends", async function () {
        const user = await call(url, `/v1/users/${reader.toLowerCase()}`);
        expect(user.json).to.deep.include({
          address: reader,
          balance: amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.ReadToEarn, 5_000).toString(),
          allowance: "0",
          earned: amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.ReadToEarn, 5_000).toString(),
          level: 2, // 0.5 Twei earned reaches level 2 on the public curve
          chainReachable: true,
        });
        expect((await call(url, "/v1/users/0x1234")).json.code).to.equal("invalid_request");
      });

      it("submits a user's permit for the ledger (gasless) and rejects a forged one (422)", async function () {
        const owner = privateKeyToAccount(generatePrivateKey());
        const deadline = BigInt(Math.floor(Date.now() / 1000) + 3_600);
        const client = clientFor(chain, url, site);
        const permit = { owner: owner.address, value: twei("50"), deadline };
        const forged = await signLedgerPermit({
          owner: privateKeyToAccount(generatePrivateKey()),
          token: chain.deployed.token,
          ledger: chain.deployed.ledger,
          chainId: CHAIN_ID,
          value: permit.value,
          nonce: 0n,
          deadline,
        });
        await expectProblem(client.submitPermit({ ...permit, signature: forged }), 422, "invalid_permit");
        const signature = await signLedgerPermit({
          owner,
          token: chain.deployed.token,
          ledger: chain.deployed.ledger,
          chainId: CHAIN_ID,
          value: permit.value,
          nonce: 0n,
          deadline,
        });
        const answer = await client.submitPermit({ ...permit, signature });
        expect(answer.txHash).to.match(/^0x[0-9a-f]{64}$/);
        const allowance = await chain.publicClient.readContract({
          address: chain.deployed.token,
          abi: tweiAbi,
          functionName: "allowance",
          args: [owner.address, chain.deployed.ledger],
        });
        expect(allowance).to.equal(twei("50"));
        // The same permit again, as when someone else submitted it first (front-running): its
        // nonce is used and the allowance is in place, so it is answered as done, not as an error.
        const again = (await client.submitPermit({ ...permit, signature })) as unknown as Record<string, unknown>;
        expect(again).to.deep.include({
          status: "in_effect",
          allowance: twei("50").toString(),
          nonce: "0",
          txHash: null,
        });
      });
    });

    describe("rate limits", function () {
      it("answers 429 with Retry-After once a site is over its rate", async function () {
        const limitedDir = await tempDir("api-limited");
        const limitedSite = await addSite(chain, limitedDir, 13, { databaseUrl: db?.url });
        const limited = await startTestRelayer(chain, limitedDir, {
          ratePerSecond: 0.2,
          rateBurst: 2,
          settle: false,
          ...(db ? { databaseUrl: db.url } : {}),
        });
        try {
          const statuses: number[] = [];
          let retryAfter: string | null = null;
          for (let i = 0; i < 3; i++) {
            const answer = await call(limited.url, "/v1/events/13/none", { key: limitedSite.apiKey });
            statuses.push(answer.status);
            if (answer.status === 429) retryAfter = answer.headers.get("retry-after");
          }
          expect(statuses).to.deep.equal([404, 404, 429]);
          expect(Number(retryAfter)).to.be.within(1, 5);
        } finally {
          await limited.stop();
          await removeDir(limitedDir);
        }
      });

      it("limits the public routes per client address, and checks the API key before reading a body", async function () {
        const limitedDir = await tempDir("api-public-limited");
        const limited = await startTestRelayer(chain, limitedDir, {
          publicRatePerSecond: 0.2,
          publicRateBurst: 2,
          settle: false,
          ...(db ? { databaseUrl: db.url } : {}),
        });
        try {
          const answers = [];
          for (const path of [`/v1/users/${reader}`, "/v1/batches/999999", `/v1/users/${reader}`])
            answers.push(await call(limited.url, path));
          expect(answers.map((a) => a.status)).to.deep.equal([200, 404, 429]);
          expect(answers[2]?.json.code).to.equal("rate_limited");
          expect(Number(answers[2]?.headers.get("retry-after"))).to.be.within(1, 5);
          // The health routes are not limited.
          expect((await call(limited.url, "/healthz")).status).to.equal(200);
          // A body over the size limit without an API key: 401, not 413 (the body was never read).
          const huge = "x".repeat(MAX_BODY_BYTES * 2);
          for (const path of ["/v1/events", "/v1/permits"]) {
            const answer = await call(limited.url, path, { method: "POST", body: huge });
            expect([answer.status, answer.json.code]).to.deep.equal([401, "unauthorized"]);
          }
        } finally {
          await limited.stop();
          await removeDir(limitedDir);
        }
      });
    });

    describe("webhooks and metrics", function () {
      it("posts each settled event to the site's webhook, signed, retrying a failed delivery", async function () {
        const delivery = await waitFor("webhook for read-1", async () =>
          webhooks.find((w) => (JSON.parse(w.body) as { eventId: string }).eventId === "read-1"),
        );
        expect(failWebhooks).to.be.below(0);
        expect(verifyWebhook(site.webhookSecret as string, delivery.signature, delivery.body)).to.equal(true);
        expect(verifyWebhook("another secret", delivery.signature, delivery.body)).to.equal(false);
        const payload = JSON.parse(delivery.body) as { type: string; actions: { actionIndex: number }[] };
        expect(payload.type).to.equal("event.settled");
        expect(payload.actions).to.deep.equal([
          {
            actionIndex: payload.actions[0]?.actionIndex,
            kind: ActionKind.ReadToEarn,
            label: "Read-to-Earn",
            account: reader,
            units: 5_000,
            amount: amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.ReadToEarn, 5_000).toString(),
            paid: true,
          },
        ]);
      });

      it("counts events by outcome, batches, gas and the queue in /metrics", async function () {
        const metrics = (await call(url, "/metrics")).text;
        expect(metrics).to.match(/twei_relayer_events_total\{outcome="accepted"\} [1-9]/);
        expect(metrics).to.match(/twei_relayer_events_total\{outcome="rejected"\} [1-9]/);
        expect(metrics).to.match(/twei_relayer_batches_total\{outcome="settled"\} [1-9]/);
        expect(metrics).to.match(/twei_relayer_gas_used_total [1-9]/);
        expect(metrics).to.match(/twei_relayer_queue_depth \d/);
        expect(metrics).to.match(/twei_relayer_settlement_latency_seconds_count [1-9]/);
      });
    });
  });
