import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "mocha";
import { createPublicClient, http, zeroAddress, type PublicClient } from "viem";
import { logQueryRefusal, type LogQueryRefusalReason } from "../../src/chain/logQueryRefusal.js";

/** What each RPC answers to an eth_getLogs it finds too big (as documented or seen in the wild). */
const ANSWERS: {
  provider: string;
  status?: number;
  code?: number;
  message?: string;
  want: LogQueryRefusalReason | undefined;
}[] = [
  {
    provider: "Infura / geth-like",
    code: -32005,
    message: "query returned more than 10000 results",
    want: "result-count",
  },
  {
    provider: "Alchemy",
    code: -32602,
    message:
      "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, or you can request any block range with a cap of 10K logs in the response. Based on your parameters, this block range should work: [0x10, 0x1f]",
    want: "result-count",
  },
  { provider: "QuickNode", code: -32614, message: "eth_getLogs is limited to a 10,000 range", want: "block-range" },
  { provider: "Ankr", code: -32600, message: "block range is too wide", want: "block-range" },
  { provider: "Chainstack", code: -32000, message: "Block range limit exceeded.", want: "block-range" },
  { provider: "Besu", code: -32005, message: "Requested range exceeds maximum range limit", want: "block-range" },
  { provider: "Cloudflare", code: -32047, message: "Exceeded max range of 800", want: "block-range" },
  {
    provider: "dRPC",
    code: 35,
    message: "ranges over 10000 blocks are not supported on freetier",
    want: "block-range",
  },
  { provider: "Erigon", code: -32000, message: "query exceeds max results 20000", want: "result-count" },
  {
    provider: "a size-capped gateway",
    code: -32000,
    message: "response size should not greater than 10485760 bytes",
    want: "response-size",
  },
  { provider: "a gateway's 413", status: 413, want: "response-size" },
  { provider: "geth's timeout", code: -32000, message: "query timeout exceeded", want: "timeout" },
  { provider: "a rate limit (not a size)", status: 429, want: undefined },
  {
    provider: "a bad filter (not a size)",
    code: -32602,
    message: "invalid argument 0: hex string without 0x prefix",
    want: undefined,
  },
];

describe("logQueryRefusal reads each provider's way of refusing a log query, over real HTTP", function () {
  let server: Server;
  let client: PublicClient;
  let answer: (typeof ANSWERS)[number];

  before(async function () {
    server = createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += String(chunk);
      const { id } = JSON.parse(body) as { id: number };
      if (answer.status) return res.writeHead(answer.status, { "content-type": "text/plain" }).end("refused");
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ jsonrpc: "2.0", id, error: { code: answer.code, message: answer.message } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = createPublicClient({ transport: http(url, { retryCount: 0 }) }) as PublicClient;
  });

  after(async function () {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  for (const each of ANSWERS)
    it(`${each.provider}: ${each.want ?? "not a refusal"}`, async function () {
      answer = each;
      const error = await client
        .getLogs({ address: zeroAddress, fromBlock: 0n, toBlock: 100n })
        .catch((e: unknown) => e);
      expect(error).to.be.instanceOf(Error);
      expect(logQueryRefusal(error)?.reason).to.equal(each.want);
    });

  it("keeps the range a provider suggests", async function () {
    answer = ANSWERS[1] as (typeof ANSWERS)[number];
    const error = await client.getLogs({ address: zeroAddress, fromBlock: 0n, toBlock: 100n }).catch((e: unknown) => e);
    expect(logQueryRefusal(error)?.suggested).to.deep.equal({ fromBlock: 16n, toBlock: 31n });
  });
});
