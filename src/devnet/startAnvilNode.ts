import { freePort, spawnDevNode, type DevNode } from "./spawnDevNode.js";

export interface StartAnvilNodeParameters {
  /** The port to bind on 127.0.0.1; a free one by default. */
  readonly port?: number;
  /** The project root, where node_modules/.bin/anvil is; the working directory by default. */
  readonly root?: string;
  readonly timeoutMs?: number;
  readonly onOutput?: (line: string) => void;
}

/**
 * Starts Foundry's anvil (`@foundry-rs/anvil`, a second EVM node implementation beside Hardhat's
 * EDR) on 127.0.0.1 with Hardhat's chain id, dev mnemonic and hardfork, so that the same
 * deployments and accounts work on both; it has `anvil_reorg` and `anvil_rollback` for reorgs.
 *
 * @example
 * const node = await startAnvilNode(); … await node.stop();
 */
export async function startAnvilNode(parameters: StartAnvilNodeParameters = {}): Promise<DevNode> {
  const port = parameters.port ?? (await freePort());
  return spawnDevNode({
    kind: "anvil",
    program: "anvil",
    args: ["--host", "127.0.0.1", "--port", String(port), "--chain-id", "31337", "--hardfork", "prague", "--silent"],
    port,
    root: parameters.root ?? process.cwd(),
    timeoutMs: parameters.timeoutMs ?? 60_000,
    onOutput: parameters.onOutput,
  });
}
