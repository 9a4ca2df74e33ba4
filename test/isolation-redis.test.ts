import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../src/auth/clock.js";
import { createIsolation, type Isolation, type RedisThrottle } from "../proxy/limits/index.js";
import { ProxyMetrics } from "../proxy/metrics.js";
import { findBinary, missingBinaryReason } from "./support/binaries.js";
import { startProxyHarness, type ProxyHarness } from "./support/proxy-harness.js";

/**
 * Rate limits shared by two proxy replicas through Redis, and what happens when Redis goes away and comes back.
 * The shared-limit test uses REDIS_URL when set (else a private redis-server); the outage test always starts
 * a private redis-server on a free port — it stops that server, never a shared one.
 */

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

/** A redis-server of this test's own: no persistence, stoppable and restartable on the same port */
class PrivateRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.startAgain();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async startAgain(): Promise<void> {
    const child = spawn(findBinary("redis-server")!, ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "ignore"] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("Ready to accept connections")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    });
  }

  /** SIGSTOP / SIGCONT: a server that keeps its connections open but answers nothing */
  freeze(frozen: boolean): void {
    this.child?.kill(frozen ? "SIGSTOP" : "SIGCONT");
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    });
  }
}

/** A logger whose lines the test can read */
function capturingLogger(): { logger: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: "info" }, sink), lines };
}

interface Replica {
  h: ProxyHarness;
  isolation: Isolation;
  lines: Array<{ level: number; msg: string }>;
}

const replicas: Replica[] = [];
const servers: PrivateRedis[] = [];

/** One proxy replica sharing limits through `redisUrl`; tenant acme: 60 per minute, burst 10 */
async function replica(redisUrl: string, keyPrefix: string): Promise<Replica> {
  const metrics = new ProxyMetrics({ recomputeIntervalMs: 0 });
  const { logger, lines } = capturingLogger();
  const isolation = createIsolation({ clock: systemClock, logger, metrics, redisUrl, redisKeyPrefix: keyPrefix, queueMaxLength: 1_000, queueMaxWaitMs: 1_000 });
  const h = await startProxyHarness({
    acme: {
      apiRateLimit: 60,
      burst: 10,
      performanceQuota: { maxResponseTimeMs: 5_000, maxThroughputRps: 0, maxConcurrentReqs: 1_000, cpuQuotaMillicores: 0, memoryQuotaMb: 0, databaseConnections: 0, cacheEntries: 0 },
    },
    extra: { metrics, throttle: isolation.throttle, createQueue: isolation.createQueue },
  });
  const r = { h, isolation, lines };
  replicas.push(r);
  return r;
}

/** Sends `n` requests to each replica at once; answers the statuses */
async function flood(rs: Replica[], n: number): Promise<number[]> {
  const all = rs.flatMap((r) => Array.from({ length: n }, () => fetch(`${r.h.url}/v1/x`, { headers: { authorization: `Bearer ${r.h.acme.token}` } }).then(async (res) => (await res.arrayBuffer(), res.status))));
  return Promise.all(all);
}

const ok = (codes: number[]) => codes.filter((c) => c === 200).length;

afterEach(async () => {
  for (const r of replicas.splice(0)) {
    await r.h.close();
    await r.isolation.close();
  }
});
afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

const redisMissing = process.env.REDIS_URL ? undefined : missingBinaryReason("redis-server");

describe.skipIf(redisMissing !== undefined)(`rate limits shared through Redis${redisMissing ? ` (skipped: ${redisMissing})` : ""}`, () => {
  it("two proxy replicas enforce one tenant's limit together: admitted ≤ burst + rate × elapsed", async () => {
    let url = process.env.REDIS_URL;
    if (url === undefined) {
      const server = await PrivateRedis.start();
      servers.push(server);
      url = server.url;
    }
    const prefix = `tm:test:${randomBytes(6).toString("hex")}:`;
    const rs = [await replica(url, prefix), await replica(url, prefix)];
    for (const r of rs) await expect.poll(() => r.isolation.mode(), { timeout: 5_000 }).toBe("redis");
    const started = performance.now();
    const codes = [...(await flood(rs, 30)), ...(await flood(rs, 30))];
    const seconds = (performance.now() - started) / 1000;
    // 120 requests over two replicas; one bucket of burst 10 refilling at 1 per second
    expect(ok(codes)).toBeGreaterThanOrEqual(10);
    expect(ok(codes)).toBeLessThanOrEqual(10 + Math.ceil(seconds));
    expect(codes.filter((c) => c !== 200).every((c) => c === 429)).toBe(true);
  });

});

// REDIS_URL's server is shared and must not be stopped: this test needs a redis-server of its own
const serverMissing = missingBinaryReason("redis-server");

describe.skipIf(serverMissing !== undefined)(`a Redis outage${serverMissing ? ` (skipped: ${serverMissing})` : ""}`, () => {
  it("keeps serving on local limits when Redis stops, logs it once, and shares limits again when it is back", async () => {
    const server = await PrivateRedis.start();
    servers.push(server);
    const rs = [await replica(server.url, "tm:outage:"), await replica(server.url, "tm:outage:")];
    for (const r of rs) await expect.poll(() => r.isolation.mode(), { timeout: 5_000 }).toBe("redis");
    expect(ok(await flood(rs, 15))).toBeLessThanOrEqual(11);

    await server.stop();
    for (const r of rs) await expect.poll(() => r.isolation.mode(), { timeout: 5_000 }).toBe("local");
    // Each replica now spends its own, full local bucket: service goes on, the limit holds per replica
    const during = await flood(rs, 15);
    expect(ok(during)).toBeGreaterThanOrEqual(18);
    expect(ok(during)).toBeLessThanOrEqual(22);
    expect(during.every((c) => c === 200 || c === 429)).toBe(true);
    await flood(rs, 5);

    await server.startAgain();
    for (const r of rs) await expect.poll(() => r.isolation.mode(), { timeout: 5_000 }).toBe("redis");
    // The restarted Redis holds a fresh bucket of 10, shared again by both replicas
    expect(ok(await flood(rs, 15))).toBeLessThanOrEqual(11);
    for (const r of rs) {
      const throttle = r.isolation.throttle as RedisThrottle;
      expect([throttle.failovers, throttle.recoveries]).toEqual([1, 1]);
      expect(r.lines.filter((l) => l.msg.startsWith("redis is unavailable"))).toHaveLength(1);
      expect(r.lines.filter((l) => l.msg.startsWith("redis is back"))).toHaveLength(1);
    }
  });

  it("decides locally when Redis hangs (answers slower than the command timeout) and detects its recovery", async () => {
    const server = await PrivateRedis.start();
    servers.push(server);
    const r = await replica(server.url, "tm:hang:");
    await expect.poll(() => r.isolation.mode(), { timeout: 5_000 }).toBe("redis");
    server.freeze(true);
    const started = performance.now();
    const codes = await flood([r], 5);
    // Each waited at most the 100 ms command timeout, then the local bucket decided
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(codes).toEqual(Array(5).fill(200));
    expect(r.isolation.mode()).toBe("local");
    server.freeze(false);
    await expect.poll(() => r.isolation.mode(), { timeout: 5_000 }).toBe("redis");
    expect(r.lines.filter((l) => l.msg.startsWith("redis is back"))).toHaveLength(1);
  });
});
