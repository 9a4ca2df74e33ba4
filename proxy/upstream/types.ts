import type { PickResult, PickTenant, StrategyName } from "../balancer/index.js";
import type { Backend } from "./backend.js";

/** What a finished upstream attempt tells passive outlier detection */
export type UpstreamOutcome = "success" | "http_5xx" | "connect_failure" | "timeout" | "reset";

/** The protocol a cluster's backends speak: HTTP/1.1 (JSON APIs, WebSocket) or gRPC over h2c */
export type UpstreamProtocol = "http" | "grpc";

/**
 * A named group of interchangeable backends with one balancing strategy, kept healthy by active checks and
 * passive outlier detection (proxy/upstream/cluster.ts). The pick stage asks it for a backend; the forward stage
 * reports how each attempt went.
 */
export interface Cluster {
  readonly name: string;
  readonly strategy: StrategyName;
  readonly protocol: UpstreamProtocol;
  pick(tenant: PickTenant, now: number): PickResult;
  backends(): readonly Backend[];
  recordOutcome(backend: Backend, outcome: UpstreamOutcome, now: number): void;
}

/** A matched route: where the request goes and which tenant module it needs */
export interface ResolvedRoute {
  readonly name: string;
  readonly cluster: Cluster;
  /** The module the tenant must have in `enabled_modules` (e.g. classification), or undefined */
  readonly module: string | undefined;
}

/**
 * The routing table built from the proxy's config file (proxy/config/): HTTP by method + path prefix, gRPC by
 * fully-qualified service (and optionally method). Replaced whole on a valid reload.
 */
export interface RouteTable {
  matchHttp(method: string, path: string): ResolvedRoute | undefined;
  /** `service` like `tenantmesh.kyb.v1.BusinessService`, `method` like `ClassifyBusiness` */
  matchGrpc(service: string, method: string): ResolvedRoute | undefined;
  clusters(): readonly Cluster[];
}
