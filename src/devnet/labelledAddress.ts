import { getAddress, keccak256, toHex, type Address } from "viem";

/**
 * A made-up address, the same in every run: the last 20 bytes of keccak256(`<label>-<i>`), for
 * tests and benchmarks that need many distinct accounts nobody holds a key to.
 *
 * @example
 * labelledAddress("holder", 7) // a checksummed address
 */
export function labelledAddress(label: string, i: number): Address {
  return getAddress(`0x${keccak256(toHex(`${label}-${i}`)).slice(26)}`);
}
