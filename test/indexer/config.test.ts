import { expect } from "chai";
import { describe, it } from "mocha";
import { IndexerConfigError, loadIndexerConfig } from "../../src/indexer/config.js";

describe("indexer configuration", function () {
  it("defaults to SQLite and syncing: nothing changes without DATABASE_URL and INDEXER_SYNC", function () {
    const config = loadIndexerConfig({});
    expect(config).to.deep.include({ dbPath: "data/indexer/localhost.sqlite", sync: true });
    expect(config).to.not.have.property("databaseUrl");
  });

  it("takes a postgres:// DATABASE_URL and INDEXER_SYNC=false for a read-only process", function () {
    const config = loadIndexerConfig({ DATABASE_URL: "postgres://twei@db/twei", INDEXER_SYNC: "false" });
    expect(config).to.deep.include({ databaseUrl: "postgres://twei@db/twei", sync: false, maxWriterSilenceMs: 15_000 });
    expect(loadIndexerConfig({ INDEXER_MAX_WRITER_SILENCE_MS: "5000" }).maxWriterSilenceMs).to.equal(5_000);
  });

  it("names a bad DATABASE_URL or INDEXER_SYNC without echoing the URL", function () {
    const bad = (env: Record<string, string>) => {
      try {
        loadIndexerConfig(env);
      } catch (error) {
        expect(error).to.be.instanceOf(IndexerConfigError);
        return (error as Error).message;
      }
      throw new Error("accepted");
    };
    const url = bad({ DATABASE_URL: "mysql://user:secret@db/twei" });
    expect(url).to.include("DATABASE_URL");
    expect(url).to.not.include("secret");
    expect(bad({ INDEXER_SYNC: "no" })).to.include("INDEXER_SYNC");
    expect(bad({ INDEXER_MAX_WRITER_SILENCE_MS: "10" })).to.include("INDEXER_MAX_WRITER_SILENCE_MS");
  });
});
