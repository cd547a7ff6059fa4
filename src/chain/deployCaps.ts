import { formatUnits, parseUnits } from "viem";
import { z } from "zod";
import { DEFAULT_BURN_CAP, DEFAULT_EMISSION_CAP, DEFAULT_EPOCH_SECONDS } from "../core/ruleSet.js";

/** The largest cap the ledger's usage records hold (TweiLedger.MAX_CAP: 2**104 - 1 wei). */
export const MAX_LEDGER_CAP = 2n ** 104n - 1n;

/** The ledger's overall caps for a deployment: what all sites together may mint and burn per epoch. */
export interface DeployCaps {
  /** The length of an emission epoch, in seconds (the caps' window). */
  readonly epochSeconds: bigint;
  /** The overall cap on what is minted per epoch, in wei. */
  readonly emissionCap: bigint;
  /** The overall cap on what is burned per epoch, in wei. */
  readonly burnCap: bigint;
}

const twei = (name: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return undefined;
      if (!/^\d+(\.\d{1,18})?$/.test(value)) {
        ctx.addIssue({ code: "custom", message: `${name} is not an amount of Twei (digits, up to 18 decimals)` });
        return z.NEVER;
      }
      const wei = parseUnits(value, 18);
      if (wei > MAX_LEDGER_CAP) {
        ctx.addIssue({
          code: "custom",
          message: `${name} is above the largest cap the ledger holds (${formatUnits(MAX_LEDGER_CAP, 18)} Twei)`,
        });
        return z.NEVER;
      }
      return wei;
    });

const envSchema = z.object({
  TWEI_MINT_CAP: twei("TWEI_MINT_CAP"),
  TWEI_BURN_CAP: twei("TWEI_BURN_CAP"),
  TWEI_EPOCH_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 48 - 1)
    .optional(),
});

/**
 * The ledger's overall caps for a deployment, from the environment: `TWEI_MINT_CAP` and
 * `TWEI_BURN_CAP` in Twei per epoch (1,000,000 each by default), `TWEI_EPOCH_SECONDS` the epoch
 * (a day by default). The caps are counted over a sliding window of one epoch (ITweiLedger's
 * settle); they change later with `scheduleEmissionCaps` (after the change delay). Throws a
 * RangeError naming each bad variable.
 *
 * @example
 * deployCapsFromEnv({ TWEI_MINT_CAP: "5000000" }) // { emissionCap: 5000000n * 10n ** 18n, … }
 */
export function deployCapsFromEnv(env: Readonly<Record<string, string | undefined>>): DeployCaps {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success)
    throw new RangeError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "));
  const e = parsed.data;
  return {
    epochSeconds: e.TWEI_EPOCH_SECONDS === undefined ? DEFAULT_EPOCH_SECONDS : BigInt(e.TWEI_EPOCH_SECONDS),
    emissionCap: e.TWEI_MINT_CAP ?? DEFAULT_EMISSION_CAP,
    burnCap: e.TWEI_BURN_CAP ?? DEFAULT_BURN_CAP,
  };
}
