import { pino, type Logger } from "pino";

/** A logger that keeps its lines (parsed) in memory, for tests that check what was said, and how often. */
export function captureLog(): { log: Logger; lines: Record<string, unknown>[]; said(msg: string): number } {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: "info" },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { log, lines, said: (msg) => lines.filter((line) => line.msg === msg).length };
}
