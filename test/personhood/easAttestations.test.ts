import { expect } from "chai";
import { network } from "hardhat";
import { describe, it } from "mocha";
import type { PublicClient } from "viem";
import { deployEas } from "../../src/chain/deployEas.js";
import type { DeployerClient } from "../../src/chain/deployTwei.js";
import { createPersonhoodIndex } from "../../src/chain/createPersonhoodIndex.js";
import {
  attestationFault,
  attestPersonhood,
  readAttestation,
  revokePersonhood,
} from "../../src/chain/personhoodAttestation.js";
import type { PersonhoodPolicy } from "../../src/rules/policy.js";

const { viem } = await network.create();

describe("EAS personhood attestations on the dev chain", function () {
  it("deploys EAS, attests, finds the attestation, and no longer finds it once revoked", async function () {
    const publicClient = (await viem.getPublicClient()) as unknown as PublicClient;
    const [deployer, site, stranger, reader, farm] = (await viem.getWalletClients()) as unknown as DeployerClient[];
    if (!deployer || !site || !stranger || !reader || !farm) throw new Error("five accounts needed");
    const { eas, personhoodSchema } = await deployEas({ publicClient, walletClient: deployer });
    const policy: PersonhoodPolicy = { eas, schema: personhoodSchema, attesters: [site.account.address] };
    const index = createPersonhoodIndex(publicClient, { policy });
    const find = async (recipient: typeof reader.account.address) =>
      index.find(recipient, await publicClient.getBlockNumber());

    const uid = await attestPersonhood({ publicClient, walletClient: site, policy, recipient: reader.account.address });
    // An attester the policy does not name proves nothing.
    await attestPersonhood({ publicClient, walletClient: stranger, policy, recipient: farm.account.address });
    expect(await find(reader.account.address)).to.equal(uid);
    expect(await find(farm.account.address)).to.equal(undefined);

    const before = await publicClient.getBlock();
    await revokePersonhood({ publicClient, walletClient: site, policy, uid });
    expect(await find(reader.account.address)).to.equal(undefined);
    const revoked = await readAttestation(publicClient, policy, uid);
    const atRevocation = revoked.revocationTime;
    expect(attestationFault(revoked, { policy, recipient: reader.account.address, at: atRevocation })).to.equal(
      "revoked",
    );
    // Still valid at a time before its revocation, and so at the block before it.
    expect(attestationFault(revoked, { policy, recipient: reader.account.address, at: atRevocation - 1n })).to.equal(
      undefined,
    );
    const earlier = await readAttestation(publicClient, policy, uid, { blockNumber: before.number });
    expect(earlier.revocationTime).to.equal(0n);
  });
});
