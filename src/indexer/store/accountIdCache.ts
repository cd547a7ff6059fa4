import type { Address } from "viem";

/** One lookup of account ids: those remembered, those to read or create, and what it found. */
export interface AccountIdLookup {
  readonly ids: Map<Address, number>;
  /** Ids the lookup's insert created (new accounts). */
  readonly created: Set<number>;
  /** Addresses with no remembered id, each once: read them, and insert the ones missing. */
  readonly unknown: readonly Address[];
  /** Records an id read or created (remembered for later lookups). */
  found(address: Address, id: number, created?: boolean): void;
}

export interface AccountIdCache {
  lookup(accounts: Iterable<Address>): AccountIdLookup;
  /** A rolled-back transaction may have allocated ids: forget every remembered one. */
  forget(): void;
}

/**
 * Account ids by address, remembered across commits (up to a million), for both indexer stores.
 *
 * @example
 * const lookup = cache.lookup(accounts); for (const row of read(lookup.unknown)) lookup.found(row.address, row.id)
 */
export function createAccountIdCache(): AccountIdCache {
  const known = new Map<Address, number>();
  return {
    lookup(accounts) {
      const ids = new Map<Address, number>();
      const created = new Set<number>();
      const unknown: Address[] = [];
      for (const account of new Set(accounts)) {
        const id = known.get(account);
        if (id === undefined) unknown.push(account);
        else ids.set(account, id);
      }
      return {
        ids,
        created,
        unknown,
        found(address, id, isNew = false) {
          ids.set(address, id);
          if (isNew) created.add(id);
          if (known.size < 1_000_000) known.set(address, id);
        },
      };
    },
    forget: () => known.clear(),
  };
}
