import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TenantMeshError } from "../../src/errors/index.js";
import { loadProxyConfig, parseProxyConfig } from "./load.js";
import { createRouteTable } from "./routes.js";
import { RuntimeManager } from "./runtime.js";

const example = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../examples/proxy.yaml");
const minimal = { clusters: [{ name: "c", strategy: "round_robin", protocol: "http", backends: [{ address: "127.0.0.1:7001", capacity: 4 }] }] };

function violations(raw: unknown, file = "proxy.json"): string[] {
  try {
    parseProxyConfig(JSON.stringify(raw), file);
  } catch (err) {
    expect(err).toBeInstanceOf(TenantMeshError);
    return (err as TenantMeshError).violations.map((v) => `${v.field}: ${v.description}`);
  }
  throw new Error("expected the config to be refused");
}

describe("proxy config validation", () => {
  it("fills every documented default", () => {
    const c = parseProxyConfig(JSON.stringify(minimal), "proxy.json");
    expect(c.listen).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(c.admin).toEqual({ host: "127.0.0.1", port: 9901 });
    expect(c.controlPlane.address).toBe("localhost:50051");
    expect(c.limits).toEqual({ maxHeaderBytes: 16_384, maxBodyBytes: 10_485_760, headersTimeoutMs: 10_000, idleTimeoutMs: 60_000, requestTimeoutMs: 30_000, maxConcurrentStreams: 100, fastHttp1: true });
    const [cluster] = c.clusters;
    expect(cluster).toMatchObject({ strategy: "round-robin", backends: [{ id: "127.0.0.1:7001", weight: 1 }] });
    expect(cluster!.healthCheck).toMatchObject({ path: "/health", intervalMs: 1_000, timeoutMs: 500, healthyThreshold: 2, unhealthyThreshold: 2 });
    expect(cluster!.outlier).toEqual({ consecutiveFailures: 5, baseEjectionMs: 1_000, maxEjectionMs: 30_000, maxEjectedPercent: 50 });
  });

  it("names every bad field by its path, all at once", () => {
    const list = violations({
      listen: "nowhere",
      limits: { max_body_bytes: -1, max_header_byte: 1 },
      clusters: [
        {
          name: "c",
          strategy: "random",
          protocol: "http",
          backends: [{ address: "127.0.0.1", capacity: 0 }],
          health_check: { interval_ms: 100, timeout_ms: 500 },
        },
      ],
      routes: [{ name: "r", match: { http_path_prefix: "v1" }, cluster: "c" }],
    });
    const fields = list.map((l) => l.split(":")[0]);
    expect(fields).toEqual(
      expect.arrayContaining([
        "listen",
        "limits.max_body_bytes",
        "limits",
        "clusters[0].strategy",
        "clusters[0].backends[0].address",
        "clusters[0].backends[0].capacity",
        "clusters[0].health_check.timeout_ms",
        "routes[0].match.http_path_prefix",
      ]),
    );
    expect(list.find((l) => l.startsWith("limits:"))).toMatch(/max_header_byte/);
  });

  it("checks routes against clusters: existence, protocol, exactly one match kind, unique names", () => {
    const grpc = { name: "g", strategy: "least_connections", protocol: "grpc", backends: [{ address: "127.0.0.1:8001", capacity: 1 }] };
    const list = violations({
      clusters: [...minimal.clusters, grpc, { ...grpc }],
      routes: [
        { name: "a", match: { http_path_prefix: "/x" }, cluster: "missing" },
        { name: "b", match: { http_path_prefix: "/x", grpc_service: "a.B" }, cluster: "c" },
        { name: "c", match: { grpc_service: "pkg.v1.S" }, cluster: "c" },
        { name: "c", match: { http_path_prefix: "/y", grpc_method: "M" }, cluster: "c" },
      ],
    });
    expect(list).toEqual(
      expect.arrayContaining([
        "clusters[2].name: duplicate cluster name g",
        "routes[0].cluster: unknown cluster missing",
        "routes[1].match: needs exactly one of http_path_prefix and grpc_service",
        "routes[2].cluster: cluster c speaks http, but this is a gRPC route",
        "routes[3].name: duplicate route name c",
        "routes[3].match.grpc_method: grpc_method needs grpc_service",
      ]),
    );
  });

  it("reports syntax errors and unknown extensions as file errors", () => {
    expect(() => parseProxyConfig("clusters: [", "p.yaml")).toThrow(/invalid proxy configuration p\.yaml: \(file\)/);
    expect(() => parseProxyConfig("{}", "p.toml")).toThrow(/unknown extension \.toml/);
  });

  it("loads the example, whose module routes win over the plain prefix", async () => {
    const config = await loadProxyConfig(example);
    const manager = new RuntimeManager({ probeFor: () => ({ check: async () => ({ ok: true }), release() {} }) });
    const { routes } = manager.apply(config);
    manager.close();
    expect(routes.matchHttp("POST", "/v1/businesses/b1/classify")?.module).toBe("classification");
    expect(routes.matchHttp("POST", "/v1/businesses/b1/risk-assessment")?.module).toBe("risk_assessment");
    expect(routes.matchHttp("GET", "/v1/businesses/b1")).toMatchObject({ name: "businesses", module: undefined });
    expect(routes.matchGrpc("tenantmesh.kyb.v1.BusinessService", "AssessRisk")?.module).toBe("risk_assessment");
    expect(routes.matchGrpc("tenantmesh.kyb.v1.EchoService", "Echo")?.cluster.name).toBe("kyb-grpc");
    expect(() => createRouteTable(config.routes, [])).toThrow();
  });
});
