import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "mocha";
import { zeroHash } from "viem";
import { DeploymentFileError, readDeployment, writeDeployment, type Deployment } from "../../src/chain/deployments.js";

const deployment: Deployment = {
  network: "dev",
  chainId: 31337,
  token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  ledger: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  deploymentBlock: 2n,
  abiHash: zeroHash,
  deployer: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  deployedAt: "2026-12-07T00:00:00.000Z",
  eas: {
    eas: "0xA1207F3BBa224E2c9c3c6D5aF63D0eb1582Ce587",
    schemaRegistry: "0x4200000000000000000000000000000000000020",
    personhoodSchema: zeroHash,
    deployedAtBlock: 12_345_678_901n,
  },
};

describe("deployments/<network>.json: the block EAS was deployed in", function () {
  const roots: string[] = [];
  const root = async () => {
    roots.push(await mkdtemp(join(tmpdir(), "twei-deployments-")));
    return roots.at(-1) as string;
  };
  after(async () => Promise.all(roots.map((dir) => rm(dir, { recursive: true, force: true }))));

  it("is written as a decimal string and read back as a bigint", async function () {
    const dir = await root();
    const path = await writeDeployment(deployment, dir);
    const json = JSON.parse(await readFile(path, "utf8")) as { deploymentBlock: unknown; eas: Record<string, unknown> };
    expect(json.deploymentBlock).to.equal("2");
    expect(json.eas.deployedAtBlock).to.equal("12345678901");
    expect(await readDeployment("dev", dir)).to.deep.equal(deployment);
  });

  it("may be absent (a file written before it was recorded), and is refused when not a block number", async function () {
    const dir = await root();
    const { deployedAtBlock, ...older } = deployment.eas!;
    expect(deployedAtBlock).to.be.a("bigint");
    const path = await writeDeployment({ ...deployment, eas: older }, dir);
    expect((await readDeployment("dev", dir)).eas).to.not.have.property("deployedAtBlock");
    const json = JSON.parse(await readFile(path, "utf8")) as { eas: Record<string, unknown> };
    await writeFile(path, JSON.stringify({ ...json, eas: { ...json.eas, deployedAtBlock: "-1" } }));
    const refused = await readDeployment("dev", dir).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(DeploymentFileError);
    expect((refused as Error).message).to.match(/a block number \(a decimal string\)[\s\S]*eas\.deployedAtBlock/);
  });
});
