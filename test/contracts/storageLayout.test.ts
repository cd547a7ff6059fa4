import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { describe, it } from "mocha";
import {
  TWEI_SOURCE,
  checkTweiStorage,
  compileTweiStorageLayout,
} from "../../scripts/storage-layout/tweiStorageLayout.js";

// The check CI runs (npm run check:storage-layout), on the real source and on sources where a
// slot Twei writes has moved.
describe("Twei's storage layout check", function () {
  it("passes: the ERC20 slots Twei writes are where solc puts them", async function () {
    const source = await readFile(TWEI_SOURCE, "utf8");
    const storage = await compileTweiStorageLayout();
    expect(storage.slice(0, 3).map((e) => [e.label, e.slot])).to.deep.equal([
      ["_balances", "0"],
      ["_allowances", "1"],
      ["_totalSupply", "2"],
    ]);
    expect(checkTweiStorage(storage, source)).to.deep.equal([]);
  });

  it("fails when a base contract with storage comes before ERC20 and moves every slot", async function () {
    const source = await readFile(TWEI_SOURCE, "utf8");
    const moved = source
      .replace("contract Twei is ERC20,", "contract Twei is TweiPadding, ERC20,")
      .replace(
        "/// @title Twei",
        "abstract contract TweiPadding {\n    uint256 internal _padding;\n}\n\n/// @title Twei",
      );
    expect(moved).to.not.equal(source);
    const problems = checkTweiStorage(await compileTweiStorageLayout(process.cwd(), moved), moved);
    expect(problems).to.deep.equal([
      "ERC20._balances is at slot 1 (offset 0), but contracts/Twei.sol writes slot 0 (_BALANCES_SLOT)",
      "ERC20._balances is at slot 1, but src/chain/settlementAccessList.ts lists slot 0",
      "ERC20._allowances is at slot 2 (offset 0), but contracts/Twei.sol writes slot 1 (_ALLOWANCES_SLOT)",
      "ERC20._allowances is at slot 2, but src/chain/settlementAccessList.ts lists slot 1",
      "ERC20._totalSupply is at slot 3 (offset 0), but contracts/Twei.sol writes slot 2 (_TOTAL_SUPPLY_SLOT)",
    ]);
  });

  it("fails when Twei.sol's constant names another slot than the compiler's", async function () {
    const source = await readFile(TWEI_SOURCE, "utf8");
    const wrong = source.replace("_TOTAL_SUPPLY_SLOT = 2;", "_TOTAL_SUPPLY_SLOT = 3;");
    expect(checkTweiStorage(await compileTweiStorageLayout(), wrong)).to.deep.equal([
      "ERC20._totalSupply is at slot 2 (offset 0), but contracts/Twei.sol writes slot 3 (_TOTAL_SUPPLY_SLOT)",
    ]);
  });
});
