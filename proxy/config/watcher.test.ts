import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Backend } from "../upstream/backend.js";
import type { Probe } from "../upstream/probes.js";
import { ConfigWatcher } from "./watcher.js";

/** A probe that counts checks and releases per backend id and always passes */
function countingProbe(log: string[]): Probe {
  return {
    check: async (b: Backend) => {
      log.push(`check:${b.id}`);
      return { ok: true, latencyMs: 1 };
    },
    release: (b: Backend) => log.push(`release:${b.id}`),
  };
}

function config(backends: Array<{ id: string; port: number; capacity?: number }>, extraRoute = false): string {
  return JSON.stringify({
    clusters: [
      {
        name: "kyb-http",
        strategy: "least_connections",
        protocol: "http",
        backends: backends.map((b) => ({ id: b.id, address: `127.0.0.1:${b.port}`, capacity: b.capacity ?? 8 })),
        health_check: { interval_ms: 20, timeout_ms: 10 },
      },
    ],
    routes: [
      { name: "businesses", match: { http_path_prefix: "/v1/businesses" }, cluster: "kyb-http" },
      ...(extraRoute ? [{ name: "other", match: { http_path_prefix: "/v2" }, cluster: "kyb-http" }] : []),
    ],
  });
}

let dir: string;
let file: string;
let watcher: ConfigWatcher | undefined;
const probeLog: string[] = [];
const logLines: Array<{ level: number; msg: string; reason?: string }> = [];
const logger = pino({ level: "info" }, { write: (l: string) => logLines.push(JSON.parse(l) as { level: number; msg: string }) });

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "tm-proxy-config-"));
  file = path.join(dir, "proxy.json");
  probeLog.length = 0;
  logLines.length = 0;
});

afterEach(() => {
  watcher?.close();
  watcher = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const start = (options: { watchFile?: boolean; debounceMs?: number } = {}) =>
  ConfigWatcher.start(file, { logger, probeFor: () => countingProbe(probeLog), sighup: false, watchFile: false, ...options });

describe("ConfigWatcher", () => {
  it("refuses an invalid file at start-up", async () => {
    writeFileSync(file, JSON.stringify({ clusters: [] }));
    await expect(start()).rejects.toThrow(/clusters: needs at least one cluster/);
  });

  it("keeps the running config when the new file is invalid, and says why", async () => {
    writeFileSync(file, config([{ id: "a", port: 7001 }]));
    watcher = await start();
    const before = watcher.current();
    writeFileSync(file, config([{ id: "a", port: 0 }]));
    const result = await watcher.reload();
    expect(result).toMatchObject({ ok: false });
    expect(!result.ok && result.reason).toMatch(/clusters\[0\]\.backends\[0\]\.address/);
    expect(watcher.current()).toBe(before);
    expect(watcher.routes().matchHttp("GET", "/v1/businesses")?.cluster.backends()[0]?.address).toBe("127.0.0.1:7001");
    expect(logLines.some((l) => l.level === 50 && /refused the new proxy configuration/.test(l.msg))).toBe(true);
  });

  it("swaps routes and clusters on a valid file, keeping unchanged backends with their in-flight state", async () => {
    writeFileSync(file, config([{ id: "a", port: 7001 }, { id: "b", port: 7002 }]));
    watcher = await start();
    const [a, b] = watcher.current().clusters.get("kyb-http")!.backends();
    const release = a!.acquire("acme");
    a!.health = "degraded";
    writeFileSync(file, config([{ id: "a", port: 7001 }, { id: "c", port: 7003 }], true));
    expect(await watcher.reload()).toEqual({ ok: true, changed: true });
    const cluster = watcher.current().clusters.get("kyb-http")!;
    expect(cluster.backends()[0]).toBe(a);
    expect(cluster.backends()[0]!.inFlight).toBe(1);
    expect(cluster.backends().map((x) => x.id)).toEqual(["a", "c"]);
    expect(watcher.routes().matchHttp("GET", "/v2/x")?.name).toBe("other");
    expect(probeLog).toContain(`release:${b!.id}`);
    await expect.poll(() => probeLog.includes("check:c"), { interval: 5 }).toBe(true);
    // The removed backend is no longer checked
    const checksOfB = probeLog.filter((l) => l === "check:b").length;
    await new Promise((r) => setTimeout(r, 60));
    expect(probeLog.filter((l) => l === "check:b").length).toBe(checksOfB);
    expect(release()).toBe(true);
    expect(await watcher.reload()).toEqual({ ok: true, changed: false });
  });

  it("reloads by itself when the file is replaced, and on SIGHUP", async () => {
    writeFileSync(file, config([{ id: "a", port: 7001 }]));
    watcher = await start({ watchFile: true, debounceMs: 20 });
    // Replace by rename, as editors and config maps do
    writeFileSync(`${file}.tmp`, config([{ id: "a", port: 7001 }], true));
    renameSync(`${file}.tmp`, file);
    await expect.poll(() => watcher!.routes().matchHttp("GET", "/v2")?.name, { interval: 10, timeout: 3_000 }).toBe("other");

    watcher.close();
    writeFileSync(file, config([{ id: "z", port: 7009 }]));
    watcher = await ConfigWatcher.start(file, { logger, probeFor: () => countingProbe(probeLog), watchFile: false });
    writeFileSync(file, config([{ id: "y", port: 7008 }]));
    process.kill(process.pid, "SIGHUP");
    await expect.poll(() => watcher!.current().clusters.get("kyb-http")!.backends()[0]?.id, { interval: 10 }).toBe("y");
  });
});
