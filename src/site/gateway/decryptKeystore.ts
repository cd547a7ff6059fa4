import { createDecipheriv, pbkdf2Sync, scryptSync, timingSafeEqual } from "node:crypto";
import { BaseError, getAddress, hexToBytes, keccak256, toHex, type Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { z } from "zod";

const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^(0x)?[0-9a-fA-F]{${bytes * 2}}$`), `${bytes} bytes of hex`);
const anyHex = z.string().regex(/^(0x)?([0-9a-fA-F]{2})+$/, "hex");

/**
 * The keystore's KDF bounds: what geth, clef, Foundry's `cast wallet` and ethers write (scrypt
 * n = 2^18 and r = 8 at most, pbkdf2 up to a few million rounds), and no more, so a crafted file cannot
 * make the gateway allocate gigabytes or spin for minutes at start-up.
 */
const scryptParams = z
  .object({
    dklen: z.literal(32),
    n: z
      .number()
      .int()
      .min(2)
      .max(2 ** 20)
      .refine((n) => (n & (n - 1)) === 0, "a power of two"),
    r: z.number().int().min(1).max(16),
    p: z.number().int().min(1).max(16),
    salt: anyHex,
  })
  // OpenSSL (node:crypto) holds to RFC 7914's bound; every wallet's defaults (r = 8) meet it.
  .refine((params) => params.n < 2 ** (16 * params.r), {
    message: "n must be below 2^(16·r) (RFC 7914)",
    path: ["n"],
  });
const pbkdf2Params = z.object({
  dklen: z.literal(32),
  c: z.number().int().min(1).max(10_000_000),
  prf: z.literal("hmac-sha256"),
  salt: anyHex,
});

/** A Web3 Secret Storage (version 3) file: an Ethereum private key encrypted under a password. */
export const keystoreSchema = z.object({
  version: z.literal(3),
  address: hex(20).optional(),
  crypto: z.intersection(
    z.object({
      cipher: z.literal("aes-128-ctr"),
      cipherparams: z.object({ iv: hex(16) }),
      ciphertext: hex(32),
      mac: hex(32),
    }),
    z.discriminatedUnion("kdf", [
      z.object({ kdf: z.literal("scrypt"), kdfparams: scryptParams }),
      z.object({ kdf: z.literal("pbkdf2"), kdfparams: pbkdf2Params }),
    ]),
  ),
});

/** The keystore file is not a version 3 keystore this gateway reads (the message names the field, never a value). */
export class KeystoreInvalidError extends BaseError {
  constructor(detail: string) {
    super(`not a Web3 Secret Storage v3 keystore (${detail})`, { name: "KeystoreInvalidError" });
  }
}

/** The password does not open the keystore: its MAC does not match. */
export class KeystorePasswordError extends BaseError {
  constructor() {
    super("the password does not open the keystore (its MAC does not match)", { name: "KeystorePasswordError" });
  }
}

const bytes = (value: string) => hexToBytes(`0x${value.replace(/^0x/, "")}` as Hex);

/**
 * Decrypts a Web3 Secret Storage v3 keystore (scrypt or pbkdf2-sha256, aes-128-ctr), as geth,
 * clef, Foundry's `cast wallet new` and ethers write it: the key is derived from the password,
 * checked against the file's MAC (keccak256 of the key's second half and the ciphertext), then
 * the private key decrypted with its first half. When the file names an address, the key must be
 * that address's. Uses node:crypto and viem only. Synchronous: it runs once, at start-up.
 *
 * @example
 * const key = decryptKeystore(readFileSync("signer.json", "utf8"), process.env.TWEI_SITE_SIGNER_KEYSTORE_PASSWORD!)
 */
export function decryptKeystore(json: string, password: string): Hex {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new KeystoreInvalidError("not JSON");
  }
  const parsed = keystoreSchema.safeParse(raw);
  if (!parsed.success)
    throw new KeystoreInvalidError(
      parsed.error.issues.map((issue) => `${issue.path.join(".") || "file"}: ${issue.message}`).join("; "),
    );
  const { crypto } = parsed.data;
  const secret = Buffer.from(password.normalize("NFKC"), "utf8");
  const derived =
    crypto.kdf === "scrypt"
      ? scryptSync(secret, bytes(crypto.kdfparams.salt), crypto.kdfparams.dklen, {
          N: crypto.kdfparams.n,
          r: crypto.kdfparams.r,
          p: crypto.kdfparams.p,
          // OpenSSL's scrypt takes 128 · r · (N + p + 2) bytes; Node refuses above 32 MiB unless told (twice that, for its margins).
          maxmem: 256 * crypto.kdfparams.r * (crypto.kdfparams.n + crypto.kdfparams.p + 2),
        })
      : pbkdf2Sync(secret, bytes(crypto.kdfparams.salt), crypto.kdfparams.c, crypto.kdfparams.dklen, "sha256");
  const ciphertext = bytes(crypto.ciphertext);
  const mac = hexToBytes(keccak256(new Uint8Array([...derived.subarray(16, 32), ...ciphertext])));
  if (!timingSafeEqual(mac, bytes(crypto.mac))) throw new KeystorePasswordError();
  const decipher = createDecipheriv("aes-128-ctr", derived.subarray(0, 16), bytes(crypto.cipherparams.iv));
  const key = toHex(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  const address = parsed.data.address;
  if (address !== undefined && getAddress(`0x${address.replace(/^0x/, "")}`) !== privateKeyToAddress(key))
    throw new KeystoreInvalidError("address: not the address of the key it holds");
  return key;
}
