/**
 * The site backend's widget API (`<twei-widget api="/twei/api">`). Cookies carry the session; on
 * another origin (the gateway: `api="https://twei.example.com/twei/api"`) they are sent along
 * (`credentials: "include"`), and the session's bearer token the gateway answers at sign-in is
 * kept in sessionStorage and sent too, for browsers that block third-party cookies.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const tokenKey = (base: string) => `twei-session:${new URL(base, location.href).origin}`;

function crossOrigin(base: string): boolean {
  return new URL(base, location.href).origin !== location.origin;
}

export async function call<T = Record<string, unknown>>(base: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  const cross = crossOrigin(base);
  const token = cross ? sessionStorage.getItem(tokenKey(base)) : null;
  try {
    response = await fetch(`${base}${path}`, {
      method: body === undefined ? "GET" : "POST",
      credentials: cross ? "include" : "same-origin",
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, "site_unreachable", "The site cannot be reached.");
  }
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    if (cross && json.code === "not_signed_in") sessionStorage.removeItem(tokenKey(base));
    throw new ApiError(response.status, String(json.code ?? "http_error"), String(json.detail ?? json.title ?? ""));
  }
  if (cross && path === "/siwe/verify" && typeof json.token === "string")
    sessionStorage.setItem(tokenKey(base), json.token);
  if (cross && path === "/signout") sessionStorage.removeItem(tokenKey(base));
  return json as T;
}
