import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

export type WatchLine = Record<string, unknown> & { type: string };

/** `npm run audit -- …` as a real process (the watchtower with --follow), its stdout read as JSON lines. */
export function startWatchtower(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child: ChildProcess = spawn(join(process.cwd(), "node_modules/.bin/tsx"), ["src/auditor/main.ts", ...args], {
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
