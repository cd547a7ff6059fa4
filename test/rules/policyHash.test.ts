import { expect } from "chai";
import { describe, it } from "mocha";
import { keccak256, stringToBytes } from "viem";
import { DEFAULT_POLICY } from "../../src/rules/policy.js";
import { canonicalJson, policyHash } from "../../src/rules/policyHash.js";

describe("policyHash", function () {
  it("hashes any document by its canonical JSON: key order and spacing do not matter, any field does", function () {
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(DEFAULT_POLICY).reverse())));
    expect(policyHash(reordered)).to.equal(policyHash(DEFAULT_POLICY));
    // A field the relayer does not know yet is hashed like any other.
    expect(policyHash({ ...DEFAULT_POLICY, maxFarmAccountsPerIp: 3 })).to.not.equal(policyHash(DEFAULT_POLICY));
    expect(policyHash({ ...DEFAULT_POLICY, minReadBps: 2_001 })).to.not.equal(policyHash(DEFAULT_POLICY));
    expect(canonicalJson({ b: [1, { d: "é", c: null }], a: true })).to.equal('{"a":true,"b":[1,{"c":null,"d":"é"}]}');
    expect(policyHash({ a: 1 })).to.equal(keccak256(stringToBytes('{"a":1}')));
  });

  it("refuses values JSON cannot carry", function () {
    expect(() => canonicalJson({ a: Number.NaN })).to.throw(RangeError);
    expect(() => canonicalJson({ a: 1n })).to.throw(RangeError);
    expect(() => canonicalJson({ a: undefined })).to.throw(RangeError);
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).to.throw(RangeError, /Infinity has no JSON form/);
    expect(() => canonicalJson([() => 1])).to.throw(RangeError, /a function has no JSON form/);
    expect(() => canonicalJson([Symbol("s")])).to.throw(RangeError, /a symbol has no JSON form/);
    expect(canonicalJson([null, 1.5, "x", false])).to.equal('[null,1.5,"x",false]');
  });
});
