import { LRUCache } from "lru-cache";
import type { Address } from "viem";
import { isNewcomer, utcDay, type NewcomerHold } from "./core/newcomerHold.js";
import type { PersonhoodCheck } from "./personhoodCheck.js";
import type { SiteStore } from "./store/siteStore.js";

/** A reader the hold keeps: how far they are from being paid. */
export interface NewcomerStatus {
  /** UTC days the site credited them reading time on, and how many lift the hold. */
  readonly readingDays: number;
  readonly readingDaysNeeded: number;
}

export interface NewcomerCheck {
  /** The site's hold, undefined when it has none. */
  readonly hold: NewcomerHold | undefined;
  /** Records that the reader's meter credited time at `at` (one write per reader and day, none once the hold lifted). */
  noteReading(user: Address, at: number): Promise<void>;
  /** The reader's status when the hold keeps their reads at `at`; null when it does not. */
  of(user: Address, at: number): Promise<NewcomerStatus | null>;
}

/** How long a held reader's answer is kept (the widget asks every 1.5 s; days and levels move slower). */
const KEEP_MS = 5_000;

/**
 * The site's newcomer hold over its store (the reading days), the relayer (the reader's level, `levelOf`)
 * and the proof of personhood (an attested reader is no newcomer): src/site/core/newcomerHold.ts
 * decides. A reader once found past the hold is remembered (it never comes back), so a returning
 * reader costs no query.
 *
 * @example
 * const newcomers = createNewcomerCheck({ hold: DEFAULT_NEWCOMER_HOLD, store, levelOf, personhood })
 * if (await newcomers.of(user, Date.now())) … // hold the read
 */
export function createNewcomerCheck(parameters: {
  readonly hold: NewcomerHold | undefined;
  readonly store: SiteStore;
  /** The reader's level as the relayer reports it (from what the chain minted to them); null when unknown. */
  readonly levelOf: (user: Address) => Promise<number | null>;
  readonly personhood: PersonhoodCheck;
}): NewcomerCheck {
  const { store, levelOf, personhood } = parameters;
  const hold = parameters.hold && parameters.hold.readingDays > 0 ? parameters.hold : undefined;
  const past = new LRUCache<string, true>({ max: 100_000 });
  const noted = new LRUCache<string, true>({ max: 100_000 });
  const held = new LRUCache<string, NewcomerStatus>({ max: 10_000, ttl: KEEP_MS });

  return {
    hold,
    async noteReading(user, at) {
      if (!hold) return;
      const key = `${user.toLowerCase()}:${utcDay(at)}`;
      if (past.has(user.toLowerCase()) || noted.has(key)) return;
      await store.noteReadingDay(user, utcDay(at), at);
      noted.set(key, true);
    },
    async of(user, at) {
      if (!hold) return null;
      const key = user.toLowerCase();
      if (past.has(key)) return null;
      const cached = held.get(key);
      if (cached) return cached;
      const [level, attestation, history] = await Promise.all([
        levelOf(user),
        personhood.required ? personhood.of(user) : Promise.resolve(null),
        store.readingHistory(user),
      ]);
      const facts = {
        level,
        attested: typeof attestation === "string",
        readingDays: history.days,
        firstReadAt: history.firstAt,
      };
      if (!isNewcomer(hold, facts, at)) {
        past.set(key, true);
        return null;
      }
      const status = { readingDays: history.days, readingDaysNeeded: hold.readingDays };
      held.set(key, status);
      return status;
    },
  };
}
