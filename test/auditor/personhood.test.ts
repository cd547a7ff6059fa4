import { expect } from "chai";
import { after, afterEach, before, describe, it } from "mocha";
import { zeroAddress, type Address, type Hex } from "viem";
import type { Discrepancy } from "../../src/auditor/discrepancy.js";
import { schemaUidOf } from "../../src/chain/deployEas.js";
import type { DeployerClient } from "../../src/chain/deployTwei.js";
import { schemaRegistryAbi } from "../../src/chain/easAbi.js";
import { attestPersonhood, revokePersonhood } from "../../src/chain/personhoodAttestation.js";
import { waitForSuccess } from "../../src/chain/waitForSuccess.js";
import { ActionKind } from "../../src/core/kinds.js";
import type { AccountAction } from "../../src/core/packedActions.js";
import { postIdFor } from "../../src/core/postId.js";
import type { PersonhoodPolicy } from "../../src/rules/policy.js";
import { SITE_ID, startCraftedChain, type CraftedChain } from "./helpers/craftedChain.js";

const P1 = "post-1";
const codes = (found: readonly Discrepancy[]) => [...new Set(found.map((d) => d.code))].sort();

/**
 * Proof of personhood (issue 22, part 3), re-checked by the auditor: each attestation the
 * evidence names is read from EAS at the batch's block, and the events are replayed with the
 * ones that hold. An evidence file naming an attestation that did not prove the reader a person
 * when the event was accepted, or naming none for a paid read, is a named discrepancy.
 */
