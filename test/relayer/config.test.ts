import { expect } from "chai";
import { describe, it } from "mocha";
import { zeroHash, type Address } from "viem";
import { parseRelayerEnv, personhoodFromBlockFrom, RelayerConfigError } from "../../src/relayer/config.js";

const KEY = `0x${"11".repeat(32)}`;
const EAS: Address = "0xA1207F3BBa224E2c9c3c6D5aF63D0eb1582Ce587";
const OTHER_EAS: Address = "0x4200000000000000000000000000000000000021";
const recorded = (deployedAtBlock?: bigint) => ({
  eas: {
    eas: EAS,
    schemaRegistry: OTHER_EAS,
    personhoodSchema: zeroHash,
    ...(deployedAtBlock === undefined ? {} : { deployedAtBlock }),
  },
});
const personhood = (eas: Address) => ({ eas, schema: zeroHash, attesters: [OTHER_EAS] });

describe("relayer environment: RELAYER_PERSONHOOD_FROM_BLOCK", function () {
  it("reads a block number as a bigint, and leaves it unset by default", function () {
    expect(parseRelayerEnv({ RELAYER_PRIVATE_KEY: KEY }).RELAYER_PERSONHOOD_FROM_BLOCK).to.equal(undefined);
    const env = parseRelayerEnv({ RELAYER_PRIVATE_KEY: KEY, RELAYER_PERSONHOOD_FROM_BLOCK: "123456789012" });
    expect(env.RELAYER_PERSONHOOD_FROM_BLOCK).to.equal(123_456_789_012n);
    expect(parseRelayerEnv({ RELAYER_PRIVATE_KEY: KEY, RELAYER_PERSONHOOD_FROM_BLOCK: "0" })).to.include({
      RELAYER_PERSONHOOD_FROM_BLOCK: 0n,
    });
  });

  for (const bad of ["-1", "1.5", "1e6", "0x10", "", " 7", "latest"])
    it(`refuses ${JSON.stringify(bad)}, naming the variable and what it takes (never the value)`, function () {
      const parse = () => parseRelayerEnv({ RELAYER_PRIVATE_KEY: KEY, RELAYER_PERSONHOOD_FROM_BLOCK: bad });
      expect(parse).to.throw(
        RelayerConfigError,
        "invalid relayer environment: RELAYER_PERSONHOOD_FROM_BLOCK: a block number (a non-negative decimal integer)",
      );
    });
});

describe("personhoodFromBlockFrom: where the relayer's personhood index starts", function () {
  it("takes RELAYER_PERSONHOOD_FROM_BLOCK first", function () {
    expect(personhoodFromBlockFrom({ RELAYER_PERSONHOOD_FROM_BLOCK: 7n }, recorded(40n), personhood(EAS))).to.equal(7n);
    expect(personhoodFromBlockFrom({ RELAYER_PERSONHOOD_FROM_BLOCK: 0n }, recorded(40n), personhood(EAS))).to.equal(0n);
  });

  it("else the deployment's recorded EAS block when the policy names that EAS (in any case)", function () {
    expect(personhoodFromBlockFrom({}, recorded(40n), personhood(EAS))).to.equal(40n);
    expect(personhoodFromBlockFrom({}, recorded(40n), personhood(EAS.toLowerCase() as Address))).to.equal(40n);
  });

  it("else 0: another EAS, no EAS recorded, a file from before the block was recorded, no personhood", function () {
    expect(personhoodFromBlockFrom({}, recorded(40n), personhood(OTHER_EAS))).to.equal(0n);
    expect(personhoodFromBlockFrom({}, {}, personhood(EAS))).to.equal(0n);
    expect(personhoodFromBlockFrom({}, recorded(), personhood(EAS))).to.equal(0n);
    expect(personhoodFromBlockFrom({}, recorded(40n), undefined)).to.equal(0n);
  });
});
