import { parseArgs } from "node:util";
import Table from "cli-table3";
import { getAddress, isAddress, type Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { SiteEventInput } from "../evidence/siteEvent.js";
import { DEFAULT_POLICY, secondsToRead } from "../rules/policy.js";
import { TweiApiError } from "../sdk/createTweiClient.js";
import { siteClientFromEnv, SiteClientEnvError } from "./siteClientFromEnv.js";

/**
 * `npm run send-example-event`: the site's first envelope, signed and sent as a site would (the
 * operating guide's step 5). A new post by --author (a fresh address by default), published, then
 * read in full by --reader (a fresh address): `post_read`'s `secondsRead` is the post's whole time
 * to read at the default 200 words a minute. Prints the signed envelope and waits until both events
 * are settled (or failed), unless --no-wait. Environment: see src/ops/siteClientFromEnv.ts.
 */
const usage = `usage: TWEI_API_KEY=… TWEI_SITE_ID=… TWEI_SITE_SIGNER_KEY=0x… [TWEI_RELAYER_URL=http://127.0.0.1:8787] [TWEI_NETWORK=localhost]
  npm run send-example-event -- [--author 0x…] [--reader 0x…] [--words 200] [--no-wait] [--timeout-s 120]`;

const fresh = (): Address => privateKeyToAccount(generatePrivateKey()).address;

try {
  const { values } = parseArgs({
    options: {
      author: { type: "string" },
      reader: { type: "string" },
      words: { type: "string", default: "200" },
      "no-wait": { type: "boolean", default: false },
      "timeout-s": { type: "string", default: "120" },
    },
  });
  const words = Number(values.words);
  const timeoutS = Number(values["timeout-s"]);
  for (const [name, value] of [
    ["author", values.author],
    ["reader", values.reader],
  ] as const)
    if (value !== undefined && !isAddress(value)) throw new SiteClientEnvError(`  --${name}: not an address`);
  if (!Number.isInteger(words) || words < 1 || words > 1_000_000)
    throw new SiteClientEnvError("  --words: a whole number of words from 1");
  if (!Number.isInteger(timeoutS) || timeoutS < 1) throw new SiteClientEnvError("  --timeout-s: whole seconds from 1");

  const { twei, env } = await siteClientFromEnv(process.env);
  const author = values.author ? getAddress(values.author) : fresh();
  const reader = values.reader ? getAddress(values.reader) : fresh();
  const stamp = Date.now();
  const postId = `example-${stamp}`;
  const occurredAt = Math.floor(stamp / 1_000);
  const events: SiteEventInput[] = [
    { eventId: `${postId}-published`, type: "post_published", occurredAt, user: author, postId, wordCount: words },
    {
      eventId: `${postId}-read`,
      type: "post_read",
      occurredAt: occurredAt + 1,
      user: reader,
      postId,
      secondsRead: secondsToRead(DEFAULT_POLICY, words),
    },
  ];
  const nonce = BigInt(stamp) * 1_000n;
  const { body } = await twei.signEvents(events, nonce);
  console.log(`POST ${env.TWEI_RELAYER_URL}/v1/events (Authorization: Bearer <the site's API key>):`);
  console.log(JSON.stringify(JSON.parse(body), null, 2));
  const answer = await twei.sendEvents(events, { nonce });
  const table = new Table({ head: ["event", "type", "answer", "status"] });
  const statuses = new Map<string, string>();
  for (const result of answer.results) {
    const event = events.find((e) => e.eventId === result.eventId);
    statuses.set(result.eventId, result.status === "accepted" ? "accepted" : `${result.status}: ${result.code}`);
    table.push([result.eventId, event?.type ?? "", result.status, result.status === "accepted" ? "" : result.message]);
  }
  console.log(table.toString());
  if (answer.counts.accepted !== events.length) process.exit(1);
  if (values["no-wait"]) process.exit(0);

  console.log(`waiting for settlement (GET /v1/events/${env.TWEI_SITE_ID}/<eventId>, up to ${timeoutS} s)…`);
  const deadline = Date.now() + timeoutS * 1_000;
  const final = new Map<string, Record<string, unknown>>();
  while (final.size < events.length && Date.now() < deadline) {
    for (const { eventId } of events) {
      if (final.has(eventId)) continue;
      const event = await twei.event(eventId);
      if (event.status === "settled" || event.status === "failed") {
        final.set(eventId, event);
        console.log(`  ${eventId}: ${String(event.status)}`);
      }
    }
    if (final.size < events.length) await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  const result = new Table({ head: ["event", "status", "batch", "transaction"] });
  for (const { eventId } of events) {
    const event = final.get(eventId) ?? (await twei.event(eventId));
    result.push([eventId, String(event.status), String(event.batchId ?? "-"), String(event.txHash ?? "-")]);
  }
  console.log(result.toString());
  console.log(`author ${author}, reader ${reader} (see the indexer's GET /v1/users/${reader})`);
  process.exit(
    [...final.values()].every((event) => event.status === "settled") && final.size === events.length ? 0 : 1,
  );
} catch (error) {
  if (error instanceof SiteClientEnvError) {
    console.error(`${usage}\n${error.message}`);
    process.exit(2);
  }
  const message =
    error instanceof TweiApiError
      ? error.message
      : error instanceof Error
        ? error.message.split("\n")[0]
        : String(error);
  console.error(`send-example-event failed: ${message}`);
  process.exit(1);
}
