import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "mocha";
import { privateKeyToAddress } from "viem/accounts";
import {
  decryptKeystore,
  KeystoreInvalidError,
  KeystorePasswordError,
} from "../../src/site/gateway/decryptKeystore.js";
import { parseGatewayEnv } from "../../src/site/gateway/gatewayConfig.js";

const KEY = `0x${"11".repeat(32)}`;
/**
 * The Web3 Secret Storage definition's test vectors (ethereum.org, "Web3 Secret Storage
 * Definition"): what geth, clef and ethers read, not something this code wrote itself.
 */
const VECTOR = {
  password: "testpassword",
  key: "0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d",
  address: "008aeeda4d805471df9b2a5b0f38a0c3bcba786b",
  pbkdf2: {
    crypto: {
      cipher: "aes-128-ctr",
      cipherparams: { iv: "6087dab2f9fdbbfaddc31a909735c1e6" },
      ciphertext: "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
      kdf: "pbkdf2",
      kdfparams: {
        c: 262144,
        dklen: 32,
        prf: "hmac-sha256",
        salt: "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd",
      },
      mac: "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2",
    },
    id: "3198bc9c-6672-5ab3-d995-4942343ae5b6",
    version: 3,
  },
  /** The same key under scrypt at n 2^18, r 1, p 8: beyond RFC 7914's n < 2^(16·r), which OpenSSL enforces. */
  scrypt: {
    crypto: {
      cipher: "aes-128-ctr",
      cipherparams: { iv: "83dbcc02d8ccb40e466191a123791e0e" },
      ciphertext: "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
      kdf: "scrypt",
      kdfparams: {
        dklen: 32,
        n: 262144,
        r: 1,
        p: 8,
        salt: "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19",
      },
      mac: "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097",
    },
    id: "3198bc9c-6672-5ab3-d995-4942343ae5b6",
    version: 3,
  },
};

