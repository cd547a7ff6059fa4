import { isAddress, isHex, size, type Hex, type TypedDataDefinition } from "viem";
import { z } from "zod";
import { HttpProblem, type ProblemField } from "../http/problem.js";

/** The most nested structs and arrays a message may have: enough for any real typed data, and bounded work. */
export const MAX_TYPED_DATA_DEPTH = 16;
const MAX_ARRAY_LENGTH = 1_000;

const identifier = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/, "an identifier");
/** Names of EIP-712's atomic types, which a struct type may not take. */
const ATOMIC = /^(u?int\d*|bytes\d*|address|bool|string)$/;
const structName = identifier.refine((name) => !ATOMIC.test(name), "an atomic type's name");
const typedDataShape = z.object({
  domain: z.record(z.string(), z.unknown()),
  types: z.record(
    structName,
    z
      .array(z.object({ name: identifier, type: z.string().max(128) }))
      .max(64)
      .refine((fields) => new Set(fields.map((f) => f.name)).size === fields.length, "field names repeat"),
  ),
  primaryType: identifier,
  message: z.record(z.string(), z.unknown()),
});

/** The fields of EIP712Domain a wallet signs, by name, with their types (EIP-712 §"Definition of domainSeparator"). */
const DOMAIN_FIELDS = {
  name: "string",
  version: "string",
  chainId: "uint256",
  verifyingContract: "address",
  salt: "bytes32",
} as const;

/** One bad value, named by its JSON path in the typed data. */
class Invalid extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function invalidTypedData(fields: readonly ProblemField[]): HttpProblem {
  return new HttpProblem(400, "invalid_typed_data", "The typed data cannot be signed", {
    detail: "the eth_signTypedData_v4 parameter is not EIP-712 typed data whose message matches its types",
    fields,
  });
}

/** An integer of a uint/int type: a JSON safe integer, or a decimal or 0x-hex string; within the type's bits. */
function integerOf(value: unknown, type: string, path: string): bigint {
  const match = /^(u?)int(\d*)$/.exec(type);
  const bits = match?.[2] ? Number(match[2]) : 256;
  if (!match || bits < 8 || bits > 256 || bits % 8 !== 0) throw new Invalid(path, `unknown type ${type}`);
  let n: bigint;
  if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
  else if (typeof value === "string" && /^-?\d{1,78}$/.test(value)) n = BigInt(value);
  else if (typeof value === "string" && /^0x[0-9a-fA-F]{1,64}$/.test(value)) n = BigInt(value);
  else throw new Invalid(path, `a ${type} is an integer: a JSON integer, or a decimal or 0x-hex string`);
  const [min, max] =
    match[1] === "u" ? [0n, 2n ** BigInt(bits) - 1n] : [-(2n ** BigInt(bits - 1)), 2n ** BigInt(bits - 1) - 1n];
  if (n < min || n > max) throw new Invalid(path, `out of the range of ${type}`);
  return n;
}

/**
 * Checks `value` against an EIP-712 type and returns it as viem signs it (integers as bigint).
 * Struct types are looked up in `types`; a struct that contains itself other than through an
 * array can never be given a finite value and is refused by the depth bound.
 */
