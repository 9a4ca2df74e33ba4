import { execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { findBinary } from "./binaries.js";

const pgBinDirs = ["/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"];

export const privatePostgresMissing = (): string | undefined => {
  if (findBinary("initdb", pgBinDirs) && findBinary("pg_ctl", pgBinDirs)) return undefined;
  const reason = "initdb/pg_ctl (PostgreSQL server binaries) are not installed";
  if (process.env.CI) throw new Error(`${reason}, and CI must run every test`);
  return reason;
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/**
 * A PostgreSQL server of the test's own, on a free port, that the test may stop and start (never the shared
 * one). As root, the server runs as the `postgres` user (initdb refuses root).
 */
export async function startPrivatePostgres(): Promise<{ url: string; stop(): void; start(): void; destroy(): void }> {
  const initdb = findBinary("initdb", pgBinDirs)!;
  const pgCtl = findBinary("pg_ctl", pgBinDirs)!;
  const dir = mkdtempSync(path.join(os.tmpdir(), "tm-pg-"));
  const data = path.join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const run = (cmd: string, args: string[]): void => {
    if (asRoot) {
      const line = [cmd, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
      execFileSync("su", ["postgres", "-s", "/bin/sh", "-c", line], { stdio: "ignore", timeout: 60_000 });
    } else {
      execFileSync(cmd, args, { stdio: "ignore", timeout: 60_000 });
    }
  };
  run(initdb, ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = (): void => run(pgCtl, ["-D", data, "-o", options, "-l", path.join(dir, "log"), "-w", "start"]);
  const stop = (): void => run(pgCtl, ["-D", data, "-m", "immediate", "-w", "stop"]);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    destroy() {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
