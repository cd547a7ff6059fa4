import type { ErrorRequestHandler, RequestHandler } from "express";
import type { z } from "zod";
import { isDatabaseUnavailable } from "../storage/databaseUnavailable.js";

/** One bad field of a request, with its path. */
export interface ProblemField {
  readonly path: string;
  readonly message: string;
}

export interface ProblemOptions {
  readonly detail?: string;
  readonly fields?: readonly ProblemField[];
  /** Seconds, sent as Retry-After (429, 503). */
  readonly retryAfter?: number;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/**
 * An error that becomes an RFC 9457 problem details response. `code` is stable and
 * documented; `title` is a short human summary of the code.
 */
export class HttpProblem extends Error {
  override name = "HttpProblem";
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly options: ProblemOptions = {},
  ) {
    super(options.detail ?? title);
  }
}

/** Formats zod issues as fields with dotted paths (`events.3.userId`). */
export function fieldsOf(error: z.ZodError): ProblemField[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
}

/**
 * Parses input with a zod schema, or throws a 400 `invalid_request` problem naming each bad field.
 *
 * @example
 * const body = parseInput(postEventsBody, req.body, "body")
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, where: string): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new HttpProblem(400, "invalid_request", "The request is not valid", {
    detail: `the ${where} has ${result.error.issues.length} invalid field(s)`,
    fields: fieldsOf(result.error),
  });
}

/** 404 for routes nobody serves. */
export const notFound: RequestHandler = (req) => {
  throw new HttpProblem(404, "not_found", "No such resource", { detail: `${req.method} ${req.path} is not served` });
};

export interface ProblemHandlerOptions {
  /** Receives errors that are not problems (bugs, dependency failures), for logging. */
  readonly onUnexpected?: (error: unknown) => void;
}

/**
 * The one error middleware: maps HttpProblem, the client errors Express and its body parsers
 * raise (see {@link clientProblemOf}) and anything else to `application/problem+json`. Only
 * what is not the client's doing reaches `onUnexpected` and becomes a 500. Never sends a stack
 * trace or an internal message.
 */
export function problemHandler(options: ProblemHandlerOptions = {}): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    let problem: HttpProblem;
    if (error instanceof HttpProblem) problem = error;
    else if (isDatabaseUnavailable(error)) problem = databaseUnavailable();
    else {
      const client = clientProblemOf(error);
      if (client) problem = client;
      else {
        options.onUnexpected?.(error);
        problem = new HttpProblem(500, "internal_error", "Internal error", {
          detail: "the server could not complete the request; nothing was changed by this error",
        });
      }
    }
    const { status, code, title, options: extra } = problem;
    if (extra.retryAfter !== undefined) res.setHeader("Retry-After", String(Math.ceil(extra.retryAfter)));
    res
      .status(status)
      .type("application/problem+json")
      .json({
        type: `https://twei.dev/problems/${code}`,
        title,
        status,
        code,
        detail: problem.message,
        instance: req.originalUrl,
        ...(extra.fields ? { errors: extra.fields } : {}),
        ...extra.extra,
      });
  };
}

/**
 * 503 `database_unavailable`: the service's database does not answer (down, restarting, out of
 * connections). Not the client's fault and not a bug: the same request, retried after
 * Retry-After, is answered once the database is back (event submissions are idempotent).
 */
export function databaseUnavailable(): HttpProblem {
  return new HttpProblem(503, "database_unavailable", "The database cannot be reached", {
    detail: "the service's database does not answer now; retry the same request later",
    retryAfter: 5,
  });
}

/**
 * The errors Express 5 and its body parsers (body-parser, raw-body, http-errors) raise for a
 * request the client got wrong carry a 4xx `status` (http-errors' convention, `expose: true`):
 * a path parameter that is not valid percent-encoding (the router's `decodeURIComponent`), a
 * body that does not decompress as its `Content-Encoding` says (zlib and brotli errors), a body
 * too large, not JSON, in an unsupported encoding or charset, or cut short.
 */
interface ClientError {
  readonly status: number;
  readonly type?: unknown;
  readonly limit?: unknown;
  readonly code?: unknown;
  readonly errno?: unknown;
}

function isClientError(error: unknown): error is ClientError {
  if (typeof error !== "object" || error === null) return false;
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" && Number.isInteger(status) && status >= 400 && status < 500;
}

/**
 * The problem a client error maps to, with a stable code (src/http/README.md), or undefined when
 * the error is not the client's doing. The client's input is never echoed in the detail.
 *
 * @example
 * clientProblemOf(new URIError("URI malformed")) // undefined: no status, a bug
 */
export function clientProblemOf(error: unknown): HttpProblem | undefined {
  if (!isClientError(error)) return undefined;
  if (error instanceof URIError)
    return new HttpProblem(400, "malformed_path", "The request path is not valid percent-encoding", {
      detail: "a path segment holds a '%' that does not start a valid UTF-8 percent-escape (RFC 3986 §2.1)",
    });
  switch (error.type) {
    case "entity.too.large":
      return new HttpProblem(413, "payload_too_large", "The request body is too large", {
        detail: `the body exceeds the limit of ${typeof error.limit === "number" ? error.limit : "?"} bytes`,
      });
    case "entity.parse.failed":
      return new HttpProblem(400, "malformed_json", "The request body is not valid JSON");
    case "encoding.unsupported":
    case "charset.unsupported":
      return new HttpProblem(415, "unsupported_encoding", "The request body's encoding is not supported", {
        detail: "bodies are accepted as identity, gzip, deflate or br, in UTF-8",
      });
    case "request.aborted":
    case "request.size.invalid":
      return new HttpProblem(400, "incomplete_body", "The request body ended before its announced length");
  }
  // zlib's and brotli's stream errors (Z_DATA_ERROR, Z_BUF_ERROR, ERR__ERROR_FORMAT_…), which
  // body-parser passes on with status 400 and no type.
  if (typeof error.errno === "number" && typeof error.code === "string" && /^(Z_|ERR_)/.test(error.code))
    return new HttpProblem(
      400,
      "malformed_body_encoding",
      "The request body does not decode as its Content-Encoding says",
      {
        detail: "the body is not a valid stream of its Content-Encoding (gzip, deflate or br)",
      },
    );
  return new HttpProblem(error.status, "bad_request", "Bad request");
}
