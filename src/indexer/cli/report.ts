import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { getAddress, isAddress, type Address } from "viem";
import { postIdFor } from "../../core/postId.js";
import { loadIndexerConfig } from "../config.js";
import { buildPostReport } from "../reports/buildPostReport.js";
import { buildUserReport } from "../reports/buildUserReport.js";
import { formatReportTable, formatUserTable } from "../reports/formatReportTable.js";
import { postReportJson, reportInstanceJson, userReportJson } from "../reports/reportJson.js";
import { createSqliteStore } from "../store/createSqliteStore.js";
import { openPgIndexerStore } from "../store/pg/openPgIndexerStore.js";

const USAGE = `usage: npm run report -- [options]
  --post <postId>                    a post's PnL report (on-chain uint64 id)
  --site <siteId> --site-post-id <id>  the same, by the site's own post id
  --account <0x…>                    with --post/--site: only this account's lines
  --user <0x…>                       a user's earned, spent, net and level across posts
  --instance <batchId-actionIndex>   a bought report instance, with its content hash
  --json                             JSON instead of a table
  --db <path>                        the indexer's SQLite database (default from TWEI_NETWORK / INDEXER_DB_PATH;
                                     with DATABASE_URL set and no --db, the PostgreSQL one)`;

class UsageError extends Error {}

const address = (value: string, flag: string): Address => {
  if (!isAddress(value, { strict: false })) throw new UsageError(`${flag} needs an address, not "${value}"`);
  return getAddress(value);
};

const json = (value: unknown) => JSON.stringify(value, null, 2);

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      post: { type: "string" },
      site: { type: "string" },
      "site-post-id": { type: "string" },
      account: { type: "string" },
      user: { type: "string" },
      instance: { type: "string" },
      json: { type: "boolean", default: false },
      db: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = loadIndexerConfig(process.env);
  const databaseUrl = values.db === undefined ? config.databaseUrl : undefined;
  const dbPath = values.db ?? config.dbPath;
  if (databaseUrl === undefined && !existsSync(dbPath))
    throw new UsageError(`no indexer database at ${dbPath}: run \`npm run indexer\` first`);
  // PostgreSQL: a reader, without the writer lock (the indexer may be running).
  const store =
    databaseUrl === undefined
      ? createSqliteStore({ path: dbPath })
      : await openPgIndexerStore({ url: databaseUrl, writer: false });
  try {
    if (values.instance !== undefined) {
      const instance = await store.reportInstance(values.instance);
      if (instance === null) throw new UsageError(`no report instance ${values.instance}`);
      const body = reportInstanceJson(instance);
      if (values.json) console.log(json(body));
      else
        console.log(
          [
            `Report instance ${body.id} bought by ${body.buyer} (batch ${body.batchId}, action ${body.actionIndex})`,
            `Reflects block ${body.block.number} (${body.block.hash})`,
            `Content hash ${body.contentHash} = keccak256 of:`,
            instance.content,
          ].join("\n"),
        );
      return 0;
    }
    if (values.user !== undefined) {
      const report = await buildUserReport(store, { account: address(values.user, "--user") });
      console.log(values.json ? json(userReportJson(report)) : formatUserTable(report));
      return 0;
    }
    let postId: bigint;
    if (values.post !== undefined) {
      if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(values.post))
        throw new UsageError(`--post needs a uint64, not "${values.post}"`);
      postId = BigInt(values.post);
    } else if (values.site !== undefined && values["site-post-id"] !== undefined) {
      const site = Number(values.site);
      if (!Number.isInteger(site) || site < 0) throw new UsageError(`--site needs a site id, not "${values.site}"`);
      postId = postIdFor(site, values["site-post-id"]);
    } else throw new UsageError("give --post, --site with --site-post-id, --user or --instance");
    const account = values.account === undefined ? undefined : address(values.account, "--account");
    const report = await buildPostReport(store, { postId, account });
    if (report.siteId === null && report.participants === 0)
      throw new Error(`post ${postId} is not registered on-chain (as of block ${report.block.number})`);
    console.log(values.json ? json(postReportJson(report)) : formatReportTable(report));
    return 0;
  } finally {
    await store.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  console.error(`report: ${error instanceof Error ? error.message : String(error)}`);
  if (usage) console.error(USAGE);
  process.exitCode = usage ? 2 : 1;
}
