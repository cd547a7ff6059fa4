import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatViemAssertions from "@nomicfoundation/hardhat-viem-assertions";
import { configVariable, defineConfig } from "hardhat/config";
import { createRequire } from "node:module";

// No compiler download reaches these machines: compile with the npm package `solc`.
const soljson = createRequire(import.meta.url).resolve("solc/soljson.js");

export default defineConfig({
  plugins: [hardhatViem, hardhatViemAssertions, hardhatNetworkHelpers, hardhatMocha],
  solidity: {
    version: "0.8.30",
    path: soljson,
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "prague",
    },
  },
  paths: {
    tests: { mocha: "test" },
  },
  test: {
    mocha: { timeout: 120_000 },
  },
  networks: {
    default: { type: "edr-simulated", chainType: "l1" },
    // A local rehearsal node: TWEI_RPC_URL (the URL every Twei program reads) or Hardhat's default port.
    localhost: { type: "http", chainType: "l1", url: process.env.TWEI_RPC_URL || "http://127.0.0.1:8545" },
    // A real EVM network: the URL and key come from the environment or Hardhat's keystore.
    live: {
      type: "http",
      chainType: "l1",
      url: configVariable("TWEI_RPC_URL"),
      accounts: [configVariable("TWEI_DEPLOYER_KEY")],
    },
  },
});