function valueOf(
  types: Record<string, readonly { name: string; type: string }[]>,
  type: string,
  value: unknown,
  path: string,
  depth: number,
): unknown {
  if (depth > MAX_TYPED_DATA_DEPTH) throw new Invalid(path, `nested deeper than ${MAX_TYPED_DATA_DEPTH}`);
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array) {
    const [, inner = "", length] = array;
    if (!Array.isArray(value)) throw new Invalid(path, `a ${type} is an array`);
    if (value.length > MAX_ARRAY_LENGTH) throw new Invalid(path, `more than ${MAX_ARRAY_LENGTH} items`);
    if (length !== "" && value.length !== Number(length)) throw new Invalid(path, `a ${type} has ${length} items`);
    return value.map((item, i) => valueOf(types, inner, item, `${path}.${i}`, depth + 1));
  }
  const fields = types[type];
  if (fields) {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new Invalid(path, `a ${type} is an object`);
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      fields.map((field) => {
        if (!Object.hasOwn(record, field.name)) throw new Invalid(`${path}.${field.name}`, "missing");
        return [field.name, valueOf(types, field.type, record[field.name], `${path}.${field.name}`, depth + 1)];
      }),
    );
  }
  if (/^u?int\d*$/.test(type)) return integerOf(value, type, path);
  switch (type) {
    case "address":
      if (typeof value !== "string" || !isAddress(value, { strict: false })) throw new Invalid(path, "not an address");
      return value;
    case "bool":
      if (typeof value !== "boolean") throw new Invalid(path, "a bool is true or false");
      return value;
    case "string":
      if (typeof value !== "string") throw new Invalid(path, "not a string");
      return value;
    case "bytes":
      if (typeof value !== "string" || !isHex(value, { strict: true }) || value.length % 2 !== 0)
        throw new Invalid(path, "bytes are 0x-hex of whole bytes");
      return value;
  }
  const bytesN = /^bytes(\d+)$/.exec(type);
  if (bytesN) {
    const n = Number(bytesN[1]);
    if (n < 1 || n > 32) throw new Invalid(path, `unknown type ${type}`);
    if (
      typeof value !== "string" ||
      !isHex(value, { strict: true }) ||
      value.length % 2 !== 0 ||
      size(value as Hex) !== n
    )
      throw new Invalid(path, `a ${type} is 0x-hex of ${n} bytes`);
    return value;
  }
  throw new Invalid(path, `unknown type ${type}`);
}

/**
 * Parses the typed data of an `eth_signTypedData_v4` request (a JSON string or an object) as a
 * wallet must before it signs: EIP-712 types whose fields are known types, a `primaryType` among
 * them, a domain of EIP712Domain's fields, and a message whose every value fits its type (uints
 * and ints as integers within their bits, addresses, bytes of their length, structs with all
 * their fields). A domain with a `chainId` must name the wallet's chain, as wallets require.
 * Anything else is a 400 `invalid_typed_data` problem naming each bad value, never a 500.
 *
 * @example
 * const definition = parseTypedDataV4(params[1], 31337); await account.signTypedData(definition)
 */
export function parseTypedDataV4(input: unknown, walletChainId: number): TypedDataDefinition {
  let json = input;
  if (typeof json === "string") {
    try {
      json = JSON.parse(json);
    } catch {
      throw invalidTypedData([{ path: "(root)", message: "not JSON" }]);
    }
  }
  const shape = typedDataShape.safeParse(json);
  if (!shape.success)
    throw invalidTypedData(
      shape.error.issues.map((issue) => ({
        path: issue.path.map(String).join(".") || "(root)",
        message: issue.message,
      })),
    );
  const data = shape.data;
  const types = Object.fromEntries(Object.entries(data.types).filter(([name]) => name !== "EIP712Domain"));
  try {
    if (!Object.hasOwn(types, data.primaryType))
      throw new Invalid("primaryType", `${data.primaryType} is not among the types`);
    const domain: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(data.domain)) {
      const type = (DOMAIN_FIELDS as Record<string, string>)[key];
      if (type === undefined) throw new Invalid(`domain.${key}`, "not a field of EIP712Domain");
      domain[key] = valueOf({}, type, value, `domain.${key}`, 0);
    }
    if (domain.chainId !== undefined) {
      if (domain.chainId !== BigInt(walletChainId))
        throw new Invalid("domain.chainId", `the wallet is on chain ${walletChainId}`);
      domain.chainId = walletChainId;
    }
    const message = valueOf(types, data.primaryType, data.message, "message", 0);
    return { domain, types, primaryType: data.primaryType, message } as unknown as TypedDataDefinition;
  } catch (error) {
    if (error instanceof Invalid) throw invalidTypedData([{ path: error.path, message: error.message }]);
    throw error;
  }
}
