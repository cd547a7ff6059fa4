// Where a settlement's gas goes (TWEI_BENCH_TRACE for `npm run bench:gas`), from the node's
// opcode trace: CALL and STATICCALL are left out, their cost includes the gas they forward.
import type { Hex } from "viem";

interface StructLog {
  readonly op: string;
  readonly gasCost: number;
  readonly depth: number;
  readonly pc: number;
}

export type TraceMode = "summary" | "ops" | "loop";

export interface TraceBreakdownParameters {
  readonly request: (args: { method: string; params: unknown[] }) => Promise<unknown>;
  readonly hash: Hex;
  /** The settlement's action count: figures are per action. */
  readonly actions: number;
  readonly mode: TraceMode;
}

const contractOf = (depth: number) => (depth === 1 ? "ledger" : "token");
const counted = (op: string) => op !== "CALL" && op !== "STATICCALL";

/**
 * Lines describing a settlement's gas: `summary` splits it by contract and storage, log or other
 * work; `ops` by opcode; `loop` lists the instructions run at least once per action (the
 * per-account loops, with their gas per action) and the rest of the batch by opcode.
 *
 * @example
 * for (const line of await traceBreakdown({ request, hash, actions: 1_000, mode: "loop" })) console.error(line)
 */
export async function traceBreakdown(parameters: TraceBreakdownParameters): Promise<string[]> {
  const { request, hash, actions, mode } = parameters;
  const { structLogs } = (await request({
    method: "debug_traceTransaction",
    params: [hash, { disableStorage: true, disableMemory: true, disableStack: true }],
  })) as { structLogs: StructLog[] };
  const perAction = (gas: number) => (gas / actions).toFixed(0);
  const sum = (key: (log: StructLog) => string) => {
    const sums = new Map<string, number>();
    for (const log of structLogs) if (counted(log.op)) sums.set(key(log), (sums.get(key(log)) ?? 0) + log.gasCost);
    return [...sums].sort((a, b) => b[1] - a[1]);
  };
  if (mode === "summary") {
    const storage = ["SLOAD", "SSTORE", "LOG3", "LOG4"];
    const sums = sum(({ op, depth }) => `${contractOf(depth)} ${storage.includes(op) ? op : "other"}`);
    return [`per action: ${sums.map(([k, v]) => `${k}=${perAction(v)}`).join(" ")}`];
  }
  if (mode === "ops") {
    const sums = sum(({ op, depth }) => `${contractOf(depth)}:${op}`).slice(0, 45);
    return [`per action, by opcode: ${sums.map(([k, v]) => `${k}=${perAction(v)}`).join(" ")}`];
  }
  const byPc = new Map<string, { depth: number; pc: number; op: string; runs: number; gas: number }>();
  for (const { op, gasCost, depth, pc } of structLogs) {
    const key = `${depth}:${pc}`;
    const entry = byPc.get(key) ?? { depth, pc, op, runs: 0, gas: 0 };
    entry.runs++;
    if (counted(op)) entry.gas += gasCost;
    byPc.set(key, entry);
  }
  const loop = new Map<string, { ops: string[]; gas: number }>();
  const rest = new Map<string, number>();
  for (const entry of [...byPc.values()].sort((a, b) => a.depth - b.depth || a.pc - b.pc)) {
    const contract = contractOf(entry.depth);
    if (entry.runs >= actions) {
      const line = loop.get(contract) ?? { ops: [], gas: 0 };
      line.ops.push(`${entry.op}:${(entry.gas / actions).toFixed(1)}`);
      line.gas += entry.gas / actions;
      loop.set(contract, line);
    } else rest.set(`${contract}:${entry.op}`, (rest.get(`${contract}:${entry.op}`) ?? 0) + entry.gas);
  }
  return [
    ...[...loop].map(
      ([contract, { ops, gas }]) => `${contract} loop, ${gas.toFixed(0)} gas per action: ${ops.join(" ")}`,
    ),
    `rest of the batch, total gas by opcode: ${[...rest]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
  ];
}

/** The mode TWEI_BENCH_TRACE asks for (any other non-empty value: the summary). */
export function traceModeOf(value: string | undefined): TraceMode | undefined {
  if (!value) return undefined;
  return value === "ops" || value === "loop" ? value : "summary";
}
