import { secp256k1 } from "@noble/curves/secp256k1";
import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { numberToHex, type Hex } from "viem";
import { relayerEvidenceSource } from "../../src/auditor/evidenceSource.js";
import { runAudit } from "../../src/auditor/runAudit.js";
import type { BatchEvidence } from "../../src/evidence/batchEvidence.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import { publishEvent } from "./helpers/siteEvents.js";
import { CHAIN_ID, startTestChain, type TestChain, FREE_PUBLISHING_AMOUNTS } from "./helpers/testChain.js";
import {
  addSite,
  clientFor,
  removeDir,
  startTestRelayer,
  tempDir,
  waitFor,
  type TestSite,
} from "./helpers/testRelayer.js";

const SITE = 61;
const { n } = secp256k1.CURVE;

/** The same r and s with another last byte. */
const withV = (signature: Hex, v: number) => `${signature.slice(0, 130)}${numberToHex(v, { size: 1 }).slice(2)}` as Hex;
/** The malleable twin of a signature: s → n - s, the parity flipped (the same signer under a recovery that allows high s). */
const highS = (signature: Hex) => {
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130), 16);
  return `${signature.slice(0, 66)}${numberToHex(n - s, { size: 32 }).slice(2)}${numberToHex(v === 27 ? 28 : 27, { size: 1 }).slice(2)}` as Hex;
};

describe("relayer and auditor: one canonical signature per envelope (issue 24, finding 1)", function () {
  this.timeout(120_000);
  let chain: TestChain;
  let dir: string;
  let site: TestSite;
  let url: string;
  let stop: (() => Promise<void>) | undefined;
  let nonce = 1_000n;

  /** POSTs `events` signed by the site, with `tamper` applied to the signature; resolves to the answer. */
  async function post(events: SiteEventInput[], tamper: (signature: Hex) => Hex) {
    const client = clientFor(chain, url, site);
    const { body } = await client.signEvents(events, nonce++);
    const json = JSON.parse(body) as { signature: Hex };
    const response = await fetch(`${url}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${site.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ ...json, signature: tamper(json.signature) }),
    });
    return {
      status: response.status,
      json: (await response.json()) as Record<string, unknown>,
      signed: json.signature,
    };
  }

  before(async function () {
    // Publishing is free, so the site's events settle without allowances.
    chain = await startTestChain({
      ruleAmounts: FREE_PUBLISHING_AMOUNTS,
    });
    dir = await tempDir("canonical-signature");
    site = await addSite(chain, dir, SITE);
    // One verify worker: the first envelope caches the signer's key there, as in production after a moment.
    const relayer = await startTestRelayer(chain, dir, { verifyWorkers: 1 });
    url = relayer.url;
    stop = () => relayer.stop();
    const author = chain.user(0).address;
    expect((await post([publishEvent("warm", author, "p0")], (s) => s)).status).to.equal(200);
  });

  after(async function () {
    await stop?.();
    await chain?.stop();
    if (dir) await removeDir(dir);
  });

  it("refuses the other v, v = 0xff and the high-s twin at the door (403 invalid_signature, why named), with the signer's key cached", async function () {
    const author = chain.user(0).address;
    const flipped = await post([publishEvent("flipped", author, "p1")], (s) =>
      withV(s, Number.parseInt(s.slice(130), 16) === 27 ? 28 : 27),
    );
    expect([flipped.status, flipped.json.code]).to.deep.equal([403, "invalid_signature"]);
    expect(flipped.json.detail).to.match(/recovers to 0x[0-9a-fA-F]{40}, not to site 61's signer/);

    const ff = await post([publishEvent("v-ff", author, "p2")], (s) => withV(s, 0xff));
    expect([ff.status, ff.json.code, ff.json.detail]).to.deep.equal([
      403,
      "invalid_signature",
      "v is 255: it must be 27 or 28 (or 0 or 1)",
    ]);

    const high = await post([publishEvent("high-s", author, "p3")], highS);
    expect([high.status, high.json.code]).to.deep.equal([403, "invalid_signature"]);
    expect(high.json.detail).to.match(/upper half of the curve's order/);

    for (const eventId of ["flipped", "v-ff", "high-s"]) {
      const answer = await fetch(`${url}/v1/events/${SITE}/${eventId}`, {
        headers: { authorization: `Bearer ${site.apiKey}` },
      });
      expect(answer.status, eventId).to.equal(404);
    }
  });

  it("accepts v as the bare parity (0 or 1), stores and publishes it as 27 or 28, and the auditor finds nothing", async function () {
    const author = chain.user(0).address;
    const bare = await post([publishEvent("bare-v", author, "p4")], (s) =>
      withV(s, Number.parseInt(s.slice(130), 16) - 27),
    );
    expect(bare.status).to.equal(200);
    const client = clientFor(chain, url, site);
    const settled = await waitFor("the bare-v event settled", async () => {
      const event = await client.event("bare-v");
      return event.status === "settled" ? event : undefined;
    });
    const evidence = (await client.batch(BigInt(settled.batchId as string))) as unknown as BatchEvidence;
    // Its batch may hold an earlier test's envelope too (a loaded machine cuts batches later).
    const signatures = evidence.envelopes.map((envelope) => envelope.signature);
    expect(signatures).to.include(bare.signed.toLowerCase());
    for (const signature of signatures) expect(signature.slice(130)).to.be.oneOf(["1b", "1c"]);

    const result = await runAudit({
      publicClient: chain.publicClient,
      deployment: {
        chainId: CHAIN_ID,
        ledger: chain.deployed.ledger,
        token: chain.deployed.token,
        deploymentBlock: chain.deployed.deploymentBlock,
      },
      evidence: relayerEvidenceSource(url),
    });
    expect(result.discrepancies).to.deep.equal([]);
    expect(result.summary.events).to.equal(2);
  });
});
