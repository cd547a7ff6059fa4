import { keccak256, stringToBytes, type Hex } from "viem";

/**
 * A JSON value in canonical form (RFC 8785, JCS): object keys sorted by UTF-16 code units, no
 * whitespace, numbers and strings as `JSON.stringify` writes them. Any document, whatever its
 * fields: a policy gains fields without this changing.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, "x"] }) // '{"a":[true,"x"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  if (typeof value === "number" && !Number.isFinite(value)) throw new RangeError(`${value} has no JSON form`);
  if (value === undefined || typeof value === "bigint" || typeof value === "function" || typeof value === "symbol")
    throw new RangeError(`a ${typeof value} has no JSON form`);
  return JSON.stringify(value);
}

/**
 * The keccak256 of a policy document's canonical JSON (UTF-8): what the ledger holds for a site
 * (`TweiLedger.schedulePolicy`), so the same document hashes the same whatever its key order or
 * spacing.
 *
 * @example
 * policyHash(DEFAULT_POLICY) // 0x…
 */
export function policyHash(document: unknown): Hex {
  return keccak256(stringToBytes(canonicalJson(document)));
}
