import { readFile } from "node:fs/promises";

/**
 * A JSON file as read (still unchecked: an evidence file, a policy document), or why not: no such file
 * (`absent`), a file that cannot be read (`unavailable`, naming the system's code), or bytes
 * that are not JSON (`malformed`). Each reason names the path.
 */
export type JsonFileRead =
  | { readonly read: true; readonly json: unknown }
  | { readonly read: false; readonly kind: "absent" | "unavailable" | "malformed"; readonly reason: string };

/**
 * Reads and parses one JSON file, never throwing: the evidence and policy sources turn each
 * outcome into their own lookup answer.
 *
 * @example
 * const file = await readJsonFile("evidence/4294967297.json")
 * if (file.read) use(file.json)
 */
export async function readJsonFile(path: string): Promise<JsonFileRead> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") return { read: false, kind: "absent", reason: `no file ${path}` };
    return { read: false, kind: "unavailable", reason: `${path} cannot be read (${code ?? "error"})` };
  }
  try {
    return { read: true, json: JSON.parse(text) as unknown };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { read: false, kind: "malformed", reason: `${path} is not valid JSON: ${message}` };
  }
}
