import type { ErrorRequestHandler, RequestHandler } from "express";
import type { z } from "zod";

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
 * The one error middleware: maps HttpProblem, body-parser errors and anything else to
 * `application/problem+json`. Never sends a stack trace.
 */
export function problemHandler(options: ProblemHandlerOptions = {}): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    let problem: HttpProblem;
    if (error instanceof HttpProblem) problem = error;
    else if (isBodyParserError(error)) problem = fromBodyParser(error);
    else {
      options.onUnexpected?.(error);
      problem = new HttpProblem(500, "internal_error", "Internal error", {
        detail: "the server could not complete the request; nothing was changed by this error",
      });
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

interface BodyParserError {
  type: string;
  status: number;
  limit?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as BodyParserError).type === "string" &&
    typeof (error as BodyParserError).status === "number"
  );
}

function fromBodyParser(error: BodyParserError): HttpProblem {
  switch (error.type) {
    case "entity.too.large":
      return new HttpProblem(413, "payload_too_large", "The request body is too large", {
        detail: `the body exceeds the limit of ${error.limit ?? "?"} bytes`,
      });
    case "entity.parse.failed":
      return new HttpProblem(400, "malformed_json", "The request body is not valid JSON");
    case "encoding.unsupported":
    case "charset.unsupported":
      return new HttpProblem(415, "unsupported_encoding", "The request body's encoding is not supported");
    default:
      return new HttpProblem(
        error.status >= 400 && error.status < 500 ? error.status : 400,
        "bad_request",
        "Bad request",
      );
  }
}
