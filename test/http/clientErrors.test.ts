import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { parseUnits, recoverTypedDataAddress, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { TweiApiError } from "../../src/sdk/createTweiClient.js";
import { PERMIT_TYPES, signLedgerPermit } from "../../src/sdk/signLedgerPermit.js";
import { startHostileStack, type HostileStack } from "./helpers/hostileStack.js";
import { rawRequest, type RawResponse } from "./helpers/rawRequest.js";

/** A problem answer with this status and code, no stack and no Retry-After unless asked. */
function expectProblem(answer: RawResponse, status: number, code: string): void {
  expect([answer.status, answer.json?.code], answer.text).to.deep.equal([status, code]);
  expect(answer.headers["content-type"]).to.match(/^application\/problem\+json/);
  expect(answer.text).not.to.match(/\bat .+:\d+:\d+|node_modules|URIError|ZlibError|Z_DATA_ERROR/);
}

/**
 * The 26 answers of issue 24's hostile-input run that were 500 (or a misleading 503) for the
 * client's own mistakes, each asked again of the real apps: the relayer, the indexer and the
 * site, in-process, against real SQLite stores and a real Hardhat node.
 */
describe("client errors are 4xx with a precise code on the relayer, the indexer and the site", function () {
  this.timeout(120_000);
  let stack: HostileStack;

  before(async function () {
    stack = await startHostileStack();
  });

  after(async function () {
    await stack?.stop();
  });

  describe("a malformed percent-escape in a path parameter is 400 malformed_path, logged below error level", function () {
    const cases: [app: "relayer" | "indexer" | "site", method: string, path: string, authenticated?: boolean][] = [
      ["relayer", "GET", "/v1/batches/%"],
      ["relayer", "GET", "/v1/users/%"],
      ["relayer", "GET", "/v1/users/%E0%A4%A"],
      ["relayer", "GET", "/v1/events/1/%", true],
      ["relayer", "GET", "/v1/events/%zz/x", true],
      ["indexer", "GET", "/v1/users/%"],
      ["indexer", "GET", "/v1/posts/%/report"],
      ["indexer", "GET", "/v1/report-instances/%ff"],
      ["site", "GET", "/articles/%"],
      ["site", "GET", "/twei/api/posts/%"],
      ["site", "GET", "/twei/api/tx/%"],
      ["site", "POST", "/twei/api/posts/%/heartbeat"],
      ["site", "POST", "/twei/api/posts/x/comments/%C0%80/reaction"],
    ];
    for (const [app, method, path, authenticated] of cases)
      it(`${app}: ${method} ${path}`, async function () {
        const errorsBefore = stack.relayerLog.lines.filter((l) => Number(l.level) >= 50).length;
        const answer = await rawRequest(stack.urls[app], {
          method,
          path,
          headers: {
            "content-type": "application/json",
            ...(authenticated ? { authorization: `Bearer ${stack.site.apiKey}` } : {}),
          },
          ...(method === "POST" ? { body: "{}" } : {}),
        });
        expectProblem(answer, 400, "malformed_path");
        expect(stack.relayerLog.lines.filter((l) => Number(l.level) >= 50).length).to.equal(errorsBefore);
        expect(stack.indexerLog.lines.filter((l) => Number(l.level) >= 50)).to.deep.equal([]);
        expect(stack.siteErrors).to.deep.equal([]);
      });
  });

  describe("a body that does not decode as its Content-Encoding says is 400 malformed_body_encoding", function () {
    const plain = Buffer.from(JSON.stringify({ address: "0x0000000000000000000000000000000000000001" }));
    const bodies: [encoding: string, body: Buffer][] = [
      ["gzip", plain],
      ["br", plain],
      ["deflate", plain],
      ["gzip", gzipSync(plain).subarray(0, 12)],
      ["br", brotliCompressSync(plain).subarray(0, 3)],
    ];
    const routes: [app: "relayer" | "site", path: string, authenticated: boolean][] = [
      ["relayer", "/v1/events", true],
      ["relayer", "/v1/permits", true],
      ["site", "/twei/api/siwe/message", false],
    ];
    for (const [app, path, authenticated] of routes)
      for (const [encoding, body] of bodies)
        it(`${app}: POST ${path} with content-encoding ${encoding} over ${body.length} bytes that are not ${encoding}`, async function () {
          const answer = await rawRequest(stack.urls[app], {
            method: "POST",
            path,
            headers: {
              "content-type": "application/json",
              "content-encoding": encoding,
              ...(authenticated ? { authorization: `Bearer ${stack.site.apiKey}` } : {}),
            },
            body,
          });
          expectProblem(answer, 400, "malformed_body_encoding");
          expect(stack.siteErrors).to.deep.equal([]);
        });

    it("still reads a body that is what its Content-Encoding says (gzip and br)", async function () {
      for (const body of [gzipSync(plain), brotliCompressSync(plain)]) {
        const answer = await rawRequest(stack.urls.site, {
          method: "POST",
          path: "/twei/api/siwe/message",
          headers: { "content-type": "application/json", "content-encoding": body[0] === 0x1f ? "gzip" : "br" },
          body,
        });
        expect(answer.status, answer.text).to.equal(200);
      }
    });
  });

  describe("POST /v1/permits with a signature that can never be valid is 422 invalid_permit, not 503", function () {
    let signature: Hex;
    const owner = privateKeyToAccount(generatePrivateKey());
    const value = parseUnits("5", 18);
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3_600);
    before(async function () {
      signature = await signLedgerPermit({
        owner,
        token: stack.chain.deployed.token,
        ledger: stack.chain.deployed.ledger,
        chainId: 31337,
        value,
        nonce: 0n,
        deadline,
      });
    });
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const hex32 = (x: bigint) => x.toString(16).padStart(64, "0");
    const broken: [what: string, change: (s: Hex) => Hex][] = [
      ["v = 5", (s) => `${s.slice(0, 130)}05` as Hex],
      ["v = 29", (s) => `${s.slice(0, 130)}1d` as Hex],
      ["v = 255", (s) => `${s.slice(0, 130)}ff` as Hex],
      ["r = 0", (s) => `0x${"0".repeat(64)}${s.slice(66)}` as Hex],
      ["s = 0", (s) => `${s.slice(0, 66)}${"0".repeat(64)}${s.slice(130)}` as Hex],
      ["r = n (the curve order)", (s) => `0x${hex32(n)}${s.slice(66)}` as Hex],
      ["s in the upper half (malleable)", (s) => `${s.slice(0, 66)}${hex32(n - 1n)}${s.slice(130)}` as Hex],
    ];
    for (const [what, change] of broken)
      it(`${what}: 422 invalid_permit without Retry-After, so the SDK does not retry it`, async function () {
        const blockBefore = await stack.chain.publicClient.getBlockNumber();
        const error = await stack.client
          .submitPermit({ owner: owner.address, value, deadline, signature: change(signature) })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).to.be.instanceOf(TweiApiError);
        const problem = error as TweiApiError;
        expect([problem.status, problem.code], problem.message).to.deep.equal([422, "invalid_permit"]);
        expect(problem.retryable).to.equal(false);
        expect(problem.problem.detail)
          .to.be.a("string")
          .and.not.match(/http:\/\//);
        const raw = await rawRequest(stack.urls.relayer, {
          method: "POST",
          path: "/v1/permits",
          headers: { "content-type": "application/json", authorization: `Bearer ${stack.site.apiKey}` },
          body: JSON.stringify({
            owner: owner.address,
            value: value.toString(),
            deadline: deadline.toString(),
            signature: change(signature),
          }),
        });
        expectProblem(raw, 422, "invalid_permit");
        expect(raw.headers["retry-after"]).to.equal(undefined);
        expect(await stack.chain.publicClient.getBlockNumber()).to.equal(blockBefore);
      });
  });

  describe("the demo wallet's eth_signTypedData_v4 answers 400 invalid_typed_data for typed data it cannot sign", function () {
    const account = "0x" + "0".repeat(40);
    const permitTypedData = (change: (data: Record<string, unknown>) => void) => {
      const data: Record<string, unknown> = {
        domain: { name: "Twei", version: "1", chainId: 31337, verifyingContract: "0x" + "11".repeat(20) },
        types: {
          EIP712Domain: [
            { name: "name", type: "string" },
            { name: "version", type: "string" },
            { name: "chainId", type: "uint256" },
            { name: "verifyingContract", type: "address" },
          ],
          ...PERMIT_TYPES,
        },
        primaryType: "Permit",
        message: {
          owner: "0x" + "22".repeat(20),
          spender: "0x" + "33".repeat(20),
          value: "1000",
          nonce: "0",
          deadline: "1900000000",
        },
      };
      change(data);
      return data;
    };
    const message = (data: Record<string, unknown>) => data.message as Record<string, unknown>;
    const cases: [what: string, change: (data: Record<string, unknown>) => void][] = [
      ['a uint of "abc"', (d) => void (message(d).value = "abc")],
      ["a uint of 1.5", (d) => void (message(d).value = 1.5)],
      ['a uint of "1.5"', (d) => void (message(d).nonce = "1.5")],
      ["a uint of 2^256", (d) => void (message(d).value = (2n ** 256n).toString())],
      ["a uint of -1", (d) => void (message(d).deadline = "-1")],
      ["a uint that is an object", (d) => void (message(d).value = { n: 1 })],
      ["a uint that is missing", (d) => void delete message(d).value],
      ["an address that is not one", (d) => void (message(d).owner = "0x1234")],
      ["a non-numeric chainId", (d) => void ((d.domain as Record<string, unknown>).chainId = "mainnet")],
      ["an unknown primaryType", (d) => void (d.primaryType = "Nope")],
      [
        "a recursive type",
        (d) => {
          d.types = { Node: [{ name: "next", type: "Node" }] };
          d.primaryType = "Node";
          d.message = { next: { next: {} } };
        },
      ],
      [
        "a type that names an unknown type",
        (d) => {
          d.types = { Thing: [{ name: "x", type: "Other" }] };
          d.primaryType = "Thing";
          d.message = { x: {} };
        },
      ],
    ];
    for (const [what, change] of cases)
      it(what, async function () {
        const demo = (await (await fetch(`${stack.urls.site}/twei/api/config`)).json()) as {
          demoWallet: { address: string }[];
        };
        const holder = demo.demoWallet[0]?.address ?? account;
        const answer = await rawRequest(stack.urls.site, {
          method: "POST",
          path: "/twei/api/demo-wallet",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            account: holder,
            method: "eth_signTypedData_v4",
            params: [holder, JSON.stringify(permitTypedData(change))],
          }),
        });
        expectProblem(answer, 400, "invalid_typed_data");
        expect(stack.siteErrors).to.deep.equal([]);
      });

    it("still signs the permit the site writes (the widget's allowance)", async function () {
      const demo = (await (await fetch(`${stack.urls.site}/twei/api/config`)).json()) as {
        demoWallet: { address: string }[];
      };
      const holder = demo.demoWallet[0]?.address ?? account;
      const answer = await rawRequest(stack.urls.site, {
        method: "POST",
        path: "/twei/api/demo-wallet",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          account: holder,
          method: "eth_signTypedData_v4",
          params: [holder, JSON.stringify(permitTypedData(() => {}))],
        }),
      });
      expect(answer.status, answer.text).to.equal(200);
      const signature = answer.json?.result as Hex;
      const data = permitTypedData(() => {});
      const signer = await recoverTypedDataAddress({
        domain: { name: "Twei", version: "1", chainId: 31337, verifyingContract: `0x${"11".repeat(20)}` },
        types: PERMIT_TYPES,
        primaryType: "Permit",
        message: {
          owner: (data.message as { owner: Hex }).owner,
          spender: `0x${"33".repeat(20)}`,
          value: 1000n,
          nonce: 0n,
          deadline: 1_900_000_000n,
        },
        signature,
      });
      expect(signer).to.equal(holder);
    });
  });
});
