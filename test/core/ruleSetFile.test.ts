import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { describe, it } from "mocha";
import { parseUnits } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { RuleSetFileError, parseRuleSetFile } from "../../src/core/ruleSetFile.js";
import { LAUNCH_RULE_AMOUNTS } from "../../scripts/demo/startDemoStack.js";

const read = async (name: string) => parseRuleSetFile(await readFile(`deployments/rules/${name}.json`, "utf8"), name);

describe("rule set files (npm run deploy / set-rules with TWEI_RULES)", function () {
  it("ships the launch rules (publishing free, a full read pays 100 Twei) and the default rules", async function () {
    const launch = await read("launch");
    expect(launch.amounts).to.deep.equal(LAUNCH_RULE_AMOUNTS);
    expect(launch.amounts[ActionKind.PostPublishTribute]).to.equal(0n);
    expect(launch.amounts[ActionKind.ReadToEarn]).to.equal(parseUnits("100", 18));
    expect((await read("default")).amounts).to.deep.equal(DEFAULT_RULE_AMOUNTS);
  });

  it("refuses a file that misses a kind, names an unknown one, or holds a bad amount", async function () {
    const text = await readFile("deployments/rules/default.json", "utf8");
    const file = JSON.parse(text) as { amounts: Record<string, string> };
    const variant = (change: (amounts: Record<string, string>) => void) => {
      const copy = structuredClone(file);
      change(copy.amounts);
      return () => parseRuleSetFile(JSON.stringify(copy), "rules.json");
    };
    expect(variant((a) => delete a.PnLReports)).to.throw(RuleSetFileError, /PnLReports/);
    expect(variant((a) => (a.Tips = "1"))).to.throw(RuleSetFileError, /Tips/);
    expect(variant((a) => (a.LikesOwn = "-1"))).to.throw(RuleSetFileError, /LikesOwn/);
    expect(variant((a) => (a.LikesOwn = "400000000"))).to.throw(RuleSetFileError, /2\*\*88/);
    expect(() => parseRuleSetFile("{", "rules.json")).to.throw(RuleSetFileError, /not JSON/);
  });
});
