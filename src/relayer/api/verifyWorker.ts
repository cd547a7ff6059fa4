import { parentPort, workerData } from "node:worker_threads";
import type { Address } from "viem";
import { buildEvidenceTree, type EvidenceLeaf } from "../../evidence/evidenceTree.js";
import { verifyEnvelope } from "./verifyEnvelope.js";

/** A worker of verifyPool.ts: verifies bodies, or computes evidence roots, answering with the task's id. */
const domain = workerData as { chainId: number; ledger: Address };

type Task =
  | { id: number; kind: "verify"; body: string; signer: Address | null }
  | { id: number; kind: "root"; leaves: EvidenceLeaf[] };

parentPort?.on("message", (task: Task) => {
  const work =
    task.kind === "verify"
      ? verifyEnvelope(task.body, domain, task.signer)
      : Promise.resolve().then(() => buildEvidenceTree(task.leaves).root);
  work.then(
    (result) => parentPort?.postMessage({ id: task.id, result }),
    (error: unknown) => parentPort?.postMessage({ id: task.id, error: String(error) }),
  );
});
