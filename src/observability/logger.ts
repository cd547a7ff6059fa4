import { pino, type Logger } from "pino";

export type { Logger };

/** Keys whose values never reach a log line: RPC URLs can embed API keys. */
const REDACTED_PATHS = [
  "rpcUrl",
  "*.rpcUrl",
  "privateKey",
  "*.privateKey",
  "apiKey",
  "*.apiKey",
  "authorization",
  "*.authorization",
  "req.headers.authorization",
];

/**
 * The structured JSON logger of every service (pino), with secrets redacted.
 *
 * @example
 * const log = createLogger({ name: "relayer" }); log.info({ batchId }, "batch settled")
 */
export function createLogger(options: { name: string; level?: string }): Logger {
  return pino({
    name: options.name,
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  });
}

/** Strips anything URL-shaped from a message, so an RPC URL with a key never leaks into errors. */
export function scrubUrls(message: string): string {
  return message.replace(/\b(?:https?|wss?):\/\/[^\s"'<>]+/gi, "[url]");
}
