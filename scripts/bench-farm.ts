/**
 * `npm run bench:farm`: who gets paid. Over the real stack (Hardhat node, relayer, indexer, the
 * demo news site with the site kit's default newcomer hold; the site's clock sped up 20× so a run
 * takes minutes), honest readers (HTTP clients that behave like the widget: one post at a time, a
 * reload and a navigation mid-read, a plus and a like; two returning readers, who read on the
 * site yesterday, and one newcomer) run beside farm strategies with ten wallets for every honest
 * reader:
 * forged heartbeats, fresh wallets from one IP, fresh wallets over eight IPs (client sockets
 * bound to 127.0.x.y), a like ring, parallel posts per wallet, and re-reads. When everything has
 * settled it counts the Twei minted to each wallet (the token's Transfer logs from address 0)
 * and prints a table per strategy. It runs twice: with the default policy, then with proof of
 * personhood on (the site's policy requires an EAS attestation for earning; each honest reader
 * asks the demo site to verify them, as the widget's "Verify I'm a person" does; the farm's
 * wallets are never attested). The final line:
 * `farm_share=<farm mints / all mints> honest_reads_lost=<n> honest_twei_per_reader=<x>
 * honest_reads_held=<n> patient_farm_share=<…> farm_share_personhood=<…> …_personhood` (the same,
 * personhood on). A held read is a newcomer's, kept by the site and paid when they come back
 * another day: not lost. Beside the farms, a patient farm (eight wallets over eight IPs that all
 * came back after 20 h, past the newcomer hold) is reported on its own: `farm_share` leaves it out
 * (of its numerator and of what was minted), `patient_farm_share` counts it with the farms.
 * `BENCH_FARM_PHASES=off` or `on` runs one of the two (its figures only).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatUnits, parseAbiItem, zeroAddress, type Address, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { playDemoScenario } from "./demo/playDemoScenario.js";
import { ARTICLE } from "./demo/scenario.js";
import { SITE_ARTICLES } from "./demo/siteArticles.js";
import { startDemoSite } from "./demo/startDemoSite.js";
import { startDemoStack } from "./demo/startDemoStack.js";
import { utcDay } from "../src/site/core/newcomerHold.js";
import { openSiteStore } from "../src/site/store/openSiteStore.js";
import { patiently, read, Refusals, sleep } from "./farm/behaviours.js";
import { createSiteClient, grant, signIn, type SiteClient } from "./farm/siteClient.js";

const BEAT_MS = 250;
/** Honest readers who read on the site yesterday (past the newcomer hold), and newcomers (held). */
const RETURNING_READERS = 2;
const HONEST_NEWCOMERS = 1;
const started = Date.now();
const say = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

interface Wallet {
  readonly account: LocalAccount;
  readonly client: SiteClient;
}
/**
 * honest: the readers; farm: the farms the figure is about; patient: a farm whose wallets all
 * came back after 20 h (past the newcomer hold), reported on its own (`patient_farm_share`).
 */
type Role = "honest" | "farm" | "patient";
interface Strategy {
  readonly name: string;
  readonly role: Role;
  readonly wallets: Wallet[];
  readonly refusals: Refusals;
  run(): Promise<void>;
}

/** One run's figures, for the final line. */
interface PhaseResult {
  readonly share: number;
  readonly lost: number;
  readonly perReader: string;
  readonly held: number;
  readonly patientShare: number;
}

