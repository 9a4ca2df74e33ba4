/**
 * The mesh the isolation benchmark measures, every part a process of its own on the server core (taskset -c 1,
 * ../../shared/BENCHMARKING.md): a fresh PostgreSQL database migrated by `tenantmesh migrate`; the control
 * plane; N KYB backends (`tenantmesh kyb --capacity 8 --service-time-ms 10`); the tenantmesh proxy
 * (startProxyProcess in its own process, as `tenantmesh proxy` runs it, fed by WatchTenants); and the
 * naive round-robin http-proxy. Secrets live in one scratch data dir all of them share.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { loadConfig, loadSecrets } from "../../src/config/index.js";
import { provisionTenants, seedBusinesses, type BenchTenant, type TenantSpec } from "./iso-tenants.js";
import { cpuMsOf, pinned, SERVER_CORE } from "./processes.js";

export interface ClusterOptions {
  readonly backends: number;
  readonly capacity: number;
  readonly serviceTimeMs: number;
  readonly tenants: readonly TenantSpec[];
  /** Share the proxy's rate limits through this Redis (default: none, in-memory limits) */
  readonly redisUrl?: string;
  /** ProxyProcessOptions.isolation of the tenantmesh proxy (default: its defaults) */
  readonly isolation?: Record<string, unknown>;
}

export interface IsoCluster {
  /** http://127.0.0.1:<port> of the tenantmesh proxy and of the naive proxy */
  readonly tenantmesh: string;
  readonly naive: string;
  readonly tenants: ReadonlyMap<string, BenchTenant>;
  readonly databaseUrl: string;
  /** Pids of every process started (for CPU accounting) */
  pids(): number[];
  /** CPU ms used so far by the started processes */
  cpuMs(): number;
  close(): Promise<void>;
}

const cli = join(process.cwd(), "bin", "tenantmesh.js");

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

async function admin(base: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Polls `probe` until it answers true, or fails after `timeoutMs` with what `describe` says */
async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000, log?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms${log ? `:\n${log().slice(-2_000)}` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const httpOk = (url: string) => async (): Promise<boolean> => (await fetch(url)).ok;

const tcpOpen = (port: number) => (): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/** Runs the CLI to completion with `env` */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`tenantmesh ${args.join(" ")} exited with ${code}:\n${out}`))));
  });
}

export async function startIsoCluster(options: ClusterOptions): Promise<IsoCluster> {
  const base = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const dbName = `tm_iso_${randomBytes(5).toString("hex")}`;
  const databaseUrl = Object.assign(new URL(base), { pathname: `/${dbName}` }).toString();
  const dataDir = mkdtempSync(join(tmpdir(), "tm-iso-"));
  const children: Array<{ name: string; child: ChildProcess; log: () => string }> = [];
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, TENANTMESH_DATA_DIR: dataDir, LOG_LEVEL: "warn" };
  delete env.REDIS_URL;
  if (options.redisUrl) env.REDIS_URL = options.redisUrl;

  const close = async (): Promise<void> => {
    await Promise.all(
      children.splice(0).map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
          }),
      ),
    );
    await admin(base, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };

  const spawnPinned = (name: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): void => {
    const prof = process.env.BENCH_PROFILE_DIR ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}/${name}`] : [];
    const [cmd, argv] = pinned(SERVER_CORE, process.execPath, [...prof, ...args]);
    const child = spawn(cmd, argv, { env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    const keep = (d: Buffer): void => {
      log = (log + d.toString()).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.once("exit", (code, signal) => {
      if (signal !== "SIGTERM" && code !== 0 && children.some((c) => c.child === child)) process.stderr.write(`${name} exited (${code ?? signal}):\n${log.slice(-2_000)}\n`);
    });
    children.push({ name, child, log: () => log });
  };
  const logOf = (name: string) => () => children.find((c) => c.name === name)?.log() ?? "";

  try {
    await admin(base, `CREATE DATABASE ${dbName}`);
    await runCli(["migrate"], env);
    // Secrets are created once, here, before any process could race to create them
    const secrets = loadSecrets(loadConfig({ ...env }));

    const cpPort = await freePort();
    spawnPinned("control-plane", [cli, "control-plane", "--port", String(cpPort)], { TENANTMESH_GRPC_HOST: "127.0.0.1" });
    const controlPlane = `127.0.0.1:${cpPort}`;
    await waitFor("control plane", tcpOpen(cpPort), 60_000, logOf("control-plane"));
    const tenants = await provisionTenants(controlPlane, secrets.adminToken, options.tenants);

    const kyb: string[] = [];
    for (let i = 0; i < options.backends; i++) {
      const [httpPort, grpcPort] = [await freePort(), await freePort()];
      spawnPinned(`kyb-${i}`, [cli, "kyb", "--port", String(httpPort), "--grpc-port", String(grpcPort), "--capacity", String(options.capacity), "--service-time-ms", String(options.serviceTimeMs)]);
      kyb.push(`127.0.0.1:${httpPort}`);
    }
    for (const [i, address] of kyb.entries()) await waitFor(`kyb-${i}`, httpOk(`http://${address}/health`), 60_000, logOf(`kyb-${i}`));

    const [tmPort, adminPort, naivePort] = [await freePort(), await freePort(), await freePort()];
    const configFile = join(dataDir, "proxy.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        listen: `127.0.0.1:${tmPort}`,
        admin: `127.0.0.1:${adminPort}`,
        control_plane: { address: controlPlane },
        clusters: [
          {
            name: "kyb-http",
            strategy: "round_robin",
            protocol: "http",
            backends: kyb.map((address, i) => ({ id: `kyb-${i}`, address, capacity: options.capacity })),
            health_check: { path: "/health", interval_ms: 1_000, timeout_ms: 500 },
          },
        ],
        routes: [{ name: "businesses", match: { http_path_prefix: "/v1/businesses" }, cluster: "kyb-http" }],
      }),
    );
    spawnPinned("tenantmesh", ["--import", "tsx", "bench/support/iso-proxy.ts", configFile, JSON.stringify(options.isolation ?? {})]);
    await waitFor("tenantmesh proxy", httpOk(`http://127.0.0.1:${adminPort}/ready`), 60_000, logOf("tenantmesh"));
    const tenantmesh = `http://127.0.0.1:${tmPort}`;
    await seedBusinesses(tenantmesh, tenants);

    const table = Object.fromEntries(tenants.map((t) => [t.token, t.id]));
    spawnPinned("naive", ["--import", "tsx", "bench/support/naive-proxy.ts", String(naivePort), kyb.join(","), JSON.stringify(table)], { BENCH_IDENTITY_SECRET: secrets.identitySecret });
    await waitFor("naive proxy", async () => (await fetch(`http://127.0.0.1:${naivePort}/`)).status === 401, 30_000, logOf("naive"));

    const pids = (): number[] => children.map((c) => c.child.pid ?? 0).filter((p) => p > 0);
    return {
      tenantmesh,
      naive: `http://127.0.0.1:${naivePort}`,
      tenants: new Map(tenants.map((t) => [t.name, t])),
      databaseUrl,
      pids,
      cpuMs: () => pids().reduce((sum, pid) => sum + cpuMsOf(pid), 0),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
