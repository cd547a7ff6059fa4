import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

/** A local development node (Hardhat or anvil) as a child process on 127.0.0.1. */
export interface DevNode {
  readonly kind: "hardhat" | "anvil";
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

export interface SpawnDevNodeParameters {
  readonly kind: DevNode["kind"];
  /** The program in the project's node_modules/.bin, and its arguments. */
  readonly program: string;
  readonly args: readonly string[];
  readonly port: number;
  readonly root: string;
  readonly timeoutMs: number;
  readonly onOutput?: ((line: string) => void) | undefined;
}

/**
 * Starts a development node program in its own process group and waits until it answers
 * JSON-RPC on 127.0.0.1; `stop()` ends the group (SIGTERM, then SIGKILL after 5 s).
 *
 * @example
 * const node = await spawnDevNode({ kind: "anvil", program: "anvil", args: [...], port, root, timeoutMs: 60_000 })
 */
export async function spawnDevNode(parameters: SpawnDevNodeParameters): Promise<DevNode> {
  const { kind, root, port, onOutput } = parameters;
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(join(root, "node_modules/.bin", parameters.program), [...parameters.args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so stop() also ends the node's children.
    detached: true,
    env: { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH ?? ""}` },
  });
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

  const deadline = Date.now() + parameters.timeoutMs;
  while (!(await rpcAnswers(url))) {
    if (exited) throw new Error(`${kind} node exited before answering:\n${output.slice(-2_000)}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${kind} node did not answer on ${url} in time:\n${output.slice(-2_000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { kind, url, port, process: child, stop };
}
