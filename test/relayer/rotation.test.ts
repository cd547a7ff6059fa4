import { expect } from "chai";
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "mocha";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  directoryEvidenceSource,
  relayerEvidenceSource,
  savingEvidenceSource,
} from "../../src/auditor/evidenceSource.js";
import { runAudit } from "../../src/auditor/runAudit.js";
import { tweiLedgerAbi } from "../../src/chain/abi.js";
import { waitForSuccess } from "../../src/chain/waitForSuccess.js";
import { ActionKind } from "../../src/core/kinds.js";
import type { SiteEventInput } from "../../src/evidence/siteEvent.js";
import { createTweiClient, TweiApiError } from "../../src/sdk/createTweiClient.js";
import { CHAIN_ID, startTestChain, type TestChain } from "./helpers/testChain.js";
import { addSite, removeDir, startTestRelayer, tempDir } from "./helpers/testRelayer.js";
import { handReady, testStores } from "./helpers/testStores.js";
import { STORES } from "../helpers/postgres.js";

const SITE = 71;

/** The test seeds balances with batches of its own (ids from 2^63), which have no evidence. */
const relayers = <T extends { batchId: string | null }>(discrepancies: readonly T[]) =>
  discrepancies.filter((d) => d.batchId === null || BigInt(d.batchId) < 2n ** 63n);

interface EvidenceFile {
  envelopes: { nonce: string; acceptedAtBlock?: string }[];
}

for (const store of STORES)
  describe(`relayer key rotation on ${store}: the registry's signer at the block of acceptance, and an auditor without false alarms`, function () {
    let chain: TestChain;
    let dir: string;
    const stores = testStores(store);

    before(async function () {
      chain = await startTestChain();
      dir = await tempDir("rotation");
      await stores.start();
    });
    after(async function () {
      await chain?.stop();
      await removeDir(dir);
      await stores.stop();
    });

    it("refuses an old-key envelope once the rotation is mined (403), and audits clean an envelope accepted before it and settled after", async function () {
      const { dataDir, config, byHand } = await stores.fresh("rotation");
      const oldKey = privateKeyToAccount(generatePrivateKey());
      const newKey = privateKeyToAccount(generatePrivateKey());
      const site = await addSite(chain, dataDir, SITE, { signer: oldKey, ...config });
      const author = chain.user(0);
      await chain.seed(SITE, [{ account: author.address, kind: ActionKind.CommentRewards, units: 3 }]);
      await chain.approveLedger(author);
      const relayer = await startTestRelayer(chain, dataDir, byHand({}));
      await handReady(relayer);
      const clientWith = (signer: typeof oldKey) =>
        createTweiClient({
          url: relayer.url,
          apiKey: site.apiKey,
          siteId: SITE,
          signer,
          chainId: CHAIN_ID,
          ledger: chain.deployed.ledger,
        });
      const reader = privateKeyToAccount(generatePrivateKey()).address;
      const read = (eventId: string): SiteEventInput => ({
        eventId,
        type: "post_read",
        occurredAt: 2,
        user: reader,
        postId: "p",
        secondsRead: 10_000,
      });
      try {
        const before = await clientWith(oldKey).sendEvents([
          { eventId: "pub", type: "post_published", occurredAt: 1, user: author.address, postId: "p", wordCount: 100 },
        ]);
        expect(before.counts.accepted).to.equal(1);

        const rotation = await waitForSuccess(
          chain.publicClient,
          await chain.admin.writeContract({
            address: chain.deployed.ledger,
            abi: tweiLedgerAbi,
            functionName: "setSiteSigner",
            args: [SITE, newKey.address],
            chain: chain.chain,
          } as never),
        );
        // At once, with no cache to wait out: the old key is refused.
        let refused: unknown;
        try {
          await clientWith(oldKey).sendEvents([read("late")]);
        } catch (error) {
          refused = error;
        }
        expect(refused).to.be.instanceOf(TweiApiError);
        expect([(refused as TweiApiError).status, (refused as TweiApiError).code]).to.deep.equal([
          403,
          "invalid_signature",
        ]);
        expect((await clientWith(newKey).sendEvents([read("after")])).counts.accepted).to.equal(1);

        // Both envelopes settle in one batch, after the rotation.
        await relayer.batcher.tick();
        expect((await clientWith(newKey).event("pub")).status).to.equal("settled");
        expect((await clientWith(newKey).event("after")).status).to.equal("settled");

        const saved = join(dir, "evidence");
        const audit = await runAudit({
          publicClient: chain.publicClient,
          deployment: { chainId: CHAIN_ID, ...chain.deployed },
          evidence: savingEvidenceSource(relayerEvidenceSource(relayer.url), saved),
        });
        expect(relayers(audit.discrepancies)).to.deep.equal([]);

        // Each envelope says the block it was accepted at: the first before the rotation, the second from it on.
        const files = (await readdir(saved)).filter((name) => name.endsWith(".json"));
        const relayerFile = files.find((name) => BigInt(name.replace(".json", "")) < 2n ** 63n) as string;
        const evidence = JSON.parse(await readFile(join(saved, relayerFile), "utf8")) as EvidenceFile;
        const [first, second] = evidence.envelopes.map((envelope) => BigInt(envelope.acceptedAtBlock ?? "-1"));
        expect((first as bigint) < rotation.blockNumber).to.equal(true);
        expect((second as bigint) >= rotation.blockNumber).to.equal(true);

        // Evidence that claims the old-key envelope was accepted after the rotation is named for it.
        const tampered = join(dir, "tampered");
        await cp(saved, tampered, { recursive: true }); // the batches' files and the policies beside them
        const edited = JSON.parse(await readFile(join(tampered, relayerFile), "utf8")) as EvidenceFile;
        (edited.envelopes[0] as { acceptedAtBlock?: string }).acceptedAtBlock = rotation.blockNumber.toString();
        await writeFile(join(tampered, relayerFile), JSON.stringify(edited));
        const flagged = await runAudit({
          publicClient: chain.publicClient,
          deployment: { chainId: CHAIN_ID, ...chain.deployed },
          evidence: directoryEvidenceSource(tampered),
        });
        expect(relayers(flagged.discrepancies).map((d) => d.code)).to.deep.equal(["signed_by_replaced_key"]);
        expect(relayers(flagged.discrepancies)[0]?.what)
          .to.include(oldKey.address)
          .and.include(`block ${rotation.blockNumber}`);
      } finally {
        await relayer.stop();
      }
    });
  });
