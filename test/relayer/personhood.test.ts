import { expect } from "chai";
import { after, before, describe, it } from "mocha";
import type { Hex } from "viem";
import { relayerEvidenceSource } from "../../src/auditor/evidenceSource.js";
import { runAudit } from "../../src/auditor/runAudit.js";
import { deployEas } from "../../src/chain/deployEas.js";
import type { DeployerClient } from "../../src/chain/deployTwei.js";
import { attestPersonhood, revokePersonhood } from "../../src/chain/personhoodAttestation.js";
import { ActionKind } from "../../src/core/kinds.js";
import { batchEvidenceSchema } from "../../src/evidence/batchEvidence.js";
import { DEFAULT_POLICY, type PersonhoodPolicy, type RulePolicy } from "../../src/rules/policy.js";
import { STORES, testDatabase } from "../helpers/postgres.js";
import { publishEvent, readEvent } from "./helpers/siteEvents.js";
import { startTcpProxy } from "./helpers/tcpProxy.js";
import { CHAIN_ID, startTestChain, type TestChain } from "./helpers/testChain.js";
import {
  addSite,
  clientFor,
  removeDir,
  startTestRelayer,
  tempDir,
  waitFor,
  type TestSite,
} from "./helpers/testRelayer.js";

// Proof of personhood (issue 22, part 3) at acceptance, on a real Hardhat node with EAS deployed
// and a site attester: an attested reader earns and the evidence names the attestation; an
// unattested one, or one whose attestation was revoked, earns nothing (personhood_required).
const SITE = 21;

