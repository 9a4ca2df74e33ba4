import type { Cluster, ResolvedRoute, RouteTable } from "../upstream/types.js";

/** One route as the route table takes it (the config file's `routes[]`, camelCased) */
export interface RouteSpec {
  readonly name: string;
  readonly match: {
    /**
     * HTTP: a path prefix matched on whole segments (`/v1/businesses` matches `/v1/businesses` and
     * `/v1/businesses/42`, not `/v1/businessesX`). A segment that is exactly `*` matches any one segment, so
     * `/v1/businesses/*\/classify` matches `/v1/businesses/42/classify`.
     */
    readonly httpPathPrefix?: string | undefined;
    /** HTTP method (any case); absent matches every method */
    readonly httpMethod?: string | undefined;
    /** gRPC: fully-qualified service, e.g. `tenantmesh.kyb.v1.BusinessService` */
    readonly grpcService?: string | undefined;
    /** gRPC: method within the service; absent matches every method */
    readonly grpcMethod?: string | undefined;
  };
  /** Name of the cluster the route sends to */
  readonly cluster: string;
  /** The module the tenant must have enabled (e.g. `classification`) */
  readonly module?: string | undefined;
}

interface HttpRoute {
  readonly resolved: ResolvedRoute;
  /** Prefix segments; `null` is a `*` wildcard */
  readonly segments: readonly (string | null)[];
  readonly wildcards: number;
  readonly method: string | undefined;
}

/**
 * Builds the RouteTable for one configuration. Precedence, most specific first, decided once here:
 * HTTP — more prefix segments; then fewer wildcards; then a route naming the method; then file order.
 * gRPC — a route naming the method before one naming only the service; then file order.
 * So `/v1/businesses/*\/classify` (module classification) wins over `/v1/businesses` for a classify call.
 * Throws on a route naming an unknown cluster (config validation reports it with its path first).
 */
export function createRouteTable(routes: readonly RouteSpec[], clusters: Iterable<Cluster>): RouteTable {
  const byName = new Map<string, Cluster>();
  for (const c of clusters) byName.set(c.name, c);
  const http: HttpRoute[] = [];
  const grpc = new Map<string, { method: string | undefined; resolved: ResolvedRoute }[]>();
  for (const spec of routes) {
    const cluster = byName.get(spec.cluster);
    if (cluster === undefined) throw new RangeError(`route ${spec.name}: unknown cluster ${spec.cluster}`);
    const resolved: ResolvedRoute = Object.freeze({ name: spec.name, cluster, module: spec.module });
    const m = spec.match;
    if (m.httpPathPrefix !== undefined) {
      const segments = splitPath(m.httpPathPrefix).map((s) => (s === "*" ? null : s));
      http.push({ resolved, segments, wildcards: segments.filter((s) => s === null).length, method: m.httpMethod?.toUpperCase() });
    } else if (m.grpcService !== undefined) {
      const list = grpc.get(m.grpcService) ?? [];
      list.push({ method: m.grpcMethod, resolved });
      grpc.set(m.grpcService, list);
    } else {
      throw new RangeError(`route ${spec.name}: needs http_path_prefix or grpc_service`);
    }
  }
  // Array.prototype.sort is stable, so equal routes keep file order
  http.sort((a, b) => b.segments.length - a.segments.length || a.wildcards - b.wildcards || Number(b.method !== undefined) - Number(a.method !== undefined));
  for (const list of grpc.values()) list.sort((a, b) => Number(b.method !== undefined) - Number(a.method !== undefined));
  const clusterList = Object.freeze([...byName.values()]);

  return {
    matchHttp(method: string, path: string): ResolvedRoute | undefined {
      const segments = splitPath(path);
      const upper = method.toUpperCase();
      for (const route of http) {
        if (route.method !== undefined && route.method !== upper) continue;
        if (matchesPrefix(route.segments, segments)) return route.resolved;
      }
      return undefined;
    },
    matchGrpc(service: string, method: string): ResolvedRoute | undefined {
      const list = grpc.get(service);
      if (list === undefined) return undefined;
      for (const r of list) if (r.method === undefined || r.method === method) return r.resolved;
      return undefined;
    },
    clusters: () => clusterList,
  };
}

function matchesPrefix(prefix: readonly (string | null)[], path: readonly string[]): boolean {
  if (prefix.length > path.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    const want = prefix[i];
    if (want !== null && want !== path[i]) return false;
  }
  return true;
}

/**
 * A request path as routing sees it: the query dropped, percent-escapes decoded per segment, empty and `.`
 * segments dropped, `..` applied. Matching on this form closes the gap where `/v1/businesses/1/./classify` or
 * `/v1/businesses/1/%63lassify` would slip past a module route to a backend that normalises it back; the
 * forwarder should send the same normalised path upstream (see `normalizePath`).
 */
export function splitPath(path: string): string[] {
  const q = path.search(/[?#]/);
  const raw = q === -1 ? path : path.slice(0, q);
  const out: string[] = [];
  for (const part of raw.split("/")) {
    const seg = decodeSegment(part);
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return out;
}

/**
 * The normalised path (`/` + segments, re-escaped where needed) of `path`, without its query. A trailing
 * slash is kept: some backends route `/x/` and `/x` differently, and normalising must not change which.
 */
export function normalizePath(path: string): string {
  const segments = splitPath(path);
  const q = path.search(/[?#]/);
  const trailing = segments.length > 0 && (q === -1 ? path : path.slice(0, q)).endsWith("/");
  const encoded = segments.map((s) => encodeURIComponent(s).replace(/%(40|3A|2C|3B|3D|2B|24|21|27|28|29|2A)/g, (m) => decodeURIComponent(m)));
  return `/${encoded.join("/")}${trailing ? "/" : ""}`;
}

function decodeSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape cannot match a configured literal anyway; keep it as sent
    return segment;
  }
}
