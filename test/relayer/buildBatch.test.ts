import { expect } from "chai";
import { describe, it } from "mocha";
import { zeroAddress } from "viem";
import { ActionKind } from "../../src/core/kinds.js";
import { fitPostRefs } from "../../src/relayer/settlement/buildBatch.js";
import type { StoredEvent } from "../../src/relayer/storage/relayerStore.js";

// Only `actions` matters to fitPostRefs; the rest of a stored event is filler.
const eventOn = (...postIds: bigint[]): StoredEvent =>
  ({
    actions: postIds.map((postId) => ({ account: zeroAddress, kind: ActionKind.LikesOwn, units: 1, postId })),
  }) as unknown as StoredEvent;

describe("fitPostRefs", function () {
  it("keeps the longest run of events whose actions refer to at most the limit of posts", function () {
    const events = [eventOn(1n), eventOn(2n, 1n), eventOn(3n), eventOn(3n, 4n)];
    expect(fitPostRefs(events, 2)).to.have.length(2);
    expect(fitPostRefs(events, 3)).to.have.length(3);
    expect(fitPostRefs(events, 4)).to.have.length(4);
  });

  it("cuts a batch of 300 single-post events at 256 posts, and keeps one event whatever it names", function () {
    const events = Array.from({ length: 300 }, (_, i) => eventOn(BigInt(i)));
    expect(fitPostRefs(events)).to.have.length(256);
    expect(fitPostRefs([eventOn(1n, 2n, 3n)], 2)).to.have.length(1);
  });
});
