/**
 * `npm run test:mutation`: Stryker mutation testing over the trust core (src/rules, src/evidence,
 * src/core, src/auditor, src/relayer/settlement). Each area's mutants run against the tests that
 * should catch them (mocha through tsx, in Stryker's sandbox, one mutant active at a time); the
 * run prints a table per area and a final `mutation_score=<x>` (killed + timed out over all
 * mutants with a verdict). Not in CI: it takes tens of minutes.
 *
 *   npm run test:mutation                       # every area
 *   npm run test:mutation -- --area rules --area core
 *   npm run test:mutation -- --concurrency 4
 *   npm run test:mutation -- --area core --mutate src/core/levels.ts   # one file (or `file.ts:10-40`)
 *
 * Stryker's mocha runner does not load mocha 12 (it requires files mocha renamed), so the command
 * runner runs mocha; `--bail` ends a run at the first failing test, which is all a kill needs.
 */
import { Stryker } from "@stryker-mutator/core";
import type { MutantResult, PartialStrykerOptions } from "@stryker-mutator/api/core";
import { globSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

interface Area {
  readonly name: string;
  readonly mutate: readonly string[];
  /**
   * The tests that should catch a mutant of the area, fastest first: `--bail` ends a run at the
   * first failure, so most kills cost only the first files. Files that start a chain or a
   * database come last, as only survivors pay for them.
   */
  readonly tests: readonly string[];
  /** Tests (by title) left out of the area's runs: slow ones that test something else. */
  readonly skip?: string;
}

const AREAS: readonly Area[] = [
  {
    name: "rules",
    mutate: ["src/rules/**/*.ts"],
    tests: [
      "test/rules/rules.test.ts",
      "test/rules/outcomes.test.ts",
      "test/rules/farmRules.test.ts",
      "test/rules/policyHash.test.ts",
      "test/rules/rulePolicySchema.test.ts",
      "test/personhood/personhoodRules.test.ts",
      "test/relayer/settlementRules.test.ts",
    ],
    skip: "relayer database schema versions",
  },
  {
    name: "evidence",
    mutate: ["src/evidence/**/*.ts"],
    // test/auditor/tampering.test.ts (a demo stack of Hardhat nodes in its before hook) would catch
    // more, but the schemas' mutants act at load, and each then costs a fresh worker and that stack.
    tests: [
      "test/evidence/evidence.test.ts",
      "test/evidence/bounds.test.ts",
      "test/evidence/canonicalSignature.test.ts",
      "test/rules/rules.test.ts",
    ],
  },
  {
    name: "core",
    mutate: ["src/core/**/*.ts"],
    tests: [
      "test/core/*.test.ts",
      "test/rules/rules.test.ts",
      "test/relayer/buildBatch.test.ts",
      "test/rules/farmRules.test.ts",
    ],
  },
  {
    name: "auditor",
    // The CLI and the watchtower loop are exercised by process tests, too slow to run per mutant.
    mutate: ["src/auditor/**/*.ts", "!src/auditor/main.ts", "!src/auditor/watch/**"],
    tests: [
      "test/auditor/discrepancies.test.ts",
      "test/auditor/farmRules.test.ts",
      "test/auditor/tampering.test.ts",
      "test/auditor/ruleSchedule.test.ts",
    ],
  },
  {
    name: "settlement",
    // batcher.ts is the loop around the pure steps; it is exercised by the relayer's process tests.
    mutate: ["src/relayer/settlement/**/*.ts", "!src/relayer/settlement/batcher.ts"],
    tests: ["test/relayer/buildBatch.test.ts", "test/relayer/settlementRules.test.ts"],
    skip: "relayer database schema versions",
  },
];

const { values } = parseArgs({
  options: {
    area: { type: "string", multiple: true },
    concurrency: { type: "string", default: "2" },
    /** `in-process` (default): mocha stays loaded, each mutant runs the tests that cover it. `command`: a process a mutant. */
    runner: { type: "string", default: "in-process" },
    /** Mutate these files (Stryker globs, `file.ts:10-40` for lines) instead of the area's own. */
    mutate: { type: "string", multiple: true },
  },
});
if (values.mutate?.length && values.area?.length !== 1) {
  console.error("--mutate narrows one area: name it with --area");
  process.exit(2);
}
const chosen = values.area?.length ? AREAS.filter((a) => values.area?.includes(a.name)) : AREAS;
const unknown = (values.area ?? []).filter((name) => !AREAS.some((a) => a.name === name));
if (unknown.length > 0) {
  console.error(`unknown area(s): ${unknown.join(", ")}; areas: ${AREAS.map((a) => a.name).join(", ")}`);
  process.exit(2);
}

interface Tally {
  killed: number;
  survived: number;
  timeout: number;
  noCoverage: number;
  errors: number;
}

function tally(results: readonly MutantResult[]): Tally {
  const t: Tally = { killed: 0, survived: 0, timeout: 0, noCoverage: 0, errors: 0 };
  for (const r of results) {
    if (r.status === "Killed") t.killed += 1;
    else if (r.status === "Survived") t.survived += 1;
    else if (r.status === "Timeout") t.timeout += 1;
    else if (r.status === "NoCoverage") t.noCoverage += 1;
    else if (r.status === "RuntimeError" || r.status === "CompileError") t.errors += 1;
  }
  return t;
}

const detected = (t: Tally) => t.killed + t.timeout;
const scored = (t: Tally) => detected(t) + t.survived + t.noCoverage;
const percent = (t: Tally) => (scored(t) === 0 ? "-" : ((100 * detected(t)) / scored(t)).toFixed(1));

if (values.runner !== "in-process" && values.runner !== "command") {
  console.error(`unknown runner ${values.runner}: in-process or command`);
  process.exit(2);
}

const runnerOptions = (area: Area): PartialStrykerOptions => {
  const skip = area.skip ? `--grep '${area.skip}' --invert` : "";
  if (values.runner === "command")
    return {
      testRunner: "command",
      commandRunner: {
        command: `node --import tsx node_modules/mocha/bin/mocha.js --bail --timeout 120000 ${skip} ${area.tests.join(" ")}`,
      },
      coverageAnalysis: "off",
    };
  const files = area.tests.flatMap((pattern) => globSync(pattern).sort());
  return {
    testRunner: "in-process-mocha",
    plugins: [fileURLToPath(new URL("./mutation/inProcessMochaRunner.ts", import.meta.url))],
    testRunnerNodeArgs: ["--import", "tsx"],
    coverageAnalysis: "perTest",
    inProcessMocha: { files, ...(area.skip ? { skip: area.skip } : {}), timeout: 120_000 },
    warnings: { unknownOptions: false, preprocessorErrors: true, unserializableOptions: true, slow: true },
  };
};

const rows: [string, Tally][] = [];
for (const area of chosen) {
  console.log(`\n== ${area.name}: mutating ${area.mutate.join(" ")} against ${area.tests.join(" ")}`);
  const options: PartialStrykerOptions = {
    ...runnerOptions(area),
    mutate: values.mutate?.length ? [...values.mutate] : [...area.mutate],
    concurrency: Number(values.concurrency),
    timeoutMS: 60_000,
    reporters: ["progress-append-only", "json"],
    jsonReporter: { fileName: `reports/mutation/${area.name}.json` },
    tempDirName: ".stryker-tmp",
    cleanTempDir: "always",
    mutator: { excludedMutations: ["StringLiteral"] },
  };
  const results = await new Stryker(options).runMutationTest();
  const t = tally(results);
  rows.push([area.name, t]);
  for (const r of results.filter((m) => m.status === "Survived" || m.status === "NoCoverage"))
    console.log(
      `  ${r.status === "Survived" ? "survived" : "no test reaches"}: ${r.fileName}:${r.location.start.line} ${r.mutatorName} → ${r.replacement ?? ""}`,
    );
}

const total = rows.reduce<Tally>(
  (sum, [, t]) => ({
    killed: sum.killed + t.killed,
    survived: sum.survived + t.survived,
    timeout: sum.timeout + t.timeout,
    noCoverage: sum.noCoverage + t.noCoverage,
    errors: sum.errors + t.errors,
  }),
  { killed: 0, survived: 0, timeout: 0, noCoverage: 0, errors: 0 },
);
console.log("\narea        killed  timeout  survived  no test  errors  score %");
for (const [name, t] of [...rows, ["all", total] as [string, Tally]])
  console.log(
    `${name.padEnd(11)} ${String(t.killed).padStart(6)} ${String(t.timeout).padStart(8)} ${String(t.survived).padStart(9)} ${String(t.noCoverage).padStart(8)} ${String(t.errors).padStart(7)} ${percent(t).padStart(8)}`,
  );
console.log(`mutation_score=${scored(total) === 0 ? 0 : (detected(total) / scored(total)).toFixed(4)}`);
