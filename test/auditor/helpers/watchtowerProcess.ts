import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export type WatchLine = Record<string, unknown> & { type: string };

/** `npm run audit -- …` as a real process (the watchtower with --follow), its stdout read as JSON lines. */
export function startWatchtower(args: string[], env: NodeJS.ProcessEnv = {}) {
  // Node itself with tsx's loader, not the tsx CLI: the CLI relays SIGTERM to its child and, when the
  // child does not acknowledge within 30 ms (a loaded machine), kills it and exits 143.
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/auditor/main.ts", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const lines: WatchLine[] = [];
  let stdout = "";
  let stderr = "";
  createInterface({ input: child.stdout! }).on("line", (line) => {
    stdout += `${line}\n`;
    if (line.startsWith("{")) lines.push(JSON.parse(line) as WatchLine);
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    lines,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    of: (type: string) => lines.filter((line) => line.type === type),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
