import { parentPort, workerData } from "node:worker_threads";
import type { Address } from "viem";
import { verifyEnvelope } from "./verifyEnvelope.js";

/** A worker of verifyPool.ts: verifies bodies it is sent, answering with their id. */
const domain = workerData as { chainId: number; ledger: Address };
parentPort?.on("message", (message: { id: number; body: string; signer: Address | null }) => {
  verifyEnvelope(message.body, domain, message.signer).then(
    (result) => parentPort?.postMessage({ id: message.id, result }),
    (error: unknown) => parentPort?.postMessage({ id: message.id, error: String(error) }),
  );
});
