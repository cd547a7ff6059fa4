// npm run audit -- --network <name> (--relayer <url> | --evidence-dir <dir>) [--json]
// Trusts nothing but the chain and the published evidence: re-verifies every settled batch
// (its rules replayed with the site's policy committed on-chain at the batch's block, the document
// fetched beside the evidence and checked against that hash) and the token's supply and balances. Exit codes: 0 clean, 1 discrepancies found, 2 bad
// usage, 3 the audit could not run (no deployment, chain unreachable or another chain).
import { parseArgs } from "node:util";
import { createPublicClient, http, type PublicClient } from "viem";
import { createLogRange } from "../chain/createLogRange.js";
import { readDeployment, DeploymentFileError } from "../chain/deployments.js";
import { scrubUrls } from "../observability/logger.js";
import { DEFAULT_POLICY, type RulePolicy } from "../rules/policy.js";
import { readPolicyFile } from "../storage/readPolicyFile.js";
import {
  directoryEvidenceSource,
  relayerEvidenceSource,
  savingEvidenceSource,
  type EvidenceSource,
} from "./evidenceSource.js";
import { auditJson, formatAudit } from "./formatAudit.js";
import { isDiscrepancyCode, NEVER_PAUSE_CODES, PAUSE_SAFE_CODES } from "./discrepancy.js";
import { runAudit } from "./runAudit.js";
import { CheckpointError } from "./watch/checkpoint.js";
import { runWatchtower, WatchtowerCannotStartError } from "./watch/runWatchtower.js";

const USAGE = `usage: npm run audit -- [options]
  --network <name>          deployments/<name>.json to audit (default localhost)
  --rpc <url>               the chain's JSON-RPC URL (default $TWEI_RPC_URL or http://127.0.0.1:8545)
  --relayer <url>           download each batch's evidence from the relayer (GET /v1/batches/:id) and
                            each site policy document the chain names (GET /v1/policies/:hash)
  --evidence-dir <dir>      or read them from <dir>/<batchId>.json and <dir>/policies/<hash>.json
  --save-evidence <dir>     also write the evidence and policy documents used there
  --to-block <n>            audit up to block n (default: the head)
  --policy <file.json>      only for a site with no policy committed on-chain (older deployments): the
                            policy its batches are replayed with (default: src/rules/policy.ts's
                            DEFAULT_POLICY, what the relayer applies unless configured). Not needed
                            otherwise: each batch is replayed with its site's policy in force at its
                            block, fetched by hash and checked (policy_unavailable, policy_invalid)
  --unbacked-after <s>      with --evidence-dir: a batch whose file is absent is evidence_unavailable for
                            s seconds after it settled, unbacked_batch after (default 300; 0: at once)
  --deployments-root <dir>  where deployments/ is (default: the working directory)
  --max-log-range <blocks>  never ask eth_getLogs for more blocks at once (default 100000); below it the
                            span adapts: it shrinks when the RPC refuses a query as too big, grows on success
  --json                    the result as JSON on stdout
  --quiet                   no progress lines
the watchtower (runs until SIGINT/SIGTERM, one JSON line a discrepancy, step or pause on stdout):
  --follow                  audit each batch as it settles
  --poll-ms <ms>            how often to look for new blocks (default 1000)
  --confirmations <n>       audit up to the head minus n blocks (default 0)
  --checkpoint <file>       remember the last audited block and what was reported: a restart reports nothing twice
  --webhook <url>           POST each discrepancy there as JSON
  --pause-on <codes>        pause the ledger on these discrepancy codes (comma-separated), with the
                            pauser's key in $TWEI_PAUSER_KEY; safe: ${PAUSE_SAFE_CODES.join(",")}
  --metrics-port <port>     Prometheus metrics on 127.0.0.1:<port>/metrics
exit codes: 0 clean, 1 discrepancies found, 2 bad usage, 3 could not audit`;

