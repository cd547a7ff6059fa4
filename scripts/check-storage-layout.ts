// npm run check:storage-layout: fails (exit 1) when the ERC20 slots that contracts/Twei.sol and
// the relayer's access lists write are not where the compiler puts them (see
// scripts/storage-layout/tweiStorageLayout.ts). CI runs it.
import { readFile } from "node:fs/promises";
import {
  TWEI_SOURCE,
  WRITTEN_SLOTS,
  checkTweiStorage,
  compileTweiStorageLayout,
} from "./storage-layout/tweiStorageLayout.js";

try {
  console.error("storage layout: compiling Twei's storage layout with solc…");
  const storage = await compileTweiStorageLayout();
  const problems = checkTweiStorage(storage, await readFile(TWEI_SOURCE, "utf8"));
  for (const problem of problems) console.error(`storage layout: ${problem}`);
  if (problems.length === 0) {
    const slots = WRITTEN_SLOTS.map(({ label }) => `${label}=${storage.find((e) => e.label === label)?.slot}`);
    console.log(`storage layout: Twei's written ERC20 slots are where solc puts them (${slots.join(" ")})`);
  }
  process.exitCode = problems.length === 0 ? 0 : 1;
} catch (error) {
  console.error(`storage layout: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
