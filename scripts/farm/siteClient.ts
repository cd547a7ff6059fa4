import { request } from "node:http";
import type { LocalAccount } from "viem";

export interface SiteAnswer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/**
 * A scripted client of the site's widget API, as a farm (or a careful benchmark of honest
 * readers) would write one: plain HTTP with a cookie jar, its sockets bound to `localAddress`
 * (127.0.0.x) so the site sees it coming from that IP.
 */
export interface SiteClient {
  readonly ip: string;
  call(method: "GET" | "POST", path: string, body?: unknown): Promise<SiteAnswer>;
}

export function createSiteClient(baseUrl: string, localAddress = "127.0.0.1"): SiteClient {
  const base = new URL(baseUrl);
  let cookie: string | undefined;
  return {
    ip: localAddress,
    call(method, path, body) {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      return new Promise((resolve, reject) => {
        const req = request(
          {
            host: base.hostname,
            port: base.port,
            method,
            path: `/twei/api${path}`,
            localAddress,
            headers: {
              ...(cookie ? { cookie } : {}),
              ...(payload ? { "content-type": "application/json", "content-length": String(payload.length) } : {}),
            },
            timeout: 30_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("error", reject);
            res.on("end", () => {
              const set = res.headers["set-cookie"]?.[0];
              if (set) cookie = set.split(";")[0];
              let json: Record<string, unknown>;
              try {
                json = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
              } catch {
                json = {};
              }
              resolve({ status: res.statusCode ?? 0, json });
            });
          },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
        req.on("error", reject);
        req.end(payload);
      });
    },
  };
}

/** Signs `account` in with SIWE, as the widget does; the problem code when the site refuses. */
export async function signIn(client: SiteClient, account: LocalAccount): Promise<string | undefined> {
  const issued = await client.call("POST", "/siwe/message", { address: account.address });
  if (issued.status !== 200) return String(issued.json.code ?? issued.status);
  const message = String(issued.json.message);
  const signature = await account.signMessage({ message });
  const verified = await client.call("POST", "/siwe/verify", { message, signature });
  return verified.status === 200 ? undefined : String(verified.json.code ?? verified.status);
}

/**
 * Grants the ledger an allowance of `twei` as the widget does: the site writes the permit's
 * typed data, the wallet signs it, the site submits it.
 */
export async function grant(client: SiteClient, account: LocalAccount, twei: string): Promise<string | undefined> {
  const asked = await client.call("POST", "/permit/typed-data", { twei });
  if (asked.status !== 200) return String(asked.json.code ?? asked.status);
  const typed = asked.json.typedData as {
    domain: Record<string, unknown>;
    types: Record<string, { name: string; type: string }[]>;
    primaryType: string;
    message: Record<string, string>;
  };
  // viem derives the domain's type itself.
  const types = Object.fromEntries(Object.entries(typed.types).filter(([name]) => name !== "EIP712Domain"));
  const message = Object.fromEntries(
    Object.entries(typed.message).map(([k, v]) => [k, /^\d+$/.test(v) ? BigInt(v) : v]),
  );
  const signature = await account.signTypedData({
    domain: { ...typed.domain, chainId: Number(typed.domain.chainId) },
    types,
    primaryType: typed.primaryType,
    message,
  } as Parameters<LocalAccount["signTypedData"]>[0]);
  const sent = await client.call("POST", "/permit", {
    value: typed.message.value,
    deadline: typed.message.deadline,
    signature,
  });
  return sent.status === 200 ? undefined : String(sent.json.code ?? sent.status);
}
