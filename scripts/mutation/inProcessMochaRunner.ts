/**
 * A Stryker test runner that keeps mocha and the test files loaded in its worker process, for
 * `npm run test:mutation`. Stryker's own mocha runner does not load mocha 12 (it requires
 * `lib/cli/run-helpers`, which mocha 12 renamed to `.cjs`); the command runner it fell back to
 * starts node, tsx and every test file again for each mutant (seconds each) and knows no
 * coverage, so every mutant ran every test. Here the files load once: a mutant is switched on
 * at run time (Stryker's mutation switching) and runs only the tests that covered it in the
 * dry run, and a mutant no test reaches is reported without a run. A mutant that acts while
 * the files load (a module-level constant) makes Stryker start a fresh worker for it.
 *
 * Options (Stryker's `inProcessMocha`): `files`, the test files in order; `skip`, a title
 * pattern of tests left out; `timeout`, mocha's per-test timeout in ms.
 *
 * Module state survives from one mutant's run to the next, as it does in any in-process runner:
 * the trust core keeps none but a memo of post ids (src/rules/evaluateEvent.ts), which a mutant
 * can only fill with what postIdFor returned under it.
 */
import { INSTRUMENTER_CONSTANTS, type MutantCoverage, type StrykerOptions } from "@stryker-mutator/api/core";
import { commonTokens, declareClassPlugin, PluginKind, tokens } from "@stryker-mutator/api/plugin";
import {
  DryRunStatus,
  TestStatus,
  determineHitLimitReached,
  toMutantRunResult,
  type DryRunResult,
  type MutantRunOptions,
  type MutantRunResult,
  type TestResult,
  type TestRunner,
  type TestRunnerCapabilities,
} from "@stryker-mutator/api/test-runner";
import Mocha from "mocha";
import { resolve } from "node:path";

export interface InProcessMochaOptions {
  readonly files: readonly string[];
  readonly skip?: string;
  readonly timeout?: number;
}

interface Namespace {
  activeMutant?: string | undefined;
  currentTestId?: string | undefined;
  mutantCoverage?: MutantCoverage | undefined;
  hitCount?: number | undefined;
  hitLimit?: number | undefined;
}

const namespace = (): Namespace => {
  const global = globalThis as unknown as Record<string, Namespace | undefined>;
  return (global[INSTRUMENTER_CONSTANTS.NAMESPACE] ??= {});
};

const HOOK_PREFIX = "\u0000hooks of ";

/** The full titles of a suite's tests, its nested suites' included. */
const testsOf = (suite: Mocha.Suite): string[] => [
  ...suite.tests.map((test) => test.fullTitle()),
  ...suite.suites.flatMap(testsOf),
];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A reporter that prints nothing: the results are collected from the runner's events. */
class Silent extends Mocha.reporters.Base {}

class InProcessMochaRunner implements TestRunner {
  static inject = tokens(commonTokens.options);
  private mocha: Mocha | undefined;
  /** The suites whose before/after-all hooks ran, by their coverage key. */
  private readonly suites = new Map<string, Mocha.Suite>();
  private readonly settings: InProcessMochaOptions;

  constructor(options: StrykerOptions) {
    this.settings = (options as StrykerOptions & { inProcessMocha: InProcessMochaOptions }).inProcessMocha;
  }

  capabilities(): TestRunnerCapabilities {
    // Files load once: a static mutant needs a fresh process, which Stryker then starts.
    return { reloadEnvironment: false };
  }

  private async loaded(): Promise<Mocha> {
    if (this.mocha) return this.mocha;
    const mocha = new Mocha({ reporter: Silent, timeout: this.settings.timeout ?? 120_000 });
    mocha.cleanReferencesAfterRun(false);
    for (const file of this.settings.files) mocha.addFile(resolve(file));
    await mocha.loadFilesAsync();
    this.mocha = mocha;
    return mocha;
  }

