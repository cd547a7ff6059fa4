import { expect } from "chai";
import { describe, it } from "mocha";
import { ActionKind } from "../../src/core/kinds.js";
import { emptyLines } from "../../src/indexer/decode/lines.js";
import { canonicalReportJson, reportContentHash } from "../../src/indexer/reports/canonicalReport.js";
import { postReportFrom } from "../../src/indexer/reports/postReportFrom.js";

/**
 * A report instance's hash is a public commitment: anyone rebuilds the canonical JSON from the
 * chain and compares. These golden values pin the form (key order, decimal strings, checksummed
 * addresses, lower-case hashes, all 13 lines): any change to it must bump
 * CANONICAL_REPORT_VERSION and update them on purpose.
 */
describe("canonical report: a golden report and its content hash", function () {
  const lines = emptyLines();
  lines[ActionKind.ReadToEarn] = { paid: 1_500_000_000_000_000_000n, paidCount: 2, shortfall: 0n, shortfallCount: 0 };
  lines[ActionKind.LikesAuthor] = { paid: 200_000_000_000_000_000n, paidCount: 2, shortfall: 0n, shortfallCount: 0 };
  lines[ActionKind.DislikesCommenter] = {
    paid: 100_000_000_000_000_000n,
    paidCount: 1,
    shortfall: 100_000_000_000_000_000n,
    shortfallCount: 1,
  };
  const report = postReportFrom({
    postId: 2n ** 200n + 7n,
    post: { siteId: 3, author: "0x00000000000000000000000000000000000000a1" },
    account: "0xabcdefabcdefabcdefabcdefabcdefabcdefabcd",
    lines,
    participants: 4,
    reportPrice: 1_000_000_000_000_000_000n,
    block: { number: 9_007_199_254_740_993n, hash: `0x${"AB".repeat(32)}` },
  });

  it("writes the documented canonical JSON, byte for byte", function () {
    expect(canonicalReportJson(report)).to.equal(GOLDEN_JSON);
  });

  it("hashes it to the pinned keccak256", function () {
    expect(reportContentHash(canonicalReportJson(report))).to.equal(GOLDEN_HASH);
  });
});

const GOLDEN_JSON =
  '{"v":1,"postId":"1606938044258990275541962092341162602522202993782792835301383","siteId":3,"author":"0x00000000000000000000000000000000000000A1","account":"0xABcdEFABcdEFabcdEfAbCdefabcdeFABcDEFabCD","block":{"number":"9007199254740993","hash":"0xabababababababababababababababababababababababababababababababab"},"participants":4,"lines":[{"kind":0,"label":"Read-to-Earn","amount":"1500000000000000000","count":2,"shortfallAmount":"0","shortfallCount":0},{"kind":1,"label":"Earned for Pluses","amount":"0","count":0,"shortfallAmount":"0","shortfallCount":0},{"kind":2,"label":"Comment Rewards","amount":"0","count":0,"shortfallAmount":"0","shortfallCount":0},{"kind":3,"label":"Likes Own","amount":"0","count":0,"shortfallAmount":"0","shortfallCount":0},{"kind":4,"label":"Likes Commenter","amount":"0","count":0,"shortfallAmount":"0","shortfallCount":0},{"kind":5,"label":"Likes Author","amount":"200000000000000000","count":2,"shortfallAmount":"0","shortfallCount":0},{"kind":6,"label":"Dislikes Author","amount":"0","count":0,"shortfallAmount":"0","shortfallCount":0},{"kind":7,"label":"Spent for Minuses","amount":"0","count":0,"shortfallAmount":"0","shortfallCount":0},{"kind":8,"label":"Comment Tributes","amount":"0","count":0,"shortfallAmount":"0","shortfallCount":0},{"kind":9,"label":"Dislikes Own","amount":"0","count":0,"shortfallAmount":"0","shortfallCount":0},{"kind":10,"label":"Dislikes Commenter","amount":"100000000000000000","count":1,"shortfallAmount":"100000000000000000","shortfallCount":1},{"kind":11,"label":"Post Publish Tribute","amount":"0","count":0,"shortfallAmount":"0","shortfallCount":0},{"kind":12,"label":"PnL Reports","amount":"0","count":0,"shortfallAmount":"0","shortfallCount":0}],"readToEarn":"1500000000000000000","profitSubtotal":"200000000000000000","lossSubtotal":"100000000000000000","totalEarned":"1600000000000000000","reportPrice":"1000000000000000000"}';
const GOLDEN_HASH = "0xb3c206f68545053d7148c7d6953f0ca47db13a031b8f8b5c40962a191eac1bca";