class UsageError extends Error {}
class CannotAuditError extends Error {}

async function readPolicy(path: string | undefined): Promise<RulePolicy> {
  if (path === undefined) return DEFAULT_POLICY;
  const read = await readPolicyFile(path);
  if (!read.ok) throw new UsageError(`--policy: ${read.reason}`);
  return read.policy;
}

const PAUSER_KEY = /^0x[0-9a-fA-F]{64}$/;
/** How long an archive may lack a batch's file before the batch is unbacked (both modes alike). */
const DEFAULT_UNBACKED_AFTER_SECONDS = 300;

/** The --follow options, checked; undefined without --follow (and then none of them may be given). */
function watchOptions(values: Record<string, string | boolean | undefined>) {
  const names = ["poll-ms", "confirmations", "checkpoint", "webhook", "pause-on", "metrics-port"];
  if (!values.follow) {
    const stray = names.find((name) => values[name] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --follow`);
    return undefined;
  }
  if (values["to-block"] !== undefined || values.json)
    throw new UsageError("--follow cannot be combined with --to-block or --json (it prints JSON lines)");
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    if (typeof raw !== "string" || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
      throw new UsageError(`--${name} needs a whole number from ${min} to ${max}`);
    return Number(raw);
  };
  const pauseOn = typeof values["pause-on"] === "string" ? values["pause-on"].split(",").map((c) => c.trim()) : [];
  const unknown = pauseOn.find((code) => !isDiscrepancyCode(code));
  if (unknown !== undefined) throw new UsageError(`--pause-on: ${unknown} is not a discrepancy code`);
  const honest = pauseOn.find((code) => (NEVER_PAUSE_CODES as readonly string[]).includes(code));
  if (honest !== undefined)
    throw new UsageError(
      `--pause-on: ${honest} is raised for honest batches whose evidence is late; the codes safe to pause on are ${PAUSE_SAFE_CODES.join(",")}`,
    );
  const webhook = values.webhook;
  if (webhook !== undefined && (typeof webhook !== "string" || !/^https?:\/\/[^\s]+$/.test(webhook)))
    throw new UsageError("--webhook needs an http(s) URL");
  const pauserKey = process.env.TWEI_PAUSER_KEY;
  if (pauseOn.length > 0 && (pauserKey === undefined || !PAUSER_KEY.test(pauserKey)))
    throw new UsageError("--pause-on needs the pauser's private key (0x and 64 hex digits) in TWEI_PAUSER_KEY");
  const metricsPort = values["metrics-port"] === undefined ? undefined : integer("metrics-port", 0, 1, 65_535);
  return {
    pollMs: integer("poll-ms", 1_000, 50, 3_600_000),
    confirmations: integer("confirmations", 0, 0, 1_000),
    pauseOn: pauseOn.filter(isDiscrepancyCode),
    ...(typeof values.checkpoint === "string" ? { checkpointPath: values.checkpoint } : {}),
    ...(typeof webhook === "string" ? { webhookUrl: webhook } : {}),
    ...(pauseOn.length > 0 ? { pauserKey: pauserKey as `0x${string}` } : {}),
    ...(metricsPort === undefined ? {} : { metricsPort }),
  };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      network: { type: "string", default: "localhost" },
      rpc: { type: "string" },
      relayer: { type: "string" },
      "evidence-dir": { type: "string" },
      "save-evidence": { type: "string" },
      "to-block": { type: "string" },
      policy: { type: "string" },
      "deployments-root": { type: "string" },
      "max-log-range": { type: "string" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      follow: { type: "boolean", default: false },
      "poll-ms": { type: "string" },
      confirmations: { type: "string" },
      checkpoint: { type: "string" },
      webhook: { type: "string" },
      "pause-on": { type: "string" },
      "metrics-port": { type: "string" },
      "unbacked-after": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if ((values.relayer === undefined) === (values["evidence-dir"] === undefined))
    throw new UsageError("give exactly one of --relayer <url> and --evidence-dir <dir>");
  if (values.relayer !== undefined && !/^https?:\/\/[^\s]+$/.test(values.relayer))
    throw new UsageError("--relayer needs an http(s) URL");
  if (values["to-block"] !== undefined && !/^\d+$/.test(values["to-block"]))
    throw new UsageError("--to-block needs a block number");
  const maxLogRange = values["max-log-range"];
  if (maxLogRange !== undefined && (!/^\d+$/.test(maxLogRange) || BigInt(maxLogRange) < 1n))
    throw new UsageError("--max-log-range needs a number of blocks (at least 1)");
  const logRange = maxLogRange === undefined ? createLogRange() : createLogRange({ max: BigInt(maxLogRange) });
  const watch = watchOptions(values);
  const unbackedAfter = values["unbacked-after"] ?? String(DEFAULT_UNBACKED_AFTER_SECONDS);
  if (!/^\d+$/.test(unbackedAfter) || Number(unbackedAfter) > 31_536_000)
    throw new UsageError("--unbacked-after needs a whole number of seconds (at most a year)");
  const unbackedAfterSeconds = Number(unbackedAfter);
  const policy = await readPolicy(values.policy);
  const rpcUrl = values.rpc ?? process.env.TWEI_RPC_URL ?? "http://127.0.0.1:8545";
  if (!/^https?:\/\//.test(rpcUrl)) throw new UsageError("the RPC URL must be http(s)");

  let deployment;
  try {
    deployment = await readDeployment(values.network, values["deployments-root"]);
  } catch (error) {
    if (error instanceof DeploymentFileError) throw new CannotAuditError(error.message);
    throw error;
  }
  const publicClient = createPublicClient({
    transport: http(rpcUrl, { retryCount: 2, timeout: 20_000 }),
  }) as PublicClient;
  let chainId: number;
  try {
    chainId = await publicClient.getChainId();
  } catch {
    throw new CannotAuditError(`the chain's RPC does not answer (set --rpc or TWEI_RPC_URL)`);
  }
  if (chainId !== deployment.chainId)
    throw new CannotAuditError(`the RPC serves chain ${chainId}, the deployment is on chain ${deployment.chainId}`);

  let evidence: EvidenceSource = values.relayer
    ? relayerEvidenceSource(values.relayer)
    : directoryEvidenceSource(values["evidence-dir"] as string);
  if (values["save-evidence"]) evidence = savingEvidenceSource(evidence, values["save-evidence"]);
  const progress = values.quiet ? undefined : (line: string) => console.error(`audit: ${line}`);
  if (watch) {
    try {
      await runWatchtower({
        publicClient,
        deployment,
        evidence,
        policy,
        unbackedAfterSeconds,
        logRange,
        rpcUrl,
        ...watch,
        print: (line) => console.log(line),
      });
    } catch (error) {
      if (error instanceof WatchtowerCannotStartError || error instanceof CheckpointError)
        throw new CannotAuditError(error.message);
      throw error;
    }
    return 0;
  }
  const result = await runAudit({
    publicClient,
    deployment,
    evidence,
    policy,
    unbackedAfterSeconds,
    logRange,
    ...(values["to-block"] === undefined ? {} : { toBlock: BigInt(values["to-block"]) }),
    ...(progress ? { onProgress: progress } : {}),
  });
  console.log(values.json ? JSON.stringify(auditJson(result), null, 2) : formatAudit(result));
  return result.ok ? 0 : 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // viem's errors have a numeric code: only node:util's parseArgs codes are strings.
  const code = (error as { code?: unknown }).code;
  const usage = error instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
  const message = scrubUrls(error instanceof Error ? error.message : String(error));
  console.error(`audit: ${message}`);
  if (usage) console.error(USAGE);
  process.exitCode = usage ? 2 : 3;
}