  /** Runs the tests whose full titles are `only` (all but the skipped ones when absent). */
  private async run(only: readonly string[] | undefined, bail: boolean): Promise<TestResult[]> {
    const mocha = await this.loaded();
    const skip = this.settings.skip;
    mocha.options.grep = only ? new RegExp(`^(?:${only.map(escape).join("|")})$`) : skip ? new RegExp(skip) : undefined;
    mocha.options.invert = !only && skip !== undefined;
    mocha.bail(bail);
    const tests: TestResult[] = [];
    await new Promise<void>((done) => {
      let started = Date.now();
      const runner = mocha.run(() => done());
      runner.on("hook", (hook: Mocha.Hook) => {
        // What a before/after-all hook runs belongs to every test of its suite (it runs again
        // for any of them): counted under the suite, then shared out (see `shareHookCoverage`).
        if (/^"(before|after) all"/.test(hook.title) && hook.parent) {
          const key = `${HOOK_PREFIX}${hook.parent.fullTitle()}`;
          this.suites.set(key, hook.parent);
          namespace().currentTestId = key;
        }
      });
      runner.on("test", (test: Mocha.Test) => {
        namespace().currentTestId = test.fullTitle();
        started = Date.now();
      });
      const result = (test: Mocha.Runnable, status: TestStatus, failureMessage?: string) => {
        const id = test.fullTitle();
        const base = { id, name: id, timeSpentMs: Date.now() - started };
        tests.push(
          status === TestStatus.Failed
            ? { ...base, status, failureMessage: failureMessage ?? "failed" }
            : { ...base, status: status as TestStatus.Success | TestStatus.Skipped },
        );
      };
      runner.on("pass", (test: Mocha.Test) => result(test, TestStatus.Success));
      runner.on("pending", (test: Mocha.Test) => result(test, TestStatus.Skipped));
      runner.on("fail", (test: Mocha.Runnable, error: Error) => result(test, TestStatus.Failed, error?.message));
    });
    namespace().currentTestId = undefined;
    return tests;
  }

  async dryRun(): Promise<DryRunResult> {
    const ns = namespace();
    ns.activeMutant = undefined;
    ns.mutantCoverage = { static: {}, perTest: {} };
    try {
      const tests = await this.run(undefined, false);
      return { status: DryRunStatus.Complete, tests, mutantCoverage: this.shareHookCoverage(ns.mutantCoverage, tests) };
    } catch (error) {
      return { status: DryRunStatus.Error, errorMessage: String((error as Error)?.stack ?? error) };
    }
  }

  /** Moves what each suite's hooks covered to each of the suite's tests that ran. */
  private shareHookCoverage(coverage: MutantCoverage, tests: readonly TestResult[]): MutantCoverage {
    const ran = new Set(tests.map((test) => test.id));
    const perTest = { ...coverage.perTest };
    for (const [key, suite] of this.suites) {
      const hit = perTest[key];
      delete perTest[key];
      if (!hit) continue;
      for (const id of testsOf(suite).filter((id) => ran.has(id))) {
        const own = (perTest[id] ??= {});
        for (const [mutant, count] of Object.entries(hit)) own[mutant] = (own[mutant] ?? 0) + count;
      }
    }
    return { static: coverage.static, perTest };
  }

  async mutantRun(options: MutantRunOptions): Promise<MutantRunResult> {
    const ns = namespace();
    ns.activeMutant = options.activeMutant.id;
    ns.hitCount = 0;
    ns.hitLimit = options.hitLimit;
    try {
      const tests = await this.run(options.testFilter, !options.disableBail);
      const timedOut = determineHitLimitReached(ns.hitCount, ns.hitLimit);
      return toMutantRunResult(timedOut ?? { status: DryRunStatus.Complete, tests });
    } catch (error) {
      return toMutantRunResult({ status: DryRunStatus.Error, errorMessage: String(error) });
    } finally {
      ns.activeMutant = undefined;
      ns.hitLimit = undefined;
    }
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.TestRunner, "in-process-mocha", InProcessMochaRunner)];
