import { expect } from "chai";
import { describe, it } from "mocha";
import { backoffDelay } from "../../src/indexer/sync/backoffDelay.js";

describe("backoffDelay", function () {
  it("doubles from the base, stops at the cap, and jitters between half and all of it", function () {
    const options = { baseDelayMs: 100, maxDelayMs: 1_000 };
    for (const [attempt, full] of [
      [1, 100],
      [2, 200],
      [4, 800],
      [5, 1_000],
      [60, 1_000],
    ] as const) {
      const delays = Array.from({ length: 200 }, () => backoffDelay(attempt, options));
      expect(Math.min(...delays)).to.be.at.least(full / 2);
      expect(Math.max(...delays)).to.be.at.most(full);
      // Jittered: processes that failed together do not retry together.
      expect(new Set(delays).size).to.be.greaterThan(100);
    }
  });
});
