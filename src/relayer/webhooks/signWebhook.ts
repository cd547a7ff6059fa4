import { createHmac, timingSafeEqual } from "node:crypto";

/** The header carrying a webhook's signature: `t=<unix ms>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const WEBHOOK_SIGNATURE_HEADER = "twei-signature";

/**
 * Signs a webhook body with the site's webhook secret.
 *
 * @example
 * headers[WEBHOOK_SIGNATURE_HEADER] = signWebhook(secret, body, Date.now())
 */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${mac}`;
}

/**
 * Checks a webhook's signature header against its raw body (and, optionally, its age).
 *
 * @example
 * if (!verifyWebhook(secret, req.headers["twei-signature"], rawBody)) res.status(401).end()
 */
export function verifyWebhook(
  secret: string,
  header: string | undefined,
  body: string,
  options: { now?: number; toleranceMs?: number } = {},
): boolean {
  const match = header ? /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) : null;
  if (!match?.[1] || !match[2]) return false;
  const timestamp = Number(match[1]);
  if (options.now !== undefined && Math.abs(options.now - timestamp) > (options.toleranceMs ?? 300_000)) return false;
  const expected = Buffer.from(signWebhook(secret, body, timestamp).slice(`t=${timestamp},v1=`.length), "hex");
  return timingSafeEqual(expected, Buffer.from(match[2], "hex"));
}