for (const store of STORES)
  describe(`relayer: proof of personhood at acceptance on ${store}`, function () {
    let chain: TestChain;
    let db: Awaited<ReturnType<typeof testDatabase>>;
    let dir: string;
    let url: string;
    let site: TestSite;
    let stopRelayer: () => Promise<void>;
    let policy: PersonhoodPolicy;
    let sitePolicy: RulePolicy;
    let attester: DeployerClient;

    before(async function () {
      chain = await startTestChain();
      db = await testDatabase(store, "personhood");
      dir = await tempDir("personhood");
      const admin = chain.admin as unknown as DeployerClient;
      const { eas, personhoodSchema } = await deployEas({ publicClient: chain.publicClient, walletClient: admin });
      // The site attests its own readers ("signed in, e-mail verified") with a key of its own.
      attester = chain.walletOf(chain.user(9)) as unknown as DeployerClient;
      policy = { eas, schema: personhoodSchema, attesters: [attester.account.address] };
      sitePolicy = { ...DEFAULT_POLICY, personhood: policy };
      site = await addSite(chain, dir, SITE, { databaseUrl: db?.url, policy: sitePolicy });
      const relayer = await startTestRelayer(chain, dir, {
        ...(db ? { databaseUrl: db.url } : {}),
        policy: sitePolicy,
      });
      url = relayer.url;
      stopRelayer = () => relayer.stop();
      await chain.seed(SITE, [{ account: chain.user(0).address, kind: ActionKind.CommentRewards, units: 10 }]);
      await chain.approveLedger(chain.user(0));
    });

    after(async function () {
      await stopRelayer?.();
      await chain?.stop();
      await db?.stop();
      await removeDir(dir);
    });

    it("pays the attested reader (the evidence names the attestation) and nobody unattested or revoked", async function () {
      const client = clientFor(chain, url, site);
      const [author, person, farm, revoked] = [0, 1, 2, 3].map((i) => chain.user(i).address) as [Hex, Hex, Hex, Hex];
      const publicClient = chain.publicClient;
      const uid = await attestPersonhood({ publicClient, walletClient: attester, policy, recipient: person });
      const lost = await attestPersonhood({ publicClient, walletClient: attester, policy, recipient: revoked });
      await revokePersonhood({ publicClient, walletClient: attester, policy, uid: lost });
      // An attestation by someone the policy does not name proves nothing.
      await attestPersonhood({
        publicClient,
        walletClient: chain.walletOf(chain.user(8)) as unknown as DeployerClient,
        policy,
        recipient: farm,
      });

      await client.sendEvents([publishEvent("pub", author, "essay")]);
      const answer = await client.sendEvents([
        readEvent("read-person", person, "essay"),
        readEvent("read-farm", farm, "essay"),
        readEvent("read-revoked", revoked, "essay"),
      ]);
      const fate = (eventId: string) => answer.results.find((r) => r.eventId === eventId) as Record<string, unknown>;
      expect(fate("read-person").status).to.equal("accepted");
      for (const eventId of ["read-farm", "read-revoked"]) {
        expect(fate(eventId).status).to.equal("rejected");
        expect(fate(eventId).code).to.equal("personhood_required");
      }

      const settled = await waitFor("the attested read settled", async () => {
        const e = await client.event("read-person");
        return e.status === "settled" ? e : undefined;
      });
      const evidence = batchEvidenceSchema.parse(await client.batch(settled.batchId as string));
      const item = evidence.events.find((e) => e.event.eventId === "read-person");
      expect(item?.attestation).to.equal(uid);
      expect((await chain.balanceOf(person)) > 0n).to.equal(true);
      expect(await chain.balanceOf(farm)).to.equal(0n);
      expect(await chain.balanceOf(revoked)).to.equal(0n);

      // The auditor re-checks the attestation at the batch's block (the relayer read it at the
      // envelope's acceptedAtBlock): the relayer's own batches audit clean, even once revoked.
      await revokePersonhood({ publicClient, walletClient: attester, policy, uid });
      const audit = await runAudit({
        publicClient,
        deployment: { chainId: CHAIN_ID, ...chain.deployed },
        evidence: relayerEvidenceSource(url),
        policy: sitePolicy,
      });
      // The test's seed batch (id from 2^63) has no evidence.
      expect(audit.discrepancies.filter((d) => d.batchId === null || BigInt(d.batchId) < 2n ** 63n)).to.deep.equal([]);
      expect(audit.summary.batchesWithEvidence).to.be.greaterThan(0);
    });

    it("refuses a read as personhood_unknown while the attestations cannot be read, and pays it once they can", async function () {
      // A relayer of its own (another site) whose chain goes through a proxy that can be cut.
      const SITE_DOWN = SITE + 1;
      const downDir = await tempDir("personhood-down");
      const databaseUrl = db ? await db.server.createDatabase("personhood_down") : undefined;
      const downSite = await addSite(chain, downDir, SITE_DOWN, { databaseUrl, policy: sitePolicy });
      const proxy = await startTcpProxy(chain.node.port);
      const relayer = await startTestRelayer(chain, downDir, {
        ...(databaseUrl ? { databaseUrl } : {}),
        policy: sitePolicy,
        rpcUrl: proxy.url,
        chainTimeoutMs: 1_000,
      });
      try {
        const client = clientFor(chain, relayer.url, downSite);
        const author = chain.user(0).address;
        const person = chain.user(4).address;
        await attestPersonhood({ publicClient: chain.publicClient, walletClient: attester, policy, recipient: person });
        await chain.seed(SITE_DOWN, [{ account: author, kind: ActionKind.CommentRewards, units: 10 }]);
        await client.sendEvents([publishEvent("pub-down", author, "essay")]);

        await proxy.down();
        const refused = await client.sendEvents([readEvent("read-down", person, "essay")]).catch((e: unknown) => e);
        const results = (refused as { problem?: { results?: Record<string, unknown>[] } }).problem?.results;
        expect(results?.[0], JSON.stringify(refused)).to.deep.include({
          eventId: "read-down",
          status: "rejected",
          code: "personhood_unknown",
        });

        await proxy.up();
        const answer = await client.sendEvents([readEvent("read-down", person, "essay")]);
        expect(answer.results[0]).to.deep.include({ eventId: "read-down", status: "accepted" });
        const settled = await waitFor("the read settled once the chain was back", async () => {
          const e = await client.event("read-down");
          return e.status === "settled" ? e : undefined;
        });
        const evidence = batchEvidenceSchema.parse(await client.batch(settled.batchId as string));
        expect(evidence.events.find((e) => e.event.eventId === "read-down")?.attestation).to.match(/^0x[0-9a-f]{64}$/);
      } finally {
        await relayer.stop();
        await proxy.down();
        await removeDir(downDir);
      }
    });
  });
