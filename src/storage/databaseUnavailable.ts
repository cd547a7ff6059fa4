/**
 * SQLSTATE classes and codes that mean the server cannot serve now (it is down, shutting down,
 * starting up or recovering), not that the statement is wrong: class 08 (connection exception),
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections.
 */
const UNAVAILABLE_STATES = /^(08...|57P0[1-3]|53300)$/;

/** Socket errors of a server that is not there (or went away). */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

/** What node-postgres says when a connection ends under a query, or cannot be had in time. */
const PG_MESSAGES = [
  /^Connection terminated/,
  /^Client has encountered a connection error/,
  /^timeout exceeded when trying to connect/,
  /^Client was closed and is not queryable/,
];

/**
 * Whether an error means the database cannot be reached now (a fault of the database or the
 * network, to wait out), as opposed to a bug or a refused statement. Looks into an
 * AggregateError's errors (Node reports a refused connection to several addresses as one), never
 * into `cause`: a chain client's failed request carries a socket error there too, and is no fault
 * of the database.
 *
 * @example
 * if (isDatabaseUnavailable(error)) throw new HttpProblem(503, "database_unavailable", …)
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== "object" || error === null || depth > 5) return false;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === "string" && (UNAVAILABLE_STATES.test(code) || SOCKET_CODES.has(code))) return true;
  if (typeof message === "string" && PG_MESSAGES.some((pattern) => pattern.test(message))) return true;
  return Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1));
}
