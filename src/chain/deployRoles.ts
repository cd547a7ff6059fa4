import { getAddress, isAddress, type Address } from "viem";
import { z } from "zod";

/** Chain ids of local dev chains (Hardhat's and anvil's), where one key and no delays are fine. */
export const LOCAL_CHAIN_IDS: ReadonlySet<number> = new Set([31337]);
/** Defaults on a live network: a default admin transfer waits two days, a rule-set or cap change one. */
export const LIVE_ADMIN_DELAY = 2 * 86_400;
export const LIVE_CHANGE_DELAY = 86_400;

export interface DeployRoles {
  readonly admin: Address;
  readonly policyAdmin: Address;
  readonly pauser: Address;
  /** Resumes settlement after a pause: the admin's key by default, never the (hot) pauser's. */
  readonly unpauser: Address;
  readonly relayer?: Address;
  readonly adminDelay: number;
  readonly changeDelay: number;
  readonly ruleSetGrace?: number;
  /** What the deployer should hear about before going on (one key in several roles on a live network). */
  readonly warnings: readonly string[];
}

const address = (name: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return undefined;
      if (!isAddress(value)) {
        ctx.addIssue({ code: "custom", message: `${name} is not an EVM address` });
        return z.NEVER;
      }
      return getAddress(value);
    });
const seconds = z.coerce
  .number()
  .int()
  .min(0)
  .max(2 ** 48 - 1)
  .optional();

const envSchema = z.object({
  TWEI_ADMIN: address("TWEI_ADMIN"),
  TWEI_POLICY_ADMIN: address("TWEI_POLICY_ADMIN"),
  TWEI_PAUSER: address("TWEI_PAUSER"),
  TWEI_UNPAUSER: address("TWEI_UNPAUSER"),
  TWEI_RELAYER: address("TWEI_RELAYER"),
  TWEI_ADMIN_DELAY: seconds,
  TWEI_CHANGE_DELAY: seconds,
  TWEI_RULE_SET_GRACE: seconds,
});

/**
 * The ledger's roles and delays for a deployment, from the environment: `TWEI_ADMIN`,
 * `TWEI_POLICY_ADMIN`, `TWEI_PAUSER` (each the deployer when unset), `TWEI_UNPAUSER` (the admin
 * when unset), `TWEI_RELAYER` (none when unset), `TWEI_ADMIN_DELAY`, `TWEI_CHANGE_DELAY` and
 * `TWEI_RULE_SET_GRACE` in seconds (delays: 0 on a local chain, two days and one day on a live
 * one). Warns when one key holds two of admin, policy admin and pauser, or the pauser's key may
 * also unpause, on a live network. Throws a RangeError naming each bad variable.
 *
 * @example
 * const roles = deployRolesFromEnv(process.env, { deployer, chainId: 1 })
 */
export function deployRolesFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  context: { readonly deployer: Address; readonly chainId: number },
): DeployRoles {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success)
    throw new RangeError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "));
  const e = parsed.data;
  const live = !LOCAL_CHAIN_IDS.has(context.chainId);
  const admin = e.TWEI_ADMIN ?? getAddress(context.deployer);
  const policyAdmin = e.TWEI_POLICY_ADMIN ?? getAddress(context.deployer);
  const pauser = e.TWEI_PAUSER ?? getAddress(context.deployer);
  const unpauser = e.TWEI_UNPAUSER ?? admin;
  const warnings: string[] = [];
  if (live) {
    const holders = new Map<Address, string[]>();
    for (const [role, holder] of [
      ["admin", admin],
      ["policy admin", policyAdmin],
      ["pauser", pauser],
    ] as const)
      holders.set(holder, [...(holders.get(holder) ?? []), role]);
    for (const [holder, roles] of holders)
      if (roles.length > 1)
        warnings.push(
          `${holder} holds the ${roles.join(", ")} roles on a live network: one stolen key is then all of them (set TWEI_ADMIN, TWEI_POLICY_ADMIN and TWEI_PAUSER to separate keys)`,
        );
    if (unpauser === pauser)
      warnings.push(
        `${pauser} holds the pauser and unpauser roles on a live network: a stolen pauser key could then lift a pause (set TWEI_UNPAUSER to an admin-held key)`,
      );
  }
  return {
    admin,
    policyAdmin,
    pauser,
    unpauser,
    ...(e.TWEI_RELAYER ? { relayer: e.TWEI_RELAYER } : {}),
    adminDelay: e.TWEI_ADMIN_DELAY ?? (live ? LIVE_ADMIN_DELAY : 0),
    changeDelay: e.TWEI_CHANGE_DELAY ?? (live ? LIVE_CHANGE_DELAY : 0),
    ...(e.TWEI_RULE_SET_GRACE === undefined ? {} : { ruleSetGrace: e.TWEI_RULE_SET_GRACE }),
    warnings,
  };
}
