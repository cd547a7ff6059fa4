import { expect } from "chai";
import fc from "fast-check";
import { describe, it } from "mocha";
import { latestOf, roomReturnsAt } from "../../src/relayer/settlement/capRoom.js";

const DAY = 86_400n;
const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

/** The ledger's room at time `t` (TweiLedger._usageOf), with `current` and `previous` the totals of `epoch`. */
function ledgerRoom(window: { epoch: bigint; current: bigint; previous: bigint }, cap: bigint, t: bigint, len: bigint) {
  const epoch = t / len;
  const [current, previous] =
    window.epoch === epoch
      ? [window.current, window.previous]
      : window.epoch + 1n === epoch
        ? [0n, window.current]
        : [0n, 0n];
  const used = current + ceilDiv(previous * (len - (t % len)), len);
  return used >= cap ? 0n : cap - used;
}

describe("roomReturnsAt: when a cap's sliding window has room again", function () {
  it("answers now when the room is there, the next epoch's time when this one is full, null above the cap", function () {
    const now = 10n * DAY + 3_600n;
    expect(roomReturnsAt({ now, epochLength: DAY, need: 5n, window: { cap: 100n, used: 10n, room: 90n } })).to.equal(
      now,
    );
    // Nothing before this epoch, 100 used of 100: the next epoch starts with 100 weighted by what is left of it.
    const at = roomReturnsAt({ now, epochLength: DAY, need: 50n, window: { cap: 100n, used: 100n, room: 0n } });
    expect(at).to.equal(11n * DAY + DAY / 2n);
    expect(roomReturnsAt({ now, epochLength: DAY, need: 101n, window: { cap: 100n, used: 0n, room: 100n } })).to.equal(
      null,
    );
  });

  it("counts a raise announced for later, and keeps an earlier time under the cap in force", function () {
    const now = 10n * DAY;
    const window = { cap: 100n, used: 100n, room: 0n };
    expect(
      roomReturnsAt({
        now,
        epochLength: DAY,
        need: 50n,
        window: { ...window, scheduled: { cap: 1_000n, at: now + 60n } },
      }),
    ).to.equal(now + 60n);
    expect(
      roomReturnsAt({
        now,
        epochLength: DAY,
        need: 200n,
        window: { ...window, scheduled: { cap: 150n, at: now + 60n } },
      }),
    ).to.equal(null);
  });

  it("against the ledger's own formula: never early while the window shows some room; a lower bound when it shows none", function () {
    const len = DAY;
    /** The first second from `now` with room for `need`, by stepping the ledger's formula (null: none within three epochs). */
    const exact = (
      window: { epoch: bigint; current: bigint; previous: bigint },
      cap: bigint,
      need: bigint,
      now: bigint,
    ) => {
      let lo = now;
      let hi = now + 3n * len;
      if (ledgerRoom(window, cap, hi, len) < need) return null;
      while (lo < hi) {
        const mid = (lo + hi) / 2n;
        if (ledgerRoom(window, cap, mid, len) >= need) hi = mid;
        else lo = mid + 1n;
      }
      return lo;
    };
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 24n }),
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        fc.bigInt({ min: 1n, max: 10n ** 24n }),
        fc.bigInt({ min: 0n, max: DAY - 1n }),
        (cap, current, previous, need, offset) => {
          const now = 20n * len + offset;
          const window = { epoch: now / len, current, previous };
          const room = ledgerRoom(window, cap, now, len);
          const at = roomReturnsAt({ now, epochLength: len, need, window: { cap, used: current, room } });
          const truth = exact(window, cap, need, now);
          if (room > 0n) {
            expect(at === null, "null exactly when no room comes").to.equal(truth === null);
            if (at !== null && truth !== null) {
              expect(ledgerRoom(window, cap, at, len) >= need, "room at the time given").to.equal(true);
              expect(at >= truth).to.equal(true);
            }
          } else if (at !== null && truth !== null) expect(at <= truth, "a lower bound").to.equal(true);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it("takes the latest of several caps, null when any never has room", function () {
    expect(latestOf([5n, 9n, 7n])).to.equal(9n);
    expect(latestOf([5n, null])).to.equal(null);
  });
});
