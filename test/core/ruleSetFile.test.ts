import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { describe, it } from "mocha";
import { parseUnits } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { RuleSetFileError, parseRuleSetFile, ruleSetFileAmounts } from "../../src/core/ruleSetFile.js";
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

  it("takes decimal Twei with up to 18 decimals and below 2**88 wei, and nothing around them", async function () {
    const file = JSON.parse(await readFile("deployments/rules/default.json", "utf8")) as {
      name: string;
      amounts: Record<string, string>;
    };
    const likesOwn = (amount: string) => {
      const copy = structuredClone(file);
      copy.amounts.LikesOwn = amount;
      return parseRuleSetFile(JSON.stringify(copy), "rules.json").amounts[ActionKind.LikesOwn];
    };
    expect(likesOwn("0.000000000000000001")).to.equal(1n);
    expect(likesOwn("7")).to.equal(parseUnits("7", 18));
    expect(likesOwn("309485009.821345068724781055")).to.equal(2n ** 88n - 1n);
    expect(() => likesOwn("309485009.821345068724781056")).to.throw(RuleSetFileError, /2\*\*88/);
    for (const bad of ["0.0000000000000000001", "1.", ".5", " 1", "1 ", "1e3", "0x10", ""])
      expect(() => likesOwn(bad), JSON.stringify(bad)).to.throw(RuleSetFileError, /LikesOwn/);
    const named = (change: (copy: Record<string, unknown>) => void) => {
      const copy: Record<string, unknown> = structuredClone(file);
      change(copy);
      return () => parseRuleSetFile(JSON.stringify(copy), "rules.json");
    };
    expect(named((c) => (c.name = ""))).to.throw(RuleSetFileError, /name/);
    expect(named((c) => (c.version = 2))).to.throw(RuleSetFileError, /version/);
    expect(named((c) => (c.description = "prices for the launch"))().name).to.equal(file.name);
  });

  it("writes a rule set's amounts back as the file's decimal strings, which parse to the same amounts", function () {
    const amounts = ruleSetFileAmounts(DEFAULT_RULE_AMOUNTS);
    expect(amounts.ReadToEarn).to.equal("1");
    expect(amounts.EarnedForPluses).to.equal("0.5");
    expect(Object.keys(amounts)).to.have.length(13);
    const text = JSON.stringify({ name: "default", amounts });
    expect(parseRuleSetFile(text, "rules.json")).to.deep.equal({ name: "default", amounts: DEFAULT_RULE_AMOUNTS });
  });
});
