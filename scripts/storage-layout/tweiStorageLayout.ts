import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { z } from "zod";
import { ALLOWANCES_SLOT, BALANCES_SLOT } from "../../src/chain/settlementAccessList.js";

/**
 * contracts/Twei.sol writes OpenZeppelin ERC20's storage directly (`settleBalances`,
 * `burnableOf`), and the relayer's access lists name the same slots
 * (src/chain/settlementAccessList.ts). This compares the slots both assume with the
 * compiler's `storageLayout` output for Twei, so an OpenZeppelin upgrade or a new base
 * contract that moves a slot fails CI instead of corrupting balances.
 */
export const TWEI_SOURCE = "contracts/Twei.sol";

/** The ERC20 variables Twei writes, the Solidity constant that names each slot, and its type. */
export const WRITTEN_SLOTS = [
  { label: "_balances", constant: "_BALANCES_SLOT", type: "t_mapping(t_address,t_uint256)" },
  {
    label: "_allowances",
    constant: "_ALLOWANCES_SLOT",
    type: "t_mapping(t_address,t_mapping(t_address,t_uint256))",
  },
  { label: "_totalSupply", constant: "_TOTAL_SUPPLY_SLOT", type: "t_uint256" },
] as const;

const storageEntry = z.object({
  label: z.string(),
  slot: z.string(),
  offset: z.number(),
  type: z.string(),
  contract: z.string(),
});
export type StorageEntry = z.infer<typeof storageEntry>;
const solcOutput = z.object({
  errors: z.array(z.object({ severity: z.string(), formattedMessage: z.string() })).optional(),
  contracts: z
    .record(z.string(), z.record(z.string(), z.object({ storageLayout: z.object({ storage: z.array(storageEntry) }) })))
    .optional(),
});

const require = createRequire(import.meta.url);

/**
 * Twei's storage layout as solc (the npm package, the project's compiler) reports it.
 * `tweiSource` replaces contracts/Twei.sol's text (tests use it to move a slot).
 *
 * @example
 * const storage = await compileTweiStorageLayout() // [{ label: "_balances", slot: "0", … }, …]
 */
export async function compileTweiStorageLayout(root = process.cwd(), tweiSource?: string): Promise<StorageEntry[]> {
  const solc = require("solc") as { compile(input: string, callbacks: { import(path: string): unknown }): string };
  const input = {
    language: "Solidity",
    sources: { [TWEI_SOURCE]: { content: tweiSource ?? (await readFile(join(root, TWEI_SOURCE), "utf8")) } },
    settings: { evmVersion: "prague", outputSelection: { [TWEI_SOURCE]: { Twei: ["storageLayout"] } } },
  };
  const resolve = (path: string) => join(root, path.startsWith("@") ? join("node_modules", path) : path);
  const output = solcOutput.parse(
    JSON.parse(
      solc.compile(JSON.stringify(input), {
        import(path) {
          try {
            return { contents: readFileSync(resolve(path), "utf8") };
          } catch {
            return { error: `not found: ${path}` };
          }
        },
      }),
    ),
  );
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join("\n")}`);
  const layout = output.contracts?.[TWEI_SOURCE]?.Twei?.storageLayout;
  if (!layout) throw new Error("solc returned no storage layout for Twei");
  return layout.storage;
}

/**
 * What is wrong with the slots Twei and the relayer assume, given Twei's compiled layout and
 * Twei.sol's text: one sentence per problem, none when all agree.
 *
 * @example
 * checkTweiStorage(await compileTweiStorageLayout(), source) // []
 */
export function checkTweiStorage(storage: readonly StorageEntry[], tweiSource: string): string[] {
  const problems: string[] = [];
  const tsSlots: Record<string, bigint> = { _balances: BALANCES_SLOT, _allowances: ALLOWANCES_SLOT };
  for (const { label, constant, type } of WRITTEN_SLOTS) {
    // Solidity forbids shadowing state variables: a label names one variable.
    const entry = storage.find((e) => e.label === label);
    if (!entry) {
      problems.push(`ERC20.${label} is not in Twei's storage layout any more`);
      continue;
    }
    const declared = new RegExp(`${constant}\\s*=\\s*(\\d+)\\s*;`).exec(tweiSource)?.[1];
    if (declared === undefined) problems.push(`${TWEI_SOURCE} no longer declares ${constant}`);
    else if (BigInt(declared) !== BigInt(entry.slot) || entry.offset !== 0)
      problems.push(
        `ERC20.${label} is at slot ${entry.slot} (offset ${entry.offset}), but ${TWEI_SOURCE} writes slot ${declared} (${constant})`,
      );
    if (entry.type !== type) problems.push(`ERC20.${label} is now of type ${entry.type}, Twei assumes ${type}`);
    const tsSlot = tsSlots[label];
    if (tsSlot !== undefined && tsSlot !== BigInt(entry.slot))
      problems.push(
        `ERC20.${label} is at slot ${entry.slot}, but src/chain/settlementAccessList.ts lists slot ${tsSlot}`,
      );
  }
  return problems;
}
