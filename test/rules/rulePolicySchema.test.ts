import { expect } from "chai";
import { describe, it } from "mocha";
import { DEFAULT_POLICY, POLICY_V2, type RulePolicy } from "../../src/rules/policy.js";
import { parseRulePolicy } from "../../src/rules/rulePolicySchema.js";

const problems = (document: unknown) => {
  const parsed = parseRulePolicy(document);
  return parsed.ok ? "ok" : parsed.problems;
};

describe("policy documents (parseRulePolicy)", function () {
  it("reads the version 2 and default policies as they are, and one with proof of personhood", function () {
    expect(parseRulePolicy(POLICY_V2)).to.deep.equal({ ok: true, policy: POLICY_V2 });
    expect(parseRulePolicy(DEFAULT_POLICY)).to.deep.equal({ ok: true, policy: DEFAULT_POLICY });
    const personhood: RulePolicy = {
      ...DEFAULT_POLICY,
      personhood: { eas: `0x${"e0".repeat(20)}`, schema: `0x${"5c".repeat(32)}`, attesters: [`0x${"e1".repeat(20)}`] },
    };
    expect(parseRulePolicy(personhood)).to.deep.equal({ ok: true, policy: personhood });
  });

  it("requires each farming field from version 3 and refuses it before", function () {
    for (const field of ["voteToEarnMinLevel", "maxLikesPerUserPerDay", "earningRamp", "maxReadsEarnedPerUserPerDay"]) {
      const without: Record<string, unknown> = { ...DEFAULT_POLICY };
      delete without[field];
      expect(problems(without), field).to.include(field).and.include("required from version 3");
      expect(problems({ ...POLICY_V2, [field]: DEFAULT_POLICY[field as keyof RulePolicy] }), field).to.include(
        "only from version 3 (this policy is version 2)",
      );
    }
  });

  it("refuses a ramp out of order, unknown fields, bounds broken and a personhood without attesters", function () {
    const ramp = (earningRamp: unknown) => problems({ ...DEFAULT_POLICY, earningRamp });
    expect(
      ramp([
        { belowLevel: 5, maxReadsPerDay: 8 },
        { belowLevel: 6, maxReadsPerDay: 9 },
      ]),
    ).to.equal("ok");
    expect(
      ramp([
        { belowLevel: 5, maxReadsPerDay: 8 },
        { belowLevel: 5, maxReadsPerDay: 9 },
      ]),
    ).to.include("steps in increasing belowLevel");
    expect(ramp([{ belowLevel: 1, maxReadsPerDay: 8 }])).to.include("belowLevel");
    expect(ramp(Array.from({ length: 101 }, (_, i) => ({ belowLevel: 2 + i, maxReadsPerDay: 1 })))).to.include(
      "earningRamp",
    );
    expect(problems({ ...DEFAULT_POLICY, tips: 1 })).to.include("tips");
    expect(problems({ ...DEFAULT_POLICY, minReadBps: 10_000 })).to.equal("ok");
    expect(problems({ ...DEFAULT_POLICY, minReadBps: 10_001 })).to.include("minReadBps");
    expect(problems({ ...DEFAULT_POLICY, wordsPerMinute: 0 })).to.include("wordsPerMinute");
    expect(problems({ ...DEFAULT_POLICY, commentToEarnMinLevel: 0 })).to.include("commentToEarnMinLevel");
    expect(problems({ ...DEFAULT_POLICY, voteToEarnMinLevel: 0 })).to.include("voteToEarnMinLevel");
    expect(problems({ ...DEFAULT_POLICY, maxLikesPerUserPerDay: -1 })).to.include("maxLikesPerUserPerDay");
    const personhood = (attesters: unknown) =>
      problems({
        ...DEFAULT_POLICY,
        personhood: { eas: `0x${"e0".repeat(20)}`, schema: `0x${"5c".repeat(32)}`, attesters },
      });
    expect(personhood([])).to.include("attesters");
    expect(personhood(["0x1"])).to.include("not an address");
  });
});
