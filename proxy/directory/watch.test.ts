import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeTenantService } from "./fake-tenant-service.js";
import { tenantConfig } from "./testing.js";
import { LAST_KNOWN_GOOD_FILE, WatchDirectory, type WatchDirectoryOptions } from "./watch.js";

const TOKEN = "tmsvc_test.token";
let service: FakeTenantService;
let dataDir: string;
const directories: WatchDirectory[] = [];

function open(options: Partial<WatchDirectoryOptions> = {}): WatchDirectory {
  const dir = new WatchDirectory({
    address: service.address,
    serviceToken: TOKEN,
    dataDir,
    backoff: { initialMs: 20, maxMs: 100 },
    persistIntervalMs: 20,
    resumeGraceMs: 100,
    ...options,
  });
  directories.push(dir);
  return dir;
}

beforeEach(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "tm-dir-"));
  service = new FakeTenantService();
  service.requiredToken = TOKEN;
  service.push(tenantConfig("t1", {}, ["k1"]));
  service.push(tenantConfig("t2", {}, ["k2"]));
  await service.start();
});

afterEach(async () => {
  for (const d of directories.splice(0)) await d.close();
  await service.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("WatchDirectory", () => {
  it("applies the snapshot, then each change the moment it arrives, authenticated with the service token", async () => {
    const dir = open().start();
    await dir.whenSynced();
    expect(dir.state()).toMatchObject({ source: "feed", synced: true, version: "2" });
    expect(dir.apiKey("k2")?.tenant.id).toBe("t2");
    expect(service.requests[0]).toEqual({ resumeFromVersion: "0", authorization: `Bearer ${TOKEN}` });

    const heard: string[] = [];
    dir.onChange((ids) => heard.push(...ids));
    const started = Date.now();
    service.push(tenantConfig("t1", { status: "suspended" }, ["k1", "k3"]));
    await expect.poll(() => dir.tenant("t1")?.status, { interval: 5 }).toBe("suspended");
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(dir.apiKey("k3")?.tenant.id).toBe("t1");
    expect(heard).toEqual(["t1"]);
  });

  it("resumes from its last version after a reconnect and misses nothing", async () => {
    const dir = open().start();
    await dir.whenSynced();
    service.push(tenantConfig("t3"));
    await expect.poll(() => dir.state().version, { interval: 5 }).toBe("3");

    service.dropStreams();
    service.pushQuietly(tenantConfig("t4"));
    service.pushQuietly(tenantConfig("t2", { planType: "enterprise" }, ["k2"]));
    await expect.poll(() => dir.state().version, { interval: 10 }).toBe("5");

    expect(service.requests.map((r) => r.resumeFromVersion)).toEqual(["0", "3"]);
    expect(dir.tenant("t4")).toBeDefined();
    expect(dir.tenant("t2")?.planType).toBe("enterprise");
    expect([...dir.tenants()].map((t) => t.id).sort()).toEqual(["t1", "t2", "t3", "t4"]);
    expect(dir.state()).toMatchObject({ source: "feed", synced: true });
  });

  it("replaces everything on a reset snapshot", async () => {
    const dir = open().start();
    await dir.whenSynced();
    service.dropStreams();
    // The log was rebuilt: t2 gone, versions it had compacted away
    service.compactedThrough = 100;
    await expect.poll(() => service.requests.length, { interval: 10 }).toBe(2);
    await service.stop();
    service = Object.assign(new FakeTenantService(), { port: service.port, requiredToken: TOKEN, compactedThrough: 100 });
    service.push(tenantConfig("t1"));
    service.push(tenantConfig("t9"));
    service.push(tenantConfig("t1", { name: "renamed" }));
    await service.start();
    await expect.poll(() => dir.tenant("t9") !== undefined, { interval: 10, timeout: 3_000 }).toBe(true);
    expect(dir.tenant("t2")).toBeUndefined();
    expect(dir.apiKey("k2")).toBeUndefined();
    expect(dir.tenant("t1")?.name).toBe("renamed");
  });

  it("writes the last known good copy atomically with mode 0600 and starts from it when the control plane is down", async () => {
    const first = open().start();
    await first.whenSynced();
    service.push(tenantConfig("t1", { status: "suspended" }, ["k1"]));
    await expect.poll(() => first.state().version, { interval: 5 }).toBe("3");
    await first.close();
    const file = path.join(dataDir, LAST_KNOWN_GOOD_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ format: 1, version: "3" });
    const savedAt = first.state().lastUpdateAt;

    const port = service.port;
    await service.stop();
    const second = open().start();
    expect(second.state()).toMatchObject({ source: "last-known-good", synced: false, version: "3", lastUpdateAt: savedAt });
    expect(second.tenant("t1")?.status).toBe("suspended");
    expect(second.apiKey("k2")?.tenant.id).toBe("t2");

    // The control plane comes back: the directory resumes from the version it had on disk
    service.push(tenantConfig("t1", { status: "active" }, ["k1"]));
    await service.start(port);
    await expect.poll(() => second.tenant("t1")?.status, { interval: 10, timeout: 3_000 }).toBe("active");
    expect(second.state()).toMatchObject({ source: "feed", synced: true, version: "4" });
    expect(service.requests.at(-1)?.resumeFromVersion).toBe("3");
  });

  it("counts a resumed stream with nothing new as synced after the grace period", async () => {
    const first = open().start();
    await first.whenSynced();
    await first.close();
    const second = open().start();
    expect(second.state().source).toBe("last-known-good");
    await second.whenSynced();
    expect(second.state()).toMatchObject({ source: "feed", synced: true, version: "2" });
    expect(service.requests.at(-1)?.resumeFromVersion).toBe("2");
  });

  it("stays last-known-good while a resumed stream is refused", async () => {
    const first = open().start();
    await first.whenSynced();
    await first.close();
    service.requiredToken = "tmsvc_other";
    const second = open().start();
    await expect.poll(() => service.requests.length, { interval: 10 }).toBeGreaterThanOrEqual(4);
    await new Promise((r) => setTimeout(r, 150));
    expect(second.state()).toMatchObject({ source: "last-known-good", synced: false, version: "2" });
  });

  it("ignores an unusable disk copy and keeps retrying while it is refused", async () => {
    writeFileSync(path.join(dataDir, LAST_KNOWN_GOOD_FILE), "{ torn");
    service.requiredToken = "tmsvc_other";
    const dir = open().start();
    expect(dir.state()).toMatchObject({ source: "empty", synced: false });
    await expect.poll(() => service.requests.length, { interval: 10 }).toBeGreaterThanOrEqual(3);
    expect(dir.state().synced).toBe(false);
    service.requiredToken = TOKEN;
    await dir.whenSynced();
    expect(dir.tenant("t1")).toBeDefined();
  });
});
