import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { TenantMeshError } from "../../src/errors/index.js";
import type { StrategyName } from "../balancer/index.js";
import type { BackendInit } from "../upstream/backend.js";
import { toStrategyName } from "../upstream/cluster.js";
import type { HealthCheckOptions } from "../upstream/health-check.js";
import type { OutlierOptions } from "../upstream/outlier.js";
import type { UpstreamProtocol } from "../upstream/types.js";
import type { RouteSpec } from "./routes.js";
import { proxyConfigSchema, type ProxyConfigFile } from "./schema.js";

/** One cluster, validated and named for the code that builds it */
export interface ClusterConfig {
  readonly name: string;
  readonly strategy: StrategyName;
  readonly protocol: UpstreamProtocol;
  readonly backends: readonly BackendInit[];
  /** Undefined when `health_check.enabled` is false */
  readonly healthCheck: (Required<Omit<HealthCheckOptions, "slowMs">> & { readonly slowMs: number | undefined; readonly path: string; readonly service: string }) | undefined;
  readonly outlier: Required<OutlierOptions>;
}

/** The proxy's configuration after validation (see docs/proxy-config.md for every field) */
export interface ProxyConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly admin: { readonly host: string; readonly port: number };
  readonly controlPlane: { readonly address: string };
  readonly limits: {
    readonly maxHeaderBytes: number;
    readonly maxBodyBytes: number;
    readonly headersTimeoutMs: number;
    readonly idleTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly maxConcurrentStreams: number;
    /** Serve body-less HTTP/1.1 requests on the fast path (proxy/fast-h1.ts) */
    readonly fastHttp1: boolean;
  };
  readonly clusters: readonly ClusterConfig[];
  readonly routes: readonly RouteSpec[];
}

/**
 * Reads and validates a proxy config file, YAML (`.yaml`, `.yml`) or JSON (`.json`) by its extension. Throws
 * one TM_ERR_INVALID_CONFIG naming every bad field by its path (`clusters[0].backends[1].address: …`), with
 * the same list as `violations` in its details, so an operator fixes the file in one go.
 */
export async function loadProxyConfig(file: string): Promise<ProxyConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw invalid(file, [{ field: "(file)", description: `cannot read: ${(err as Error).message}` }]);
  }
  return parseProxyConfig(text, file);
}

/** Validates config text; `file` picks the syntax by extension and names the source in errors */
export function parseProxyConfig(text: string, file: string): ProxyConfig {
  const ext = path.extname(file).toLowerCase();
  let raw: unknown;
  try {
    if (ext === ".yaml" || ext === ".yml") raw = parseYaml(text);
    else if (ext === ".json") raw = JSON.parse(text);
    else throw new Error(`unknown extension ${ext || "(none)"}; use .yaml, .yml or .json`);
  } catch (err) {
    throw invalid(file, [{ field: "(file)", description: (err as Error).message }]);
  }
  const result = proxyConfigSchema.safeParse(raw ?? {});
  if (!result.success) throw invalid(file, violationsOf(result.error));
  return fromFile(result.data);
}

/** Zod issues as `{ field, description }` with paths written as in the file: `routes[2].match.grpc_service` */
export function violationsOf(error: z.ZodError): Array<{ field: string; description: string }> {
  return error.issues.map((issue) => ({
    field: issue.path.reduce<string>((acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc === "" ? String(part) : `${acc}.${String(part)}`), "") || "(root)",
    description: issue.message,
  }));
}

function invalid(file: string, violations: Array<{ field: string; description: string }>): TenantMeshError {
  const list = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
  return new TenantMeshError("TM_ERR_INVALID_CONFIG", `invalid proxy configuration ${file}: ${list}`, { violations });
}

function fromFile(c: ProxyConfigFile): ProxyConfig {
  return {
    listen: c.listen,
    admin: c.admin,
    controlPlane: { address: c.control_plane.address },
    limits: {
      maxHeaderBytes: c.limits.max_header_bytes,
      maxBodyBytes: c.limits.max_body_bytes,
      headersTimeoutMs: c.limits.headers_timeout_ms,
      idleTimeoutMs: c.limits.idle_timeout_ms,
      requestTimeoutMs: c.limits.request_timeout_ms,
      maxConcurrentStreams: c.limits.max_concurrent_streams,
      fastHttp1: c.limits.fast_http1,
    },
    clusters: c.clusters.map((cl) => ({
      name: cl.name,
      // The schema admits only names the registry maps
      strategy: toStrategyName(cl.strategy)!,
      protocol: cl.protocol,
      backends: cl.backends.map((b) => ({ id: b.id ?? b.address, address: b.address, capacity: b.capacity, weight: b.weight })),
      healthCheck: cl.health_check.enabled
        ? {
            path: cl.health_check.path,
            service: cl.health_check.service,
            intervalMs: cl.health_check.interval_ms,
            timeoutMs: cl.health_check.timeout_ms,
            healthyThreshold: cl.health_check.healthy_threshold,
            unhealthyThreshold: cl.health_check.unhealthy_threshold,
            slowMs: cl.health_check.slow_ms,
          }
        : undefined,
      outlier: {
        consecutiveFailures: cl.outlier_detection.consecutive_failures,
        baseEjectionMs: cl.outlier_detection.base_ejection_ms,
        maxEjectionMs: cl.outlier_detection.max_ejection_ms,
        maxEjectedPercent: cl.outlier_detection.max_ejected_percent,
      },
    })),
    routes: c.routes.map((r) => ({
      name: r.name,
      cluster: r.cluster,
      module: r.module,
      match: { httpPathPrefix: r.match.http_path_prefix, httpMethod: r.match.http_method, grpcService: r.match.grpc_service, grpcMethod: r.match.grpc_method },
    })),
  };
}