/** Runs every strategy side by side on a fresh stack; with `personhood`, the site's policy requires proof of personhood. */
async function runPhase(personhood: boolean): Promise<PhaseResult> {
  const dataDir = await mkdtemp(join(tmpdir(), "twei-bench-farm-"));
  say(
    `personhood ${personhood ? "on" : "off"}: starting the demo stack (node, relayer, indexer) and playing the demo's story…`,
  );
  const stack = await startDemoStack({ dataDir, deploymentsRoot: dataDir, personhood });
  try {
    await playDemoScenario(stack);
    // The site kit's default newcomer hold (the demo turns it off unless asked).
    const site = await startDemoSite(stack, { clockRate: 20, heartbeatMs: BEAT_MS, newcomerHold: true });
    try {
      const slugs = SITE_ARTICLES.map((a) => a.slug);
      const [main = ARTICLE.sitePostId, second = main] = slugs;
      const wallets = (count: number, ip: (i: number) => string): Wallet[] =>
        Array.from({ length: count }, (_, i) => ({
          account: privateKeyToAccount(generatePrivateKey()),
          client: createSiteClient(site.url, ip(i)),
        }));
      const strategy = (
        name: string,
        role: Role,
        list: Wallet[],
        each: (w: Wallet, r: Refusals, i: number) => Promise<void>,
      ): Strategy => {
        const refusals = new Refusals();
        return {
          name,
          role,
          wallets: list,
          refusals,
          async run() {
            await Promise.all(
              list.map(async (w, i) => {
                const refused = await signIn(w.client, w.account);
                if (refused) refusals.note(refused);
                else await each(w, refusals, i);
              }),
            );
          },
        };
      };
      const normal = { beatMs: BEAT_MS };
      /** Each honest reader's reads that must pay in full (or, a newcomer's, be kept), checked once everything settled. */
      const honestReads: { wallet: Wallet; slug: string }[] = [];
      /** An honest reader's visit: the widget's behaviour, with a reload and a navigation mid-read. */
      const honestDay = async (w: Wallet, r: Refusals) => {
        honestReads.push({ wallet: w, slug: main }, { wallet: w, slug: second });
        // With personhood on, a person asks the site to verify them ("Verify I'm a person").
        if (personhood) await patiently(() => w.client.call("POST", "/personhood/attest", {}), r);
        // A reload at 40%, then the rest.
        await read(w.client, main, { ...normal, leaveAt: 0.4, away: () => sleep(300), keepHeld: true }, r);
        await patiently(() => w.client.call("POST", `/posts/${main}/vote`, { vote: "plus" }), r);
        await patiently(
          () => w.client.call("POST", `/posts/${main}/comments/c-africa/reaction`, { reaction: "like" }),
          r,
        );
        await sleep(1_000);
        // A "More:" link after 30%, a minute elsewhere (3 s at the bench's clock), then back.
        await read(w.client, second, { ...normal, leaveAt: 0.3, away: () => sleep(3_000), keepHeld: true }, r);
      };
      const returning = wallets(RETURNING_READERS, (i) => `127.0.1.${i + 1}`);
      const newcomers = wallets(HONEST_NEWCOMERS, (i) => `127.0.1.${RETURNING_READERS + i + 1}`);
      const patient = wallets(8, (i) => `127.0.8.${i + 1}`);
      // The returning readers (and the patient farm's wallets) read here yesterday, 21 h ago: the
      // row a beat on that day left in the site's store (the real clock cannot pass a day).
      // Written by a second opener of the store, as a second site process would.
      const siteStore = await openSiteStore({ path: join(stack.dataDir, "site.sqlite") });
      const now = Date.now();
      for (const w of [...returning, ...patient])
        await siteStore.noteReadingDay(w.account.address, utcDay(now) - 1, now - 21 * 3_600_000);
      await siteStore.close();

      const strategies: Strategy[] = [
        strategy("honest readers, returning", "honest", returning, honestDay),
        strategy("honest newcomer", "honest", newcomers, honestDay),
        strategy(
          "forged heartbeats",
          "farm",
          wallets(3, () => "127.0.2.1"),
          async (w, r) => {
            for (const slug of slugs) await read(w.client, slug, { beatMs: 10, maxMs: 60_000 }, r);
          },
        ),
        strategy(
          "fresh wallets, one IP",
          "farm",
          wallets(8, () => "127.0.3.1"),
          async (w, r) => {
            for (const slug of slugs) await read(w.client, slug, normal, r);
          },
        ),
        strategy(
          "fresh wallets, 8 IPs",
          "farm",
          wallets(8, (i) => `127.0.4.${i + 1}`),
          async (w, r) => {
            for (const slug of slugs) await read(w.client, slug, normal, r);
          },
        ),
        likeRing(wallets(7, () => "127.0.5.1")),
        strategy(
          "parallel posts per wallet",
          "farm",
          wallets(3, () => "127.0.6.1"),
          async (w, r) => {
            await Promise.all(slugs.map((slug) => read(w.client, slug, { ...normal, maxMs: 60_000 }, r)));
          },
        ),
        strategy(
          "re-reads",
          "farm",
          wallets(2, () => "127.0.7.1"),
          async (w, r) => {
            for (let i = 0; i < 3; i++) await read(w.client, main, { ...normal, maxMs: 20_000 }, r);
          },
        ),
        // Not in farm_share: the same as "fresh wallets, 8 IPs", but every wallet came back after 20 h.
        strategy("patient farm (back after 20 h), 8 IPs", "patient", patient, async (w, r) => {
          for (const slug of slugs) await read(w.client, slug, normal, r);
        }),
      ];

      /** The leader reads, earns, grants an allowance and comments; the others like the comment. */
      function likeRing(list: Wallet[]): Strategy {
        const [leader, ...likers] = list;
        const refusals = new Refusals();
        return {
          name: "like ring",
          role: "farm",
          wallets: list,
          refusals,
          async run() {
            if (!leader) return;
            const refused = await signIn(leader.client, leader.account);
            if (refused) return refusals.note(refused);
            // A read the site did not send (held for want of proof of personhood) earns nothing to comment with.
            if (!(await read(leader.client, main, normal, refusals))) return;
            // Waits for the read to settle: a comment's tribute is paid from settled Twei.
            for (let i = 0; i < 120; i++) {
              const me = await leader.client.call("GET", "/me");
              if (BigInt(String((me.json.balance as string | undefined) ?? "0")) > 0n) break;
              await sleep(500);
            }
            const granted = await grant(leader.client, leader.account, "5");
            if (granted) refusals.note(granted);
            const posted = await patiently(
              () =>
                leader.client.call("POST", `/posts/${main}/comments`, {
                  text: "Great points all round, thanks for writing this up so clearly!",
                }),
              refusals,
            );
            const commentId = String(posted.json.commentId ?? "");
            await Promise.all(
              likers.map(async (w) => {
                const no = await signIn(w.client, w.account);
                if (no) return refusals.note(no);
                await patiently(
                  () => w.client.call("POST", `/posts/${main}/comments/${commentId}/reaction`, { reaction: "like" }),
                  refusals,
                );
                // And the rest of the ring's spare capacity: a plus each.
                await patiently(() => w.client.call("POST", `/posts/${main}/vote`, { vote: "plus" }), refusals);
              }),
            );
          },
        };
      }

      const fromBlock = await stack.publicClient.getBlockNumber();
      say(`${strategies.map((s) => `${s.name}: ${s.wallets.length}`).join(", ")} wallets; running them side by side…`);
      await Promise.all(
        strategies.map(async (s) => {
          await s.run();
          say(`${s.name}: done`);
        }),
      );

      say("waiting for every accepted event to settle…");
      const everyone = strategies.flatMap((s) => s.wallets.map((w) => w.account.address));
      for (let i = 0; i < 240; i++) {
        const pending = await Promise.all(
          everyone.map(async (address) => {
            const user = (await (await fetch(`${stack.relayerUrl}/v1/users/${address}`)).json()) as Record<
              string,
              string
            >;
            return user.pendingEarnings !== "0" || user.pendingSpends !== "0";
          }),
        );
        const waiting = pending.filter(Boolean).length;
        if (waiting === 0) break;
        if (i % 10 === 0) say(`  ${waiting} wallet(s) with events still pending`);
        await sleep(1_000);
      }
      const toBlock = await stack.publicClient.getBlockNumber();
      const mints = await stack.publicClient.getLogs({
        address: stack.deployment.token,
        event: parseAbiItem("event Transfer(address indexed from, address indexed to, uint256 value)"),
        args: { from: zeroAddress },
        fromBlock,
        toBlock,
      });
      const mintedTo = new Map<string, bigint>();
      let allMinted = 0n;
      for (const log of mints) {
        const to = (log.args.to as Address).toLowerCase();
        mintedTo.set(to, (mintedTo.get(to) ?? 0n) + (log.args.value ?? 0n));
        allMinted += log.args.value ?? 0n;
      }
      const earnedBy = (s: Strategy) =>
        s.wallets.reduce((sum, w) => sum + (mintedTo.get(w.account.address.toLowerCase()) ?? 0n), 0n);

      // An honest read is lost unless it paid the full Read-to-Earn amount.
      const rules = (await (await fetch(`${stack.relayerUrl}/v1/rules`)).json()) as {
        current: { kinds: { kind: number; amount: string }[] };
      };
      const full = rules.current.kinds.find((k) => k.kind === 0)?.amount ?? "0";
      let lost = 0;
      let held = 0;
      for (const { wallet, slug } of honestReads) {
        let earned: string | undefined;
        for (let i = 0; i < 60 && earned === undefined; i++) {
          const state = await wallet.client.call("GET", `/posts/${slug}`);
          const reader = state.json.reader as {
            read?: { complete?: boolean; status?: { state?: string } | null; earned?: { wei: string } | null };
            newcomer?: unknown;
          } | null;
          const readState = reader?.read;
          if (readState?.earned) earned = readState.earned.wei;
          else if (readState?.status?.state === "rejected" || readState?.status?.state === "failed") earned = "0";
          // A newcomer's whole read, kept by the site until they come back: held, not lost.
          else if (reader?.newcomer && readState?.complete && !readState.status) earned = "held";
          else await sleep(1_000);
        }
        if (earned === "held") held += 1;
        else if (earned !== full) lost += 1;
      }

      const twei = (wei: bigint) => Number(formatUnits(wei, 18)).toFixed(2);
      const rows = strategies.map((s) => {
        const earned = earnedBy(s);
        const ips = new Set(s.wallets.map((w) => w.client.ip)).size;
        return [
          s.name,
          String(s.wallets.length),
          String(ips),
          twei(earned),
          twei(s.wallets.length ? earned / BigInt(s.wallets.length) : 0n),
          s.refusals.top(),
        ];
      });
      const header = ["strategy", "wallets", "IPs", "Twei earned", "per wallet", "what stopped it"];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
      const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
      console.log("");
      console.log(`personhood ${personhood ? "on (honest readers verified by the site, farm wallets not)" : "off"}:`);
      console.log(line(header));
      console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
      for (const row of rows) console.log(line(row));
      console.log("");

      const mintedBy = (role: Role) =>
        strategies.filter((s) => s.role === role).reduce((sum, s) => sum + earnedBy(s), 0n);
      const honest = strategies.filter((s) => s.role === "honest");
      const farmMinted = mintedBy("farm");
      const patientMinted = mintedBy("patient");
      const honestMinted = honest.reduce((sum, s) => sum + earnedBy(s), 0n);
      const readers = honest.reduce((n, s) => n + s.wallets.length, 0);
      say(
        `minted in the run: ${twei(allMinted)} Twei (authors and commenters included), farms ${twei(farmMinted)}, the patient farm ${twei(patientMinted)}`,
      );
      const ratio = (part: bigint, whole: bigint) => (whole === 0n ? 0 : Number((part * 10_000n) / whole) / 10_000);
      return {
        // The farms' share of what was minted without the patient farm (which is reported on its own).
        share: ratio(farmMinted, allMinted - patientMinted),
        patientShare: ratio(farmMinted + patientMinted, allMinted),
        lost,
        held,
        perReader: twei(readers ? honestMinted / BigInt(readers) : 0n),
      };
    } finally {
      await site.stop();
    }
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const phases = process.env.BENCH_FARM_PHASES ?? "both";
if (!["both", "off", "on"].includes(phases)) throw new Error("BENCH_FARM_PHASES is both, off or on");
const figures = (result: PhaseResult, suffix: string) =>
  `farm_share${suffix}=${result.share.toFixed(4)} honest_reads_lost${suffix}=${result.lost} honest_twei_per_reader${suffix}=${result.perReader} honest_reads_held${suffix}=${result.held} patient_farm_share${suffix}=${result.patientShare.toFixed(4)}`;
const line: string[] = [];
if (phases !== "on") line.push(figures(await runPhase(false), ""));
if (phases !== "off") line.push(figures(await runPhase(true), "_personhood"));
console.log(line.join(" "));
