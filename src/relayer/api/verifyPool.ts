import { Worker } from "node:worker_threads";
import type { Address, Hex } from "viem";
import { buildEvidenceTree, type EvidenceLeaf } from "../../evidence/evidenceTree.js";
import { verifyEnvelope, type VerifiedEnvelope } from "./verifyEnvelope.js";

export interface VerifyPool {
  /** `signer`: the site's registered signer, checked first (fast); null to only recover. */
  verify(body: string, signer: Address | null): Promise<VerifiedEnvelope>;
  /** A batch's evidence root, of the current EVIDENCE_VERSION (the tree costs about 0.2 ms a leaf: off the main thread). */
  evidenceRoot(leaves: readonly EvidenceLeaf[]): Promise<Hex>;
  close(): Promise<void>;
}

/** Whether this module runs from its TypeScript source (tsx) rather than compiled to dist/. */
const FROM_SOURCES = import.meta.url.endsWith(".ts");

/**
 * Verifies `POST /v1/events` bodies on `size` worker threads (JSON, schema, canonical hashes,
 * signature recovery), so they run beside the main thread's database work; in-process when
 * `size` is 0. Compiled (dist/, plain Node), workers run verifyWorker.js; from the sources,
 * they load verifyWorker.ts through tsx, as the main process does.
 *
 * @example
 * const pool = createVerifyPool({ size: 2, chainId, ledger }); const verified = await pool.verify(rawBody)
 */
export function createVerifyPool(options: { size: number; chainId: number; ledger: Address }): VerifyPool {
  const domain = { chainId: options.chainId, ledger: options.ledger };
  if (options.size <= 0)
    return {
      verify: (body, signer) => verifyEnvelope(body, domain, signer),
      evidenceRoot: async (leaves) => buildEvidenceTree(leaves).root,
      close: async () => undefined,
    };
  const pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  const workers = Array.from({ length: options.size }, () => {
    const worker = new Worker(new URL(`./verifyWorker${FROM_SOURCES ? ".ts" : ".js"}`, import.meta.url), {
      workerData: domain,
      execArgv: FROM_SOURCES ? ["--import", "tsx"] : [],
    });
    worker.on("message", (message: { id: number; result?: unknown; error?: string }) => {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (!waiter) return;
      if (message.result !== undefined) waiter.resolve(message.result as never);
      else waiter.reject(new Error(message.error ?? "verification failed"));
    });
    worker.on("error", (error) => {
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    });
    worker.unref();
    return worker;
  });
  let turn = 0;
  const run = <T>(task: Record<string, unknown>): Promise<T> => {
    const id = nextId++;
    const worker = workers[turn++ % workers.length] as Worker;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: never) => void, reject });
      worker.postMessage({ ...task, id });
    });
  };
  return {
    verify: (body, signer) => run<VerifiedEnvelope>({ kind: "verify", body, signer }),
    evidenceRoot: (leaves) => run<Hex>({ kind: "root", leaves }),
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
