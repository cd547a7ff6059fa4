/**
 * The wait before retry number `attempt` (1, 2, …): `baseDelayMs` doubled each time, capped at
 * `maxDelayMs`, then jittered down to between half and all of it, so processes that failed
 * together (a database restart) do not all come back at the same instant.
 *
 * @example
 * await sleep(backoffDelay(failures, { baseDelayMs: 1_000, maxDelayMs: 10_000 }))
 */
export function backoffDelay(attempt: number, options: { baseDelayMs: number; maxDelayMs: number }): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent) * (0.5 + Math.random() / 2);
}
