import { expect } from "chai";
import { describe, it } from "mocha";
import { ActionKind, KIND_COUNT } from "../../src/core/kinds.js";
import { amountFor, DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";

describe("amountFor: what an action moves, as the ledger computes it", function () {
  const amounts = (perUnit: bigint) => Array.from({ length: KIND_COUNT }, () => perUnit);

  it("multiplies the amount per unit by the units for every kind but Read-to-Earn", function () {
    expect(amountFor(amounts(7n), ActionKind.LikesOwn, 3)).to.equal(21n);
    expect(amountFor(amounts(7n), ActionKind.PnLReports, 1)).to.equal(7n);
  });

  it("pays Read-to-Earn the full amount times the basis points read, rounded down when it does not divide", function () {
    expect(amountFor(amounts(7n), ActionKind.ReadToEarn, 3_333)).to.equal(2n); // 2.3331 wei
    expect(amountFor(amounts(10_001n), ActionKind.ReadToEarn, 9_999)).to.equal(9_999n); // 9,999.9999 wei
    expect(amountFor(amounts(7n), ActionKind.ReadToEarn, 10_000)).to.equal(7n);
    expect(amountFor(DEFAULT_RULE_AMOUNTS, ActionKind.ReadToEarn, 5_000)).to.equal(
      (DEFAULT_RULE_AMOUNTS[ActionKind.ReadToEarn] ?? 0n) / 2n,
    );
  });

  it("refuses a rule set of the wrong length", function () {
    expect(() => amountFor([1n], ActionKind.LikesOwn, 1)).to.throw(RangeError);
  });
});
