import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import { startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, clientFor, removeDir, startTestRelayer, tempDir, waitFor } from "./helpers/testRelayer.js";

describe("relayer smoke", function () {
  let chain: TestChain;
  let dir: string;
  before(async function () {
    chain = await startTestChain();
    dir = await tempDir("smoke");
  });
  after(async function () {
    await chain?.stop();
    await removeDir(dir);
  });
  it("accepts, batches and settles a read", async function () {
    const site = await addSite(chain, dir, 1);
    const relayer = await startTestRelayer(chain, dir);
    try {
      const client = clientFor(chain, relayer.url, site);
      const author = chain.user(0).address;
      const reader = chain.user(1).address;
      await chain.seed(1, [{ account: author, kind: 2, units: 10 }]);
      await chain.approveLedger(chain.user(0));
      const answer = await client.sendEvents([
        { eventId: "p1", type: "post_published", occurredAt: 1, user: author, postId: "post-1", wordCount: 200 },
        { eventId: "r1", type: "post_read", occurredAt: 2, user: reader, postId: "post-1", secondsRead: 60 },
      ]);
      console.log(JSON.stringify(answer));
      const settled = await waitFor("settlement", async () => {
        const e = await client.event("r1");
        return e.status === "settled" ? e : undefined;
      });
      console.log(JSON.stringify(settled));
      expect(await chain.balanceOf(reader)).to.equal(10n ** 18n);
    } finally {
      await relayer.stop();
    }
  });
});
