import { readFile, rename, writeFile } from "node:fs/promises";
import { z } from "zod";

const checkpointSchema = z.strictObject({
  version: z.literal(1),
  auditedBlock: z.string().regex(/^\d+$/),
  reported: z.array(z.string().max(200)),
});

export interface Checkpoint {
  readonly auditedBlock: bigint;
  /** The keys of the discrepancies already reported (see discrepancyKey). */
  readonly reported: readonly string[];
}

export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/**
 * Reads the watchtower's checkpoint; undefined when the file does not exist yet.
 * Throws a CheckpointError naming the file when it is not a checkpoint.
 *
 * @example
 * const checkpoint = await readCheckpoint("watch.json")
 */
export async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw new CheckpointError(`cannot read the checkpoint ${path}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CheckpointError(`the checkpoint ${path} is not valid JSON`);
  }
  const parsed = checkpointSchema.safeParse(json);
  if (!parsed.success) throw new CheckpointError(`the checkpoint ${path}: ${z.prettifyError(parsed.error)}`);
  return { auditedBlock: BigInt(parsed.data.auditedBlock), reported: parsed.data.reported };
}

/**
 * Writes the checkpoint atomically (a temporary file renamed into place): a crash leaves the old one or the new one.
 *
 * @example
 * await writeCheckpoint("watch.json", { auditedBlock: 120n, reported: [] })
 */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const body = { version: 1, auditedBlock: checkpoint.auditedBlock.toString(), reported: checkpoint.reported };
  await writeFile(temporary, JSON.stringify(body) + "\n");
  await rename(temporary, path);
}
