import { spawn, type ChildProcess } from "node:child_process";

/** A service (the relayer, the indexer) as a real process, to stop or kill -9. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Spawns `entry` as one process (node with tsx's loader), so SIGKILL hits the service itself. */
function spawnService(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", entry], { env, stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * Starts `entry` and waits (a minute at most) until its output matches `ready`; returns the
 * process and that match. Fails with the output's tail if it exits first.
 *
 * @example
 * const { match, ...relayer } = await startServiceProcess("relayer", "src/relayer/main.ts", env, /"url":"([^"]+)"/)
 */
export async function startServiceProcess(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<ServiceProcess & { match: RegExpExecArray }> {
  const child = spawnService(entry, env);
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${name} did not start:\n${output.slice(-2_000)}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (process.env.TEST_LOG_LEVEL) process.stderr.write(chunk);
      const found = ready.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the ${name} exited (${code}):\n${output.slice(-2_000)}`)));
  });
  return {
    child,
    match,
    output: () => output,
    async kill9() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Runs `entry` until it exits by itself (it refuses to start; killed after a minute): its exit code and output. */
export async function runServiceToExit(
  entry: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  const child = spawnService(entry, env);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  return { code, output };
}
