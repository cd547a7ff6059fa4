import { request } from "node:http";

export interface RawRequest {
  readonly method?: string;
  /** Sent as is: no normalisation, no percent-encoding (a `%` stays a `%`). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: Record<string, unknown> | undefined;
}

/**
 * One HTTP request with node:http, so that paths, headers and bodies reach the server exactly as
 * written (fetch would normalise the path and refuse some headers).
 *
 * @example
 * const answer = await rawRequest(url, { path: "/v1/batches/%" })
 */
export function rawRequest(baseUrl: string, init: RawRequest): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        method: init.method ?? "GET",
        path: init.path,
        // A body always carries its length: Node's client sends a GET's body unframed otherwise,
        // which the server can only read as a malformed next request.
        headers: {
          connection: "close",
          ...(init.body === undefined ? {} : { "content-length": String(Buffer.byteLength(init.body)) }),
          ...init.headers,
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: Record<string, unknown> | undefined;
          try {
            const parsed: unknown = JSON.parse(text);
            if (typeof parsed === "object" && parsed !== null) json = parsed as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${init.method ?? "GET"} ${init.path}: no answer in 30 s`)));
    req.on("error", reject);
    req.end(init.body);
  });
}
