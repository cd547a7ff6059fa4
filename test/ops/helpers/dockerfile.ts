import { readFile } from "node:fs/promises";

/** One instruction of a Dockerfile: its keyword (upper case) and its arguments, continuation lines joined. */
export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
}

/** A stage: `FROM <image> [AS <name>]` and its instructions. */
export interface DockerStage {
  readonly name: string | undefined;
  readonly from: string;
  readonly instructions: readonly DockerInstruction[];
}

/**
 * Reads a Dockerfile's stages: comments dropped, `\` continuations joined. Enough of the format for
 * the tests that play this repository's own Dockerfile (no parser directives, no heredocs).
 *
 * @example
 * const runtime = (await readDockerfile("Dockerfile")).at(-1)
 */
export async function readDockerfile(path: string): Promise<DockerStage[]> {
  const lines = (await readFile(path, "utf8")).split("\n");
  const logical: string[] = [];
  let pending = "";
  for (const raw of lines) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) pending += `${line.slice(0, -1).trim()} `;
    else {
      logical.push(`${pending}${line}`.trim());
      pending = "";
    }
  }
  const stages: { name: string | undefined; from: string; instructions: DockerInstruction[] }[] = [];
  for (const line of logical) {
    const [keyword = "", ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (keyword.toUpperCase() === "FROM") {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!match?.[1]) throw new Error(`bad FROM: ${line}`);
      stages.push({ from: match[1], name: match[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`an instruction before FROM: ${line}`);
      stage.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** `ENV A=1 B=2` (or the old `ENV A 1`) as pairs. */
export function envPairs(args: string): [string, string][] {
  if (!args.includes("=")) {
    const [name = "", ...value] = args.split(/\s+/);
    return [[name, value.join(" ")]];
  }
  return args.split(/\s+/).map((pair) => {
    const at = pair.indexOf("=");
    return [pair.slice(0, at), pair.slice(at + 1).replace(/^"(.*)"$/, "$1")];
  });
}
