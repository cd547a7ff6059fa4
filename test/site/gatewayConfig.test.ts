import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "mocha";
import { parseGatewayEnv } from "../../src/site/gateway/gatewayConfig.js";

const KEY = `0x${"11".repeat(32)}`;
const base = {
  TWEI_SITE_ORIGIN: "https://news.example",
  TWEI_SITE_NAME: "News",
  TWEI_SITE_ID: "3",
  TWEI_RELAYER_URL: "https://relayer.example",
  TWEI_INDEXER_URL: "https://indexer.example",
  TWEI_SITE_API_KEY: "an-api-key-of-the-site",
  TWEI_SITE_SIGNER_KEY: KEY,
  TWEI_GATEWAY_POSTS_KEY: "a-posts-key-of-the-site",
};

describe("the site gateway's configuration, validated whole at start-up", function () {
  it("takes a complete environment, the canonical origin always among the allowed ones", function () {
    const { env, signerKey, allowedOrigins } = parseGatewayEnv(
      { ...base, TWEI_GATEWAY_ALLOWED_ORIGINS: "https://www.news.example" },
      1,
    );
    expect(signerKey).to.equal(KEY);
    expect(env.TWEI_GATEWAY_PORT).to.equal(8790);
    expect(allowedOrigins).to.deep.equal(["https://news.example", "https://www.news.example"]);
  });

  it("names every bad variable, never a value", function () {
    const secret = "0xnot-a-key-but-secret";
    let message = "";
    try {
      parseGatewayEnv({ ...base, TWEI_SITE_SIGNER_KEY: secret, TWEI_SITE_ID: "x", TWEI_RELAYER_URL: undefined });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message)
      .to.match(/TWEI_SITE_SIGNER_KEY/)
      .and.match(/TWEI_SITE_ID/)
      .and.match(/TWEI_RELAYER_URL/);
    expect(message).not.to.contain(secret);
  });

  it("refuses plain http off a local chain, an origin with a path, and a gateway that cannot learn posts", function () {
    expect(() => parseGatewayEnv({ ...base, TWEI_SITE_ORIGIN: "http://news.example" }, 1)).to.throw(/must be https/);
    expect(() => parseGatewayEnv({ ...base, TWEI_SITE_ORIGIN: "https://news.example/blog" })).to.throw(/no path/);
    expect(() => parseGatewayEnv({ ...base, TWEI_GATEWAY_POSTS_KEY: undefined })).to.throw(/TWEI_GATEWAY_FEED_URL/);
  });

  it("takes the reverse proxy to trust (a hop count or addresses) for the per-IP limits, and refuses anything else", function () {
    expect(parseGatewayEnv(base).env.TWEI_TRUST_PROXY).to.equal(undefined);
    expect(parseGatewayEnv({ ...base, TWEI_TRUST_PROXY: "1" }).env.TWEI_TRUST_PROXY).to.equal(1);
    expect(parseGatewayEnv({ ...base, TWEI_TRUST_PROXY: "loopback, 10.0.0.0/8" }).env.TWEI_TRUST_PROXY).to.equal(
      "loopback, 10.0.0.0/8",
    );
    for (const bad of ["true", "everyone", "10.0.0.0/99"])
      expect(() => parseGatewayEnv({ ...base, TWEI_TRUST_PROXY: bad })).to.throw(/TWEI_TRUST_PROXY/);
  });

  it("reads the signer key from a file no git repository tracks, and refuses a tracked one", async function () {
    const dir = await mkdtemp(join(tmpdir(), "twei-gateway-key-"));
    try {
      const file = join(dir, "signer.key");
      await writeFile(file, `${KEY}\n`);
      const env = { ...base, TWEI_SITE_SIGNER_KEY: undefined, TWEI_SITE_SIGNER_KEY_FILE: file };
      expect(parseGatewayEnv(env).signerKey).to.equal(KEY);
      // package.json is tracked by this repository: a key file there would be committed.
      expect(() =>
        parseGatewayEnv({ ...env, TWEI_SITE_SIGNER_KEY_FILE: join(process.cwd(), "package.json") }),
      ).to.throw(/git repository tracks this file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
