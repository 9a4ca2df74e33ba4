import { isIP } from "node:net";
import { z } from "zod";
import { configStrategyNames } from "../upstream/cluster.js";

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int(`must be a whole number`).min(min).max(max);
const positive = int(1);
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "must be 1–63 letters, digits, '.', '_' or '-'");

/** `host:port` or `[v6]:port` split, or undefined when malformed; port 0 (any free port) only if `allowZero` */
export function parseHostPort(value: string, allowZero = false): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || port > 65_535 || (!allowZero && port === 0) || (m[1] !== undefined && isIP(m[1]) !== 6)) return undefined;
  return { host, port };
}

const hostPortMessage = "must be host:port (IPv6 as [addr]:port)";
/** An upstream address, kept as written (balancers and forwarders take the string) */
const address = z.string().refine((v) => parseHostPort(v) !== undefined, hostPortMessage);
/** A listener: split into host and port */
const listener = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const parsed = parseHostPort(value, true);
      if (parsed === undefined) ctx.addIssue({ code: "custom", message: hostPortMessage });
      return parsed ?? { host: "", port: 0 };
    });

const backend = z
  .object({
    id: name.optional(),
    address,
    capacity: positive,
    weight: z.number().positive().finite().default(1),
  })
  .strict();

const healthCheck = z
  .object({
    enabled: z.boolean().default(true),
    path: z.string().regex(/^\/[^\s]*$/, "must be an absolute path").default("/health"),
    service: z.string().default(""),
    interval_ms: positive.default(1_000),
    timeout_ms: positive.default(500),
    healthy_threshold: positive.default(2),
    unhealthy_threshold: positive.default(2),
    slow_ms: positive.optional(),
  })
  .strict()
  .refine((h) => h.timeout_ms <= h.interval_ms, { message: "must not exceed interval_ms", path: ["timeout_ms"] });

const outlierDetection = z
  .object({
    consecutive_failures: positive.default(5),
    base_ejection_ms: positive.default(1_000),
    max_ejection_ms: positive.default(30_000),
    max_ejected_percent: int(0, 100).default(50),
  })
  .strict()
  .refine((o) => o.base_ejection_ms <= o.max_ejection_ms, { message: "must not be below base_ejection_ms", path: ["max_ejection_ms"] });

const cluster = z
  .object({
    name,
    strategy: z.enum(configStrategyNames),
    protocol: z.enum(["http", "grpc"]),
    backends: z.array(backend).min(1, "needs at least one backend"),
    health_check: healthCheck.prefault({}),
    outlier_detection: outlierDetection.prefault({}),
  })
  .strict();

const route = z
  .object({
    name,
    match: z
      .object({
        http_path_prefix: z.string().regex(/^\/[^\s?#]*$/, "must start with / and hold no spaces, ? or #").optional(),
        http_method: z.string().regex(/^[A-Za-z]{1,16}$/, "must be an HTTP method").optional(),
        grpc_service: z.string().regex(/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/, "must be a fully-qualified service, e.g. pkg.v1.Service").optional(),
        grpc_method: z.string().regex(/^[A-Za-z_]\w*$/, "must be a method name").optional(),
      })
      .strict(),
    cluster: name,
    module: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, "must be a lower-case module name").optional(),
  })
  .strict();

/** The proxy config file, as written (snake_case). Defaults are the documented ones in docs/proxy-config.md. */
export const proxyConfigSchema = z
  .object({
    listen: listener("0.0.0.0:8080"),
    admin: listener("127.0.0.1:9901"),
    control_plane: z.object({ address: address.default("localhost:50051") }).strict().prefault({}),
    limits: z
      .object({
        max_header_bytes: positive.default(16_384),
        max_body_bytes: positive.default(10 * 1024 * 1024),
        headers_timeout_ms: positive.default(10_000),
        idle_timeout_ms: positive.default(60_000),
        request_timeout_ms: positive.default(30_000),
        max_concurrent_streams: positive.default(100),
        fast_http1: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    clusters: z.array(cluster).min(1, "needs at least one cluster"),
    routes: z.array(route).default([]),
  })
  .strict()
  .superRefine(crossCheck);

type Parsed = z.output<z.ZodObject<{ clusters: z.ZodArray<typeof cluster>; routes: z.ZodArray<typeof route> }>>;

/** Rules that span fields: unique names, routes naming a cluster of their protocol, one match kind per route */
function crossCheck(c: Parsed, ctx: z.RefinementCtx): void {
  const protocols = new Map<string, string>();
  c.clusters.forEach((cl, i) => {
    if (protocols.has(cl.name)) ctx.addIssue({ code: "custom", message: `duplicate cluster name ${cl.name}`, path: ["clusters", i, "name"] });
    protocols.set(cl.name, cl.protocol);
    const ids = new Set<string>();
    cl.backends.forEach((b, j) => {
      const id = b.id ?? b.address;
      if (ids.has(id)) ctx.addIssue({ code: "custom", message: `duplicate backend ${id}`, path: ["clusters", i, "backends", j, b.id ? "id" : "address"] });
      ids.add(id);
    });
  });
  const names = new Set<string>();
  c.routes.forEach((r, i) => {
    const at = (...rest: (string | number)[]) => ["routes", i, ...rest];
    if (names.has(r.name)) ctx.addIssue({ code: "custom", message: `duplicate route name ${r.name}`, path: at("name") });
    names.add(r.name);
    const m = r.match;
    const isHttp = m.http_path_prefix !== undefined;
    if (isHttp === (m.grpc_service !== undefined)) {
      ctx.addIssue({ code: "custom", message: "needs exactly one of http_path_prefix and grpc_service", path: at("match") });
      return;
    }
    if (isHttp && m.grpc_method !== undefined) ctx.addIssue({ code: "custom", message: "grpc_method needs grpc_service", path: at("match", "grpc_method") });
    if (!isHttp && m.http_method !== undefined) ctx.addIssue({ code: "custom", message: "http_method needs http_path_prefix", path: at("match", "http_method") });
    const protocol = protocols.get(r.cluster);
    if (protocol === undefined) ctx.addIssue({ code: "custom", message: `unknown cluster ${r.cluster}`, path: at("cluster") });
    else if (protocol !== (isHttp ? "http" : "grpc")) {
      ctx.addIssue({ code: "custom", message: `cluster ${r.cluster} speaks ${protocol}, but this is ${isHttp ? "an HTTP" : "a gRPC"} route`, path: at("cluster") });
    }
  });
}

export type ProxyConfigFile = z.output<typeof proxyConfigSchema>;
