import { mnemonicToAccount, type HDAccount } from "viem/accounts";
import { freePort, spawnDevNode, type DevNode } from "./spawnDevNode.js";

/** The well-known development mnemonic whose accounts a Hardhat node funds. Never for real funds. */
export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** The i-th funded account of a Hardhat node. */
export function hardhatAccount(index: number): HDAccount {
  return mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: index });
}

export interface StartHardhatNodeParameters {
  /** The port to bind on 127.0.0.1; a free one by default. */
  port?: number;
  /** The project root, where node_modules/.bin/hardhat is; the working directory by default. */
  root?: string;
  /** How long to wait for the node to answer, in milliseconds. */
  timeoutMs?: number;
  /** Receives the node's output lines (quiet by default). */
  onOutput?: (line: string) => void;
}

/** A Hardhat node (see spawnDevNode). */
export type HardhatNode = DevNode;

export { freePort, rpcAnswers } from "./spawnDevNode.js";

/**
 * Starts `hardhat node` on 127.0.0.1 (never 0.0.0.0) as a child process and waits until it
 * answers JSON-RPC.
 *
 * @example
 * const node = await startHardhatNode();
 * // … createPublicClient({ transport: http(node.url) }) …
 * await node.stop();
 */
export async function startHardhatNode(parameters: StartHardhatNodeParameters = {}): Promise<HardhatNode> {
  const port = parameters.port ?? (await freePort());
  return spawnDevNode({
    kind: "hardhat",
    program: "hardhat",
    args: ["node", "--hostname", "127.0.0.1", "--port", String(port)],
    port,
    root: parameters.root ?? process.cwd(),
    timeoutMs: parameters.timeoutMs ?? 60_000,
    onOutput: parameters.onOutput,
  });
}
