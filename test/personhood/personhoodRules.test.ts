import { expect } from "chai";
import { describe, it } from "mocha";
import { parseUnits, type Address, type Hex } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_RULE_AMOUNTS } from "../../src/core/ruleSet.js";
import { siteEventSchema, type SiteEventInput } from "../../src/evidence/siteEvent.js";
import { evaluateEvent, type RuleOutcome } from "../../src/rules/evaluateEvent.js";
import { createMemoryRulesState } from "../../src/rules/memoryRulesState.js";
import { DEFAULT_POLICY, POLICY_V2, type RulePolicy } from "../../src/rules/policy.js";

const SITE = 3;
const author = "0x00000000000000000000000000000000000000a1" as Address;
const person = "0x00000000000000000000000000000000000000b2" as Address;
const farm = "0x00000000000000000000000000000000000000f3" as Address;
const veteranFarm = "0x00000000000000000000000000000000000000f4" as Address;
const UID = `0x${"ab".repeat(32)}` as Hex;
const PERSONHOOD: RulePolicy = {
  ...DEFAULT_POLICY,
  personhood: {
    eas: "0x00000000000000000000000000000000000000e0",
    schema: `0x${"5c".repeat(32)}`,
    attesters: ["0x00000000000000000000000000000000000000e1"],
  },
};

function world(policy: RulePolicy) {
  const state = createMemoryRulesState({
    defaultFunds: parseUnits("100", 18),
    earned: new Map([[veteranFarm, parseUnits("100000", 18)]]),
  });
  const attested = new Map<Address, Hex>([[person, UID]]);
  /** Users whose attestations the relayer could not read. */
  const unreadable = new Set<Address>();
  let counter = 0;
  const run = (input: { type: SiteEventInput["type"]; user: Address; [field: string]: unknown }): RuleOutcome => {
    const event = siteEventSchema.parse({
      eventId: `e-${counter++}`,
      occurredAt: 1_700_000_000,
      postId: "p",
      ...input,
    });
    const outcome = evaluateEvent({
      siteId: SITE,
      event,
      policy,
      amounts: DEFAULT_RULE_AMOUNTS,
      state: {
        ...state,
        // As the relayer has it: an unreadable user's attestation is not known either.
        attestation: (account) => (unreadable.has(account) ? undefined : attested.get(account)),
        attestationUnknown: (account) => unreadable.has(account),
      },
    });
    if (outcome.accepted) state.apply(outcome, DEFAULT_RULE_AMOUNTS);
    return outcome;
  };
  run({ type: "post_published", user: author, wordCount: 1_000 });
  return { run, unreadable };
}

describe("proof of personhood in the rules (policy personhood)", function () {
  it("pays an attested reader and names the attestation it relied on", function () {
    const outcome = world(PERSONHOOD).run({ type: "post_read", user: person, secondsRead: 300 });
    expect(outcome.accepted && outcome.actions.map((a) => a.kind)).to.deep.equal([ActionKind.ReadToEarn]);
    expect(outcome.accepted && outcome.attestation).to.equal(UID);
  });

  it("rejects an unattested read, plus and like as personhood_required (nothing marked: it can be earned once attested)", function () {
    // Version 2 rules, where votes pay whoever gives them (version 3 pays no non-reader's vote anyway).
    const w = world({ ...POLICY_V2, personhood: PERSONHOOD.personhood! });
    const read = w.run({ type: "post_read", user: farm, secondsRead: 300 });
    expect(read.accepted ? "accepted" : read.code).to.equal("personhood_required");
    expect(read.accepted ? "" : read.message).to.contain("proof of personhood");
    expect(w.run({ type: "post_plus", user: farm }).accepted).to.equal(false);
    w.run({ type: "comment_created", user: person, commentId: "c1", length: 40 });
    const like = w.run({ type: "comment_liked", user: farm, commentId: "c1" });
    expect(like.accepted ? "accepted" : like.code).to.equal("personhood_required");
  });

  it("keeps an unattested user's burns and leaves out the mints with a note", function () {
    const w = world(PERSONHOOD);
    const comment = w.run({ type: "comment_created", user: veteranFarm, commentId: "c1", length: 40 });
    if (!comment.accepted) throw new Error(comment.code);
    expect(comment.actions.map((a) => a.kind)).to.deep.equal([ActionKind.CommentTributes]);
    expect(comment.notes.join()).to.contain("no Comment Rewards").and.contain("personhood attestation");
    expect(comment.attestation).to.equal(undefined);
    // The reward left out used none of the reward caps.
    expect(comment.effects.counters).to.deep.equal([]);
  });

  it("rejects as personhood_unknown (to be sent again) what would mint for a user whose attestations cannot be read; burns-only events go through", function () {
    const w = world(PERSONHOOD);
    w.unreadable.add(person).add(veteranFarm);
    const read = w.run({ type: "post_read", user: person, secondsRead: 300 });
    expect(read.accepted ? "accepted" : read.code).to.equal("personhood_unknown");
    expect(read.accepted ? "" : read.message).to.contain("cannot be read from the chain now");
    // A comment's reward would mint: refused whole, not taken as unattested (its reward lost for good).
    const comment = w.run({ type: "comment_created", user: veteranFarm, commentId: "c1", length: 40 });
    expect(comment.accepted ? "accepted" : comment.code).to.equal("personhood_unknown");
    // A minus only burns: personhood does not matter.
    const minus = w.run({ type: "post_minus", user: veteranFarm });
    expect(minus.accepted && minus.actions.map((a) => a.kind)).to.deep.equal([ActionKind.SpentForMinuses]);
    // Nothing was marked: sent again once the attestations can be read, the read is paid.
    w.unreadable.delete(person);
    const again = w.run({ type: "post_read", user: person, secondsRead: 300 });
    expect(again.accepted && again.actions.map((a) => a.kind)).to.deep.equal([ActionKind.ReadToEarn]);
  });

  it("changes nothing when the policy does not ask for personhood (off by default)", function () {
    expect(DEFAULT_POLICY.personhood).to.equal(undefined);
    const outcome = world(DEFAULT_POLICY).run({ type: "post_read", user: farm, secondsRead: 300 });
    expect(outcome.accepted && outcome.actions.map((a) => a.kind)).to.deep.equal([ActionKind.ReadToEarn]);
    expect(outcome.accepted && outcome.attestation).to.equal(undefined);
  });
});
