import { expect } from "chai";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { deployEas } from "../../src/chain/deployEas.js";
import type { DeployerClient } from "../../src/chain/deployTwei.js";
import { attestPersonhood } from "../../src/chain/personhoodAttestation.js";
import { ActionKind } from "../../src/core/kinds.js";
import { hardhatAccount } from "../../src/devnet/startHardhatNode.js";
import { DEFAULT_POLICY, type RulePolicy } from "../../src/rules/policy.js";
import { eventIds } from "../../src/site/eventIds.js";
import { startTcpProxy } from "../relayer/helpers/tcpProxy.js";
import { startTestChain, type TestChain } from "../relayer/helpers/testChain.js";
import { addSite, clientFor, startTestRelayer, tempDirs } from "../relayer/helpers/testRelayer.js";
import { startKitSite, type KitAnswer, type KitSite } from "./helpers/kitSite.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SITE_ID = 12;
const SLUG = "unknown-post";
const BEAT = { visible: true, focused: true, active: true };

// The site's side of `personhood_unknown`: the relayer's chain is cut (a TCP proxy) while an
// attested reader finishes a read, so the relayer cannot read their attestations and refuses the
// read as retryable. The site keeps the meter open and says the read is not sent; once the
// relayer's chain is back, the next heartbeat sends it again and it is paid in full.
describe("the site kit when the relayer cannot read a reader's attestations: the read is kept and sent again", function () {
  this.timeout(300_000);
  const dirs = tempDirs();
  let chain: TestChain;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let relayer: Awaited<ReturnType<typeof startTestRelayer>>;
  let site: KitSite;
  const reader = hardhatAccount(12);

  before(async function () {
    chain = await startTestChain();
    const dir = await dirs.make("personhood-unknown");
    const admin = chain.admin as unknown as DeployerClient;
    const { eas, personhoodSchema } = await deployEas({ publicClient: chain.publicClient, walletClient: admin });
    const attester = chain.walletOf(chain.user(9)) as unknown as DeployerClient;
    const policy: RulePolicy = {
      ...DEFAULT_POLICY,
      personhood: { eas, schema: personhoodSchema, attesters: [attester.account.address] },
    };
    const registered = await addSite(chain, dir, SITE_ID, { policy });
    proxy = await startTcpProxy(chain.node.port);
    relayer = await startTestRelayer(chain, dir, { policy, rpcUrl: proxy.url, chainTimeoutMs: 1_000 });
    const twei = clientFor(chain, relayer.url, registered);
    const author = chain.user(0).address;
    await chain.seed(SITE_ID, [{ account: author, kind: ActionKind.CommentRewards, units: 10 }]);
    await chain.approveLedger(chain.user(0));
    await twei.sendEvents([
      {
        eventId: "publish",
        type: "post_published",
        occurredAt: Math.floor(Date.now() / 1000),
        user: author,
        postId: SLUG,
        wordCount: 300,
      },
    ]);
    await attestPersonhood({
      publicClient: chain.publicClient,
      walletClient: attester,
      policy: policy.personhood!,
      recipient: reader.address,
    });
    // The site reads the chain directly (it sees the attestation); only the relayer's chain is cut.
    site = await startKitSite({
      chain,
      twei,
      relayerUrl: relayer.url,
      siteId: SITE_ID,
      slug: SLUG,
      author,
      databasePath: join(dir, "site.sqlite"),
      overrides: { policy, newcomerHold: false },
    });
  });

  after(async function () {
    await site?.stop();
    await relayer?.stop();
    await proxy?.down();
    await chain?.stop();
    await dirs.removeAll();
  });

  it("keeps the meter open and answers not sent while the relayer says personhood_unknown, then sends the whole read", async function () {
    const cookie = await site.signIn(reader);

    await proxy.down();
    let last: KitAnswer = {};
    for (let i = 0; i < 400 && !last.complete; i++) {
      last = (await site.call(`/posts/${SLUG}/heartbeat`, { body: BEAT, cookie })).body;
      await sleep(100);
    }
    expect(last).to.deep.include({ complete: true, sent: false });
    const refused = await site.kit.ctx.store.sentEvent(eventIds.read(SLUG, reader.address));
    expect(refused).to.deep.include({ answer: "rejected", code: "personhood_unknown" });
    // The meter is still open: nothing was closed on a refusal a retry can undo.
    expect(await site.kit.ctx.store.idleMeters(Date.now() + 1, 0, 10, Date.now() + 1)).to.have.length(1);

    await proxy.up();
    let again: KitAnswer = {};
    for (let i = 0; i < 100 && !again.sent; i++) {
      again = (await site.call(`/posts/${SLUG}/heartbeat`, { body: BEAT, cookie })).body;
      await sleep(200);
    }
    expect(again).to.deep.include({ complete: true, sent: true });
    expect(await site.kit.ctx.store.sentEvent(eventIds.read(SLUG, reader.address))).to.deep.include({
      answer: "accepted",
    });
  });
});
