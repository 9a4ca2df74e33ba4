import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { describe, expect, it } from "vitest";
import { Backend, type BackendHealth } from "./backend.js";
import { HealthChecker } from "./health-check.js";
import { grpcProbe, httpProbe, type Probe, type ProbeResult } from "./probes.js";

/** A probe answering from a script, so every transition is decided by the test */
function scripted(results: ProbeResult[]): Probe {
  return { check: async () => results.shift() ?? { ok: true, latencyMs: 1 }, release() {} };
}
const pass: ProbeResult = { ok: true, latencyMs: 5 };
const slow: ProbeResult = { ok: true, latencyMs: 400 };
const fail: ProbeResult = { ok: false, latencyMs: 5 };

async function run(results: ProbeResult[], start: BackendHealth = "healthy"): Promise<BackendHealth[]> {
  const backend = new Backend({ id: "b", address: "127.0.0.1:1", capacity: 1, health: start });
  const checker = new HealthChecker(scripted([...results]), { healthyThreshold: 2, unhealthyThreshold: 3, timeoutMs: 500, slowMs: 250 });
  const seen: BackendHealth[] = [];
  for (let i = 0; i < results.length; i++) seen.push(await checker.checkNow(backend));
  return seen;
}

describe("HealthChecker transitions", () => {
  it("degrades on the first failure and turns unhealthy only at the unhealthy threshold", async () => {
    expect(await run([fail, fail, fail])).toEqual(["degraded", "degraded", "unhealthy"]);
  });

  it("forgives a blip only after the healthy threshold of passing checks", async () => {
    expect(await run([fail, pass, pass])).toEqual(["degraded", "degraded", "healthy"]);
  });

  it("keeps an unhealthy backend out until the healthy threshold passes in a row", async () => {
    expect(await run([pass, fail, pass, pass], "unhealthy")).toEqual(["unhealthy", "unhealthy", "unhealthy", "healthy"]);
  });

  it("marks a slow but passing backend degraded, and healthy again when fast", async () => {
    expect(await run([slow, slow, pass, pass])).toEqual(["degraded", "degraded", "degraded", "healthy"]);
    expect(await run([slow, slow], "unhealthy")).toEqual(["unhealthy", "degraded"]);
  });

  it("fails a check that outlives the timeout", async () => {
    const hang: Probe = { check: (_b, signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve({ ok: true }))), release() {} };
    const backend = new Backend({ id: "b", address: "127.0.0.1:1", capacity: 1 });
    const checker = new HealthChecker(hang, { timeoutMs: 30, unhealthyThreshold: 1 });
    expect(await checker.checkNow(backend)).toBe("unhealthy");
  });

  it("checks on a timer, stops checking backends that leave, and reports transitions", async () => {
    const calls: string[] = [];
    const probe: Probe = {
      check: async (b) => {
        calls.push(b.id);
        return fail;
      },
      release: (b) => calls.push(`release:${b.id}`),
    };
    const a = new Backend({ id: "a", address: "x:1", capacity: 1 });
    const b = new Backend({ id: "b", address: "x:2", capacity: 1 });
    const transitions: string[] = [];
    const checker = new HealthChecker(probe, { intervalMs: 10, unhealthyThreshold: 2 }, { onTransition: (be, from, to) => transitions.push(`${be.id}:${from}->${to}`) });
    checker.sync([a, b]);
    await expect.poll(() => a.health, { interval: 5 }).toBe("unhealthy");
    checker.sync([a]);
    expect(calls).toContain("release:b");
    const before = calls.filter((c) => c === "b").length;
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.filter((c) => c === "b").length).toBe(before);
    checker.close();
    expect(transitions).toContain("a:healthy->degraded");
    expect(transitions).toContain("a:degraded->unhealthy");
  });
});

describe("probes", () => {
  it("HTTP: a 2xx from the path passes, anything else or no answer fails", async () => {
    let code = 200;
    const server: HttpServer = createServer((req, res) => {
      res.statusCode = req.url === "/health" ? code : 404;
      res.end("ok");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const backend = new Backend({ id: "h", address: `127.0.0.1:${(server.address() as AddressInfo).port}`, capacity: 1 });
    const probe = httpProbe("/health");
    expect((await probe.check(backend, new AbortController().signal)).ok).toBe(true);
    code = 503;
    expect(await probe.check(backend, new AbortController().signal)).toMatchObject({ ok: false, detail: "status 503" });
    await new Promise((r) => server.close(r));
    expect((await probe.check(backend, new AbortController().signal)).ok).toBe(false);
  });

  it("gRPC: grpc.health.v1 Check passes only while SERVING", async () => {
    const server = new Server();
    const health = new HealthImplementation({ "": "SERVING", "tenantmesh.kyb.v1.BusinessService": "SERVING" });
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const backend = new Backend({ id: "g", address: `127.0.0.1:${port}`, capacity: 1 });
    const probe = grpcProbe("tenantmesh.kyb.v1.BusinessService");
    expect((await probe.check(backend, new AbortController().signal)).ok).toBe(true);
    health.setStatus("tenantmesh.kyb.v1.BusinessService", "NOT_SERVING");
    expect(await probe.check(backend, new AbortController().signal)).toMatchObject({ ok: false, detail: "serving status 2" });
    expect((await grpcProbe("unknown.Service").check(backend, new AbortController().signal)).ok).toBe(false);
    probe.release(backend);
    server.forceShutdown();
  });
});
