import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * `npm start`: the relayer and the indexer, each in its own process of this Node, configured by
 * the same environment (see src/relayer/config.ts and src/indexer/config.ts). Compiled, it runs
 * dist/'s JavaScript; from the sources, through tsx. SIGINT/SIGTERM stop both; when one exits,
 * the other is stopped and `npm start` exits with the first one's code.
 */
const fromSources = import.meta.url.endsWith(".ts");
const extension = fromSources ? ".ts" : ".js";
const services = ["relayer", "indexer"] as const;

const children = new Map<string, ChildProcess>();
let exitCode: number | undefined;
const stopAll = (signal: NodeJS.Signals) => {
  for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};

for (const service of services) {
  const file = fileURLToPath(new URL(`../${service}/main${extension}`, import.meta.url));
  const child = spawn(process.execPath, [...(fromSources ? ["--import", "tsx"] : []), file], { stdio: "inherit" });
  children.set(service, child);
  child.once("exit", (code, signal) => {
    children.delete(service);
    if (exitCode === undefined) {
      exitCode = code ?? (signal ? 0 : 1);
      console.error(JSON.stringify({ msg: "service exited", service, code, signal }));
      stopAll("SIGTERM");
    }
    if (children.size === 0) process.exit(exitCode);
  });
}
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    exitCode ??= 0;
    stopAll(signal);
  });