/** go-ethereum's accounts/keystore/testdata/very-light-scrypt.json: scrypt (r 8), the empty password, its address named. */
const GETH_LIGHT = {
  address: "45dea0fb0bba44f4fcf290bba71fd57d7117cbb8",
  crypto: {
    cipher: "aes-128-ctr",
    ciphertext: "b87781948a1befd247bff51ef4063f716cf6c2d3481163e9a8f42e1f9bb74145",
    cipherparams: { iv: "dc4926b48a105133d2f16b96833abf1e" },
    kdf: "scrypt",
    kdfparams: {
      dklen: 32,
      n: 2,
      p: 1,
      r: 8,
      salt: "004244bbdc51cadda545b1cfa43cff9ed2ae88e08c61f1479dbb45410722f8f0",
    },
    mac: "39990c1684557447940d4c69e06b1b82b2aceacb43f284df65c956daf3046b85",
  },
  id: "ce541d8d-c79b-40f8-9f8c-20f59616faba",
  version: 3,
};

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

  it("opens an encrypted keystore (Web3 Secret Storage v3, scrypt or pbkdf2) with its password", async function () {
    this.timeout(30_000);
    expect(decryptKeystore(JSON.stringify(VECTOR.pbkdf2), VECTOR.password)).to.equal(VECTOR.key);
    // geth's file names its address: the key decrypted must be that address's.
    const light = decryptKeystore(JSON.stringify(GETH_LIGHT), "");
    expect(privateKeyToAddress(light).toLowerCase()).to.equal(`0x${GETH_LIGHT.address}`);
    expect(() => decryptKeystore(JSON.stringify(GETH_LIGHT), "bad")).to.throw(KeystorePasswordError);
    // A file that names its address holds that address's key.
    const named = { ...VECTOR.pbkdf2, address: VECTOR.address };
    expect(decryptKeystore(JSON.stringify(named), VECTOR.password)).to.equal(VECTOR.key);
    expect(() => decryptKeystore(JSON.stringify({ ...named, address: "11".repeat(20) }), VECTOR.password)).to.throw(
      KeystoreInvalidError,
      /address: not the address of the key/,
    );

    const dir = await mkdtemp(join(tmpdir(), "twei-gateway-keystore-"));
    try {
      const file = join(dir, "signer.json");
      await writeFile(file, JSON.stringify(VECTOR.pbkdf2));
      const env = {
        ...base,
        TWEI_SITE_SIGNER_KEY: undefined,
        TWEI_SITE_SIGNER_KEYSTORE: file,
        TWEI_SITE_SIGNER_KEYSTORE_PASSWORD: VECTOR.password,
      };
      expect(parseGatewayEnv(env).signerKey).to.equal(VECTOR.key);
      await writeFile(join(dir, "geth.json"), JSON.stringify(GETH_LIGHT));
      expect(
        parseGatewayEnv({
          ...env,
          TWEI_SITE_SIGNER_KEYSTORE: join(dir, "geth.json"),
          TWEI_SITE_SIGNER_KEYSTORE_PASSWORD: "",
        }).signerKey,
      ).to.equal(light);
      // A wrong password is said as such, and never echoed.
      let message = "";
      try {
        parseGatewayEnv({ ...env, TWEI_SITE_SIGNER_KEYSTORE_PASSWORD: "wrong-password-42" });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).to.match(/^TWEI_SITE_SIGNER_KEYSTORE: the password does not open the keystore/);
      expect(message).not.to.contain("wrong-password-42");
      expect(() => parseGatewayEnv({ ...env, TWEI_SITE_SIGNER_KEYSTORE_PASSWORD: undefined })).to.throw(
        /TWEI_SITE_SIGNER_KEYSTORE_PASSWORD: TWEI_SITE_SIGNER_KEYSTORE and TWEI_SITE_SIGNER_KEYSTORE_PASSWORD go together/,
      );
      expect(() => parseGatewayEnv({ ...env, TWEI_SITE_SIGNER_KEY: KEY })).to.throw(/set one of/);
      expect(() =>
        parseGatewayEnv({ ...env, TWEI_SITE_SIGNER_KEYSTORE: join(process.cwd(), "package.json") }),
      ).to.throw(/git repository tracks this file/);
      expect(() => parseGatewayEnv({ ...env, TWEI_SITE_SIGNER_KEYSTORE: join(dir, "absent.json") })).to.throw(
        /TWEI_SITE_SIGNER_KEYSTORE: cannot read the file \(ENOENT\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a keystore it cannot read, or whose KDF would cost more than a wallet's, before deriving", function () {
    const withParams = (kdfparams: Record<string, unknown>) =>
      JSON.stringify({ ...VECTOR.scrypt, crypto: { ...VECTOR.scrypt.crypto, kdfparams } });
    const { kdfparams } = VECTOR.scrypt.crypto;
    // 2^30 × r 8 would ask for a terabyte: refused by its bounds, at once.
    expect(() => decryptKeystore(withParams({ ...kdfparams, n: 2 ** 30, r: 8 }), VECTOR.password)).to.throw(
      KeystoreInvalidError,
      /crypto\.kdfparams\.n/,
    );
    expect(() => decryptKeystore(withParams({ ...kdfparams, n: 1000 }), VECTOR.password)).to.throw(/power of two/);
    // The wiki's scrypt vector (r 1, n 2^18) is beyond RFC 7914: said so, not a misleading OpenSSL "memory limit".
    expect(() => decryptKeystore(JSON.stringify(VECTOR.scrypt), VECTOR.password)).to.throw(
      KeystoreInvalidError,
      /crypto\.kdfparams\.n: n must be below 2\^\(16·r\) \(RFC 7914\)/,
    );
    expect(() => decryptKeystore("{not json", VECTOR.password)).to.throw(KeystoreInvalidError, /not JSON/);
    expect(() => decryptKeystore(JSON.stringify({ ...VECTOR.pbkdf2, version: 1 }), VECTOR.password)).to.throw(
      KeystoreInvalidError,
      /version/,
    );
    expect(() =>
      decryptKeystore(
        JSON.stringify({ ...VECTOR.pbkdf2, crypto: { ...VECTOR.pbkdf2.crypto, cipher: "aes-256-cbc" } }),
        VECTOR.password,
      ),
    ).to.throw(KeystoreInvalidError, /cipher/);
    // A tampered ciphertext fails the MAC like a wrong password: nothing is decrypted.
    const tampered = { ...VECTOR.pbkdf2.crypto, ciphertext: `00${VECTOR.pbkdf2.crypto.ciphertext.slice(2)}` };
    expect(() => decryptKeystore(JSON.stringify({ ...VECTOR.pbkdf2, crypto: tampered }), VECTOR.password)).to.throw(
      KeystorePasswordError,
    );
  });
});