describe("auditor: personhood attestations re-checked at the batch's block", function () {
  this.timeout(180_000);
  let chain: CraftedChain;
  let policy: PersonhoodPolicy;
  let attester: DeployerClient;
  let restore: (() => Promise<void>) | undefined;
  const uids: Hex[] = [];
  const user = (i: number) => chain.user(i).address;
  const [author, r1, r2, r3] = [0, 1, 2, 3];
  const readOf = (account: number, eventId: string) =>
    chain.event("post_read", eventId, user(account), P1, { secondsRead: 60 });
  const paidRead = (account: number): AccountAction => ({
    account: user(account),
    kind: ActionKind.ReadToEarn,
    units: 10_000,
    postId: postIdFor(SITE_ID, P1),
  });
  const attest = (recipient: Address, options: { as?: DeployerClient; schema?: Hex; expirationTime?: bigint } = {}) =>
    attestPersonhood({
      publicClient: chain.publicClient,
      walletClient: options.as ?? attester,
      policy: { ...policy, schema: options.schema ?? policy.schema },
      recipient,
      ...(options.expirationTime === undefined ? {} : { expirationTime: options.expirationTime }),
    });
  const revoke = (uid: Hex) =>
    revokePersonhood({ publicClient: chain.publicClient, walletClient: attester, policy, uid });
  /** Settles r3's read, paid in full, with `attestation` named in the evidence (or none). */
  const settlePaidRead = (attestation: Hex | undefined) =>
    chain.settle([readOf(r3, "read-r3")], {
      actions: [paidRead(r3)],
      editEvidence: (evidence) => {
        if (attestation !== undefined) (evidence.events[0] as { attestation?: Hex }).attestation = attestation;
      },
    });

  before(async function () {
    chain = await startCraftedChain({ personhood: true });
    if (!chain.personhood) throw new Error("no personhood policy");
    ({ policy, attester } = chain.personhood);
    uids.push(await attest(user(r1)), await attest(user(r2)));
    const e = chain.event;
    await chain.settle(
      [
        e("post_published", "publish-1", user(author), P1, { wordCount: 200 }),
        readOf(r1, "read-r1"),
        readOf(r2, "read-r2"),
      ],
      {
        attested: new Map([
          [user(r1), uids[0] as Hex],
          [user(r2), uids[1] as Hex],
        ]),
      },
    );
  });

  after(async function () {
    await chain?.stop();
  });

  afterEach(async function () {
    await restore?.();
    restore = undefined;
  });

  const scratch = async () => {
    restore = await chain.snapshot();
  };

  it("the clean chain with attested readers audits clean (the evidence names their attestations)", async function () {
    const result = await chain.audit();
    expect(result.discrepancies).to.deep.equal([]);
    expect(result.summary.events).to.equal(3);
  });

  const invalid = async (reason: string, attestation: () => Promise<Hex>) => {
    await scratch();
    const uid = await attestation();
    const { batchId } = await settlePaidRead(uid);
    const result = await chain.audit();
    const rows = result.discrepancies.filter((d) => d.code === "attestation_invalid");
    expect(rows.map((d) => [d.batchId, d.where])).to.deep.equal([[batchId.toString(), "event read-r3"]]);
    expect(rows[0]?.what).to.include(`${uid} the evidence names`).and.include(`: ${reason}:`);
    // Replayed unattested, the read pays nothing: the chain's payment is unexplained (pause-safe).
    expect(codes(result.discrepancies)).to.deep.equal([
      "attestation_invalid",
      "rule_rejected_event",
      "unexplained_action",
    ]);
  };

  it("attestation_invalid revoked: an attestation revoked before the read was accepted", async function () {
    await invalid("revoked", async () => {
      const uid = await attest(user(r3));
      await revoke(uid);
      return uid;
    });
  });

  it("attestation_invalid wrong_recipient: another reader's attestation", async function () {
    await invalid("wrong_recipient", async () => uids[0] as Hex);
  });

  it("attestation_invalid wrong_schema: an attestation under another schema", async function () {
    await invalid("wrong_schema", async () => {
      const admin = chain.admin as unknown as DeployerClient;
      await waitForSuccess(
        chain.publicClient,
        await admin.writeContract({
          address: (chain.personhood as NonNullable<CraftedChain["personhood"]>).schemaRegistry,
          abi: schemaRegistryAbi,
          functionName: "register",
          args: ["bool isSubscriber", zeroAddress, true],
          chain: admin.chain,
        }),
      );
      return attest(user(r3), { schema: schemaUidOf("bool isSubscriber") });
    });
  });

  it("attestation_invalid wrong_attester: an attester the policy does not name", async function () {
    await invalid("wrong_attester", () =>
      attest(user(r3), { as: chain.walletOf(chain.user(8)) as unknown as DeployerClient }),
    );
  });

  it("attestation_invalid unknown_uid: a UID EAS does not hold", async function () {
    await invalid("unknown_uid", async () => `0x${"ab".repeat(32)}`);
  });

  it("attestation_invalid expired: an attestation expired when the read was accepted", async function () {
    await invalid("expired", async () => {
      const now = (await chain.publicClient.getBlock()).timestamp;
      const uid = await attest(user(r3), { expirationTime: now + 30n });
      await chain.rpc("evm_increaseTime", [60]);
      await chain.rpc("evm_mine");
      return uid;
    });
  });

  it("attestation_missing: a read paid with no attestation named", async function () {
    await scratch();
    const { batchId } = await settlePaidRead(undefined);
    const result = await chain.audit();
    expect(codes(result.discrepancies)).to.deep.equal([
      "attestation_missing",
      "rule_rejected_event",
      "unexplained_action",
    ]);
    const missing = result.discrepancies.find((d) => d.code === "attestation_missing");
    expect([missing?.batchId, missing?.where]).to.deep.equal([batchId.toString(), "event read-r3"]);
  });

  it("an attestation revoked after the batch settled is no discrepancy", async function () {
    await scratch();
    const uid = await attest(user(r3));
    await chain.settle([readOf(r3, "read-r3")], { attested: new Map([[user(r3), uid]]) });
    await revoke(uid);
    expect((await chain.audit()).discrepancies).to.deep.equal([]);
  });

  it("revoked between acceptance and settlement: no discrepancy when the evidence says when it was accepted", async function () {
    await scratch();
    const uid = await attest(user(r3));
    const acceptedAtBlock = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    await revoke(uid);
    await chain.settle([readOf(r3, "read-r3")], { attested: new Map([[user(r3), uid]]), acceptedAtBlock });
    expect((await chain.audit()).discrepancies).to.deep.equal([]);
  });

  it("revoked between acceptance and settlement, the evidence not saying when it was accepted: revoked (the batch's block counts)", async function () {
    await scratch();
    const uid = await attest(user(r3));
    await revoke(uid);
    await chain.settle([readOf(r3, "read-r3")], {
      actions: [paidRead(r3)],
      editEvidence: (evidence) => {
        (evidence.events[0] as { attestation?: Hex }).attestation = uid;
      },
    });
    const rows = (await chain.audit()).discrepancies.filter((d) => d.code === "attestation_invalid");
    expect(rows.map((d) => d.what)).to.have.length(1);
    expect(rows[0]?.what).to.include(": revoked:");
  });
});
