import { expect } from "chai";
import { describe, it } from "mocha";
import { deployRolesFromEnv, LIVE_ADMIN_DELAY, LIVE_CHANGE_DELAY } from "../../src/chain/deployRoles.js";
import { labelledAddress } from "../../src/devnet/labelledAddress.js";

const deployer = labelledAddress("deployer", 0);
const [admin, policy, pauser] = [1, 2, 3].map((i) => labelledAddress("role", i));

describe("deployRolesFromEnv", function () {
  it("gives every role to the deployer with no delays on a local chain, without warning", function () {
    const roles = deployRolesFromEnv({}, { deployer, chainId: 31337 });
    expect(roles).to.deep.include({
      admin: deployer,
      policyAdmin: deployer,
      pauser: deployer,
      unpauser: deployer,
      adminDelay: 0,
      changeDelay: 0,
    });
    expect(roles.warnings).to.deep.equal([]);
  });

  it("warns when one key holds several roles on a live network and delays changes by default", function () {
    const roles = deployRolesFromEnv({ TWEI_ADMIN: admin, TWEI_PAUSER: admin }, { deployer, chainId: 1 });
    expect(roles).to.deep.include({
      adminDelay: LIVE_ADMIN_DELAY,
      changeDelay: LIVE_CHANGE_DELAY,
      policyAdmin: deployer,
    });
    expect(roles.warnings).to.have.length(2);
    expect(roles.warnings[0]).to.contain(`${admin} holds the admin, pauser roles on a live network`);
    // The unpauser is the admin by default, here also the pauser.
    expect(roles.warnings[1]).to.contain(`${admin} holds the pauser and unpauser roles on a live network`);
  });

  it("takes separate keys and explicit delays without warning", function () {
    const roles = deployRolesFromEnv(
      {
        TWEI_ADMIN: admin,
        TWEI_POLICY_ADMIN: policy,
        TWEI_PAUSER: pauser,
        TWEI_CHANGE_DELAY: "600",
        TWEI_ADMIN_DELAY: "0",
      },
      { deployer, chainId: 10 },
    );
    expect(roles).to.deep.include({ admin, policyAdmin: policy, pauser, changeDelay: 600, adminDelay: 0 });
    expect(roles.warnings).to.deep.equal([]);
  });

  it("gives unpause to the admin by default, and warns when the pauser's key may also unpause", function () {
    const apart = deployRolesFromEnv(
      { TWEI_ADMIN: admin, TWEI_PAUSER: pauser, TWEI_POLICY_ADMIN: policy },
      { deployer, chainId: 1 },
    );
    expect(apart).to.deep.include({ pauser, unpauser: admin });
    expect(apart.warnings).to.deep.equal([]);
    const same = deployRolesFromEnv(
      { TWEI_ADMIN: admin, TWEI_PAUSER: pauser, TWEI_POLICY_ADMIN: policy, TWEI_UNPAUSER: pauser },
      { deployer, chainId: 1 },
    );
    expect(same.warnings).to.have.length(1);
    expect(same.warnings[0]).to.contain(`${pauser} holds the pauser and unpauser roles on a live network`);
  });

  it("names a bad address or delay", function () {
    expect(() => deployRolesFromEnv({ TWEI_PAUSER: "0x12" }, { deployer, chainId: 1 })).to.throw(
      RangeError,
      "TWEI_PAUSER is not an EVM address",
    );
    expect(() => deployRolesFromEnv({ TWEI_CHANGE_DELAY: "-1" }, { deployer, chainId: 1 })).to.throw(
      RangeError,
      "TWEI_CHANGE_DELAY",
    );
  });
});
