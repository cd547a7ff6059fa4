import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { mnemonicToAccount, type HDAccount } from "viem/accounts";

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

export interface HardhatNode {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not find a free port"));
      });
    });
  });
}

/** Whether a JSON-RPC endpoint answers `eth_chainId` within a second. */
export async function rpcAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

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
  const root = parameters.root ?? process.cwd();
  const port = parameters.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    join(root, "node_modules/.bin/hardhat"),
    ["node", "--hostname", "127.0.0.1", "--port", String(port)],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so stop() also ends the node's children.
      detached: true,
      env: { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH ?? ""}` },
    },
  );
  const onOutput = parameters.onOutput;
  let output = "";
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    if (output.length < 20_000) output += text;
    if (onOutput) for (const line of text.split("\n")) if (line.trim()) onOutput(line);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });

  const stop = async () => {
    if (exited || child.pid === undefined) return;
    const done = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, 5_000);
    await done;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (parameters.timeoutMs ?? 60_000);
  while (!(await rpcAnswers(url))) {
    if (exited) throw new Error(`hardhat node exited before answering:\n${output.slice(-2_000)}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`hardhat node did not answer on ${url} in time:\n${output.slice(-2_000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, port, process: child, stop };
}
