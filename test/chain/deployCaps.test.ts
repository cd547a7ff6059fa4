import { expect } from "chai";
import { describe, it } from "mocha";
import { parseUnits } from "viem";
import { deployCapsFromEnv, MAX_LEDGER_CAP } from "../../src/chain/deployCaps.js";
import { DEFAULT_BURN_CAP, DEFAULT_EMISSION_CAP, DEFAULT_EPOCH_SECONDS } from "../../src/core/ruleSet.js";

describe("deployCapsFromEnv", function () {
  it("keeps the defaults when nothing is set: 1,000,000 Twei minted and burned a day", function () {
    expect(deployCapsFromEnv({})).to.deep.equal({
      epochSeconds: DEFAULT_EPOCH_SECONDS,
      emissionCap: DEFAULT_EMISSION_CAP,
      burnCap: DEFAULT_BURN_CAP,
    });
    expect(DEFAULT_EMISSION_CAP).to.equal(parseUnits("1000000", 18));
    expect(DEFAULT_EPOCH_SECONDS).to.equal(86_400n);
  });

  it("reads the overall caps in Twei and the epoch in seconds", function () {
    expect(
      deployCapsFromEnv({ TWEI_MINT_CAP: "5000000", TWEI_BURN_CAP: "2500.5", TWEI_EPOCH_SECONDS: "3600" }),
    ).to.deep.equal({
      epochSeconds: 3600n,
      emissionCap: parseUnits("5000000", 18),
      burnCap: parseUnits("2500.5", 18),
    });
  });

  it("names every bad variable and refuses a cap the ledger cannot hold", function () {
    expect(() => deployCapsFromEnv({ TWEI_MINT_CAP: "-1", TWEI_BURN_CAP: "1e6", TWEI_EPOCH_SECONDS: "0" })).to.throw(
      RangeError,
      /TWEI_MINT_CAP.*TWEI_BURN_CAP.*TWEI_EPOCH_SECONDS/,
    );
    const tooLarge = (MAX_LEDGER_CAP / 10n ** 18n + 1n).toString();
    expect(() => deployCapsFromEnv({ TWEI_MINT_CAP: tooLarge })).to.throw(RangeError, /largest cap the ledger holds/);
    expect(() => deployCapsFromEnv({ TWEI_BURN_CAP: "1.0000000000000000001" })).to.throw(RangeError, /TWEI_BURN_CAP/);
  });
});
