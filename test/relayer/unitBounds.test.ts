import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { ActionKind } from "../../src/core/kinds.js";
import { DEFAULT_UNIT_BOUNDS } from "../../src/core/ruleSet.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import { TweiApiError } from "../../src/sdk/createTweiClient.js";
import { publishEvent } from "./helpers/siteEvents.js";
import { startTestChain, type TestChain, FREE_PUBLISHING_AMOUNTS } from "./helpers/testChain.js";
import {
  addSite,
  clientFor,
  removeDir,
  startTestRelayer,
  tempDir,
  waitFor,
  type TestSite,
} from "./helpers/testRelayer.js";

const SITE = 71;
const DELAY = 600;
const fresh = (): Address => privateKeyToAccount(generatePrivateKey()).address;
/** A read of post "p" (100 words: 30 s to read at the default 200 words a minute). */
const read = (eventId: string, user: Address, secondsRead: number): SiteEventInput => ({
  eventId,
  type: "post_read",
  occurredAt: 2,
  user,
  postId: "p",
  secondsRead,
});

describe("relayer: acceptance checks the unit bounds of the rule set in force (issue 24, finding 7)", function () {
  this.timeout(120_000);
  let chain: TestChain;
  let dir: string;
  let site: TestSite;
  let stop: (() => Promise<void>) | undefined;
  let client: ReturnType<typeof clientFor>;

  before(async function () {
    // Publishing is free, so nothing needs an allowance.
    chain = await startTestChain({
      changeDelay: DELAY,
      ruleAmounts: FREE_PUBLISHING_AMOUNTS,
    });
    dir = await tempDir("unit-bounds");
    site = await addSite(chain, dir, SITE);
    const relayer = await startTestRelayer(chain, dir, { ruleSetTtlMs: 0 });
    stop = () => relayer.stop();
    client = clientFor(chain, relayer.url, site);
    await client.sendEvents([publishEvent("pub", chain.user(0).address, "p")]);
  });

  after(async function () {
    await stop?.();
    await chain?.stop();
    if (dir) await removeDir(dir);
  });

  it("a rule set that halves Read-to-Earn's bound: a full read is refused at the door (ledger_refuses), a half read settles", async function () {
    const full = read("before", fresh(), 30);
    expect((await client.sendEvents([full])).counts.accepted).to.equal(1); // launch bounds: 10,000 bps

    const halved = DEFAULT_UNIT_BOUNDS.map((bound, kind) => (kind === ActionKind.ReadToEarn ? 5_000 : bound));
    await chain.publicClient.waitForTransactionReceipt({
      hash: await chain.admin.writeContract({
        address: chain.deployed.ledger,
        abi: tweiLedgerAbi,
        functionName: "scheduleRuleSet",
        args: [FREE_PUBLISHING_AMOUNTS, halved],
      } as never),
    });
    await chain.rpc("evm_increaseTime", [DELAY + 1]);
    await chain.rpc("evm_mine");

    let refused: unknown;
    try {
      await client.sendEvents([read("full", fresh(), 30)]);
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(TweiApiError);
    const { status, code, problem } = refused as TweiApiError;
    expect([status, code]).to.deep.equal([422, "events_rejected"]);
    expect(problem.results).to.deep.equal([
      {
        eventId: "full",
        status: "rejected",
        code: "ledger_refuses",
        message:
          "the ledger would refuse it: action 0 (Read-to-Earn) has 10000 units, outside 1..5000 (the rule set in force's bound)",
      },
    ]);

    const half = await client.sendEvents([read("half", fresh(), 15)]);
    expect([half.counts.accepted, half.ruleSetVersion]).to.deep.equal([1, 2]);
    for (const eventId of ["before", "half"])
      await waitFor(`${eventId} settled`, async () =>
        (await client.event(eventId)).status === "settled" ? true : undefined,
      );
  });
});
