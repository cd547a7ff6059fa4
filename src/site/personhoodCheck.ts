import { LRUCache } from "lru-cache";
import type { Address, Hex, PublicClient } from "viem";
import { createPersonhoodIndex } from "../chain/createPersonhoodIndex.js";
import type { PersonhoodPolicy } from "../rules/policy.js";

/** How long an answer about one reader is kept (the widget asks every 1.5 s; the chain moves slower). */
const KEEP_MS = 15_000;

export interface PersonhoodCheck {
  /** Whether the site's policy requires proof of personhood for earning. */
  readonly required: boolean;
  /**
   * The UID of a valid personhood attestation of `user` under the policy (by an attester it
   * names, the site or another, at the chain's head), null when they hold none, undefined
   * when the chain cannot say (or the policy requires none). Cached a moment per reader.
   */
  of(user: Address): Promise<Hex | null | undefined>;
  /** Forgets what is cached about `user` (after the site attested them, or the relayer disagreed). */
  forget(user: Address): void;
}

/**
 * What the site knows of its readers' proof of personhood, read from the chain as the relayer
 * reads it at acceptance (src/chain/createPersonhoodIndex.ts): so the site holds a read the
 * relayer would refuse (`sendRead`) and the widget says what earning needs.
 *
 * @example
 * const personhood = createPersonhoodCheck({ policy: config.policy.personhood, publicClient })
 * if ((await personhood.of(user)) === null) … // not attested: earning needs proof of personhood
 */
export function createPersonhoodCheck(parameters: {
  readonly policy: PersonhoodPolicy | undefined;
  readonly publicClient: PublicClient;
  /** The first block to look for attestations in (EAS's deployment); 0 by default. */
  readonly fromBlock?: bigint;
}): PersonhoodCheck {
  const { policy, publicClient } = parameters;
  const cache = new LRUCache<string, Promise<Hex | null | undefined>>({ max: 10_000, ttl: KEEP_MS });

  // The chain's Attested logs, read once and then only the new blocks (as the relayer does).
  const index = policy
    ? createPersonhoodIndex(publicClient, {
        policy,
        ...(parameters.fromBlock === undefined ? {} : { fromBlock: parameters.fromBlock }),
      })
    : undefined;

  async function lookUp(user: Address): Promise<Hex | null | undefined> {
    if (!index) return undefined;
    try {
      return (await index.find(user, await publicClient.getBlockNumber())) ?? null;
    } catch {
      return undefined;
    }
  }

  return {
    required: policy !== undefined,
    of(user) {
      const key = user.toLowerCase();
      const cached = cache.get(key);
      if (cached) return cached;
      const answer = lookUp(user);
      // An unknown answer (the chain unreachable) is asked again next time.
      void answer.then((value) => value === undefined && cache.delete(key));
      cache.set(key, answer);
      return answer;
    },
    forget(user) {
      cache.delete(user.toLowerCase());
    },
  };
}
