import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./spawnDevNode.js";

const run = promisify(execFile);

/** A throw-away PostgreSQL server (initdb + pg_ctl) on 127.0.0.1, for tests and benchmarks. */
export interface DevPostgres {
  /** postgres://… of the `postgres` database; `createDatabase` makes others. */
  readonly url: string;
  readonly port: number;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server as a crash does (`pg_ctl stop -m immediate`), keeping its data: an outage. */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port and data (it recovers from its WAL). */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** Where Debian's (or a source build's) initdb and pg_ctl are: PATH first, then the versioned directories. */
function binary(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir && existsSync(join(dir, name))) return join(dir, name);
  for (const version of ["17", "16", "15", "14", "13"]) {
    const path = `/usr/lib/postgresql/${version}/bin/${name}`;
    if (existsSync(path)) return path;
  }
  throw new Error(`${name} not found: install PostgreSQL (Debian: apt-get install postgresql)`);
}

/** initdb refuses to run as root: then the server runs as the `postgres` user (or nobody). */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number((await run("id", ["-u", name])).stdout.trim());
      const gid = Number((await run("id", ["-g", name])).stdout.trim());
      return { uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error("running as root, and neither the postgres nor the nobody user exists to run PostgreSQL");
}

/**
 * Starts PostgreSQL in a temporary directory on a free loopback port (fsync on, as in
 * production: benchmarks measure real commits). `stop()` stops it and removes the directory.
 *
 * @example
 * const server = await startPostgres(); const url = await server.createDatabase("relayer"); … await server.stop();
 */
export async function startPostgres(options: { log?: (line: string) => void } = {}): Promise<DevPostgres> {
  const say = options.log ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), "twei-pg-"));
  const data = join(dir, "data");
  const user = await serverUser();
  if (user) {
    await chown(dir, user.uid, user.gid);
    await chmod(dir, 0o700);
  }
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  const port = await freePort();
  say(`initdb in ${data}`);
  await run(binary("initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"], {
    ...as,
    env: { ...process.env, LC_ALL: "C" },
  });
  const settings = [
    `-p ${port}`,
    "-h 127.0.0.1",
    `-k ${dir}`,
    "-c max_connections=200",
    "-c shared_buffers=64MB",
    // kill -9 of a client: its session (and advisory locks) end at once; a vanished host within ~10 s.
    "-c tcp_keepalives_idle=5",
    "-c tcp_keepalives_interval=1",
    "-c tcp_keepalives_count=5",
  ].join(" ");
  say(`starting PostgreSQL on 127.0.0.1:${port}`);
  const start = () =>
    run(binary("pg_ctl"), ["-D", data, "-l", join(dir, "server.log"), "-o", settings, "-w", "-t", "60", "start"], {
      ...as,
    });
  const halt = () => run(binary("pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], { ...as });
  await start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async halt() {
      await halt();
    },
    async resume() {
      await start();
    },
    async stop() {
      try {
        await halt().catch(() => undefined); // halted already: nothing runs
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
