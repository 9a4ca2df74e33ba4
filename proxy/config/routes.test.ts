import { describe, expect, it } from "vitest";
import { UpstreamCluster } from "../upstream/cluster.js";
import { createRouteTable, normalizePath, type RouteSpec } from "./routes.js";

const http = new UpstreamCluster({ name: "kyb-http", strategy: "round_robin", protocol: "http", backends: [{ id: "a", address: "127.0.0.1:1", capacity: 1 }] });
const other = new UpstreamCluster({ name: "other-http", strategy: "round-robin", protocol: "http", backends: [{ id: "b", address: "127.0.0.1:2", capacity: 1 }] });
const grpc = new UpstreamCluster({ name: "kyb-grpc", strategy: "least_connections", protocol: "grpc", backends: [{ id: "c", address: "127.0.0.1:3", capacity: 1 }] });

const routes: RouteSpec[] = [
  { name: "businesses", match: { httpPathPrefix: "/v1/businesses" }, cluster: "kyb-http" },
  { name: "classify", match: { httpPathPrefix: "/v1/businesses/*/classify", httpMethod: "post" }, cluster: "kyb-http", module: "classification" },
  { name: "risk", match: { httpPathPrefix: "/v1/businesses/*/risk-assessment" }, cluster: "kyb-http", module: "risk_assessment" },
  { name: "literal", match: { httpPathPrefix: "/v1/businesses/special/classify" }, cluster: "other-http" },
  { name: "root", match: { httpPathPrefix: "/" }, cluster: "other-http" },
  { name: "grpc-classify", match: { grpcService: "tenantmesh.kyb.v1.BusinessService", grpcMethod: "ClassifyBusiness" }, cluster: "kyb-grpc", module: "classification" },
  { name: "grpc-business", match: { grpcService: "tenantmesh.kyb.v1.BusinessService" }, cluster: "kyb-grpc" },
  { name: "grpc-risk", match: { grpcService: "tenantmesh.kyb.v1.BusinessService", grpcMethod: "AssessRisk" }, cluster: "kyb-grpc", module: "risk_assessment" },
];
const table = createRouteTable(routes, [http, other, grpc]);
const name = (method: string, path: string): string | undefined => table.matchHttp(method, path)?.name;

describe("createRouteTable", () => {
  it("picks the longest matching path prefix, on whole segments", () => {
    expect(name("GET", "/v1/businesses")).toBe("businesses");
    expect(name("GET", "/v1/businesses/42?x=1")).toBe("businesses");
    expect(name("GET", "/v1/businessesX")).toBe("root");
    expect(name("GET", "/elsewhere")).toBe("root");
  });

  it("sends module routes to their module, wildcard segments included, and a literal beats a wildcard", () => {
    expect(table.matchHttp("POST", "/v1/businesses/42/classify")).toMatchObject({ name: "classify", module: "classification" });
    expect(table.matchHttp("POST", "/v1/businesses/42/risk-assessment")).toMatchObject({ name: "risk", module: "risk_assessment" });
    expect(name("POST", "/v1/businesses/special/classify")).toBe("literal");
  });

  it("honours an optional method: another method falls back to the shorter prefix", () => {
    expect(name("GET", "/v1/businesses/42/classify")).toBe("businesses");
  });

  it("matches on the normalised path, so dot segments and escapes cannot dodge a module route", () => {
    expect(name("POST", "/v1/businesses/42/./classify")).toBe("classify");
    expect(name("POST", "/v1//businesses/42/x/../classify")).toBe("classify");
    expect(name("POST", "/v1/businesses/42/%63lassify")).toBe("classify");
    expect(normalizePath("/v1//businesses/a%20b/./x/../classify?q=1")).toBe("/v1/businesses/a%20b/classify");
    expect(normalizePath("/v1/businesses/")).toBe("/v1/businesses/");
    expect(normalizePath("/../..")).toBe("/");
  });

  it("routes gRPC by service, a named method winning over the service-wide route", () => {
    expect(table.matchGrpc("tenantmesh.kyb.v1.BusinessService", "ClassifyBusiness")).toMatchObject({ name: "grpc-classify", module: "classification" });
    expect(table.matchGrpc("tenantmesh.kyb.v1.BusinessService", "AssessRisk")?.name).toBe("grpc-risk");
    expect(table.matchGrpc("tenantmesh.kyb.v1.BusinessService", "GetBusiness")).toMatchObject({ name: "grpc-business", module: undefined });
    expect(table.matchGrpc("tenantmesh.kyb.v1.Unknown", "X")).toBeUndefined();
    expect(table.matchGrpc("tenantmesh.kyb.v1.BusinessService", "GetBusiness")?.cluster).toBe(grpc);
  });

  it("lists its clusters and refuses a route to an unknown cluster", () => {
    expect(table.clusters().map((c) => c.name)).toEqual(["kyb-http", "other-http", "kyb-grpc"]);
    expect(() => createRouteTable([{ name: "x", match: { httpPathPrefix: "/" }, cluster: "nope" }], [http])).toThrow(/unknown cluster nope/);
  });
});
