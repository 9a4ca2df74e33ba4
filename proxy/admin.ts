import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { systemClock, type Clock } from "../src/auth/clock.js";
import { silentLogger, type Logger } from "../src/log/index.js";
import { directoryStaleness, registerDirectoryMetrics } from "./directory/metrics.js";
import type { TenantDirectory, TenantEntry } from "./directory/types.js";
import type { ProxyMetrics } from "./metrics.js";
import { registerBackendMetrics } from "./upstream/metrics.js";
import type { Cluster, RouteTable } from "./upstream/types.js";

export interface AdminServerOptions {
  /** Default 127.0.0.1: the admin port shows tenants and backends and must not face the internet by accident */
  readonly host?: string;
  /** 0 picks a free port (tests) */
  readonly port: number;
  readonly directory: TenantDirectory;
  /** The current route table, asked on every request so a config reload shows at once */
  readonly routes: () => RouteTable;
  readonly metrics: ProxyMetrics;
  /** The platform operator's token; `/admin/*` needs `Authorization: Bearer <it>` */
  readonly operatorToken: string;
  /** Further readiness, e.g. the data listener being bound: true, or false / a reason when not ready */
  readonly isReady?: () => boolean | string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** More operator JSON endpoints by path (e.g. `/admin/traces` from proxy/telemetry), behind the same token */
  readonly operatorRoutes?: Readonly<Record<string, (url: URL) => unknown>>;
}

export interface AdminServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Why the proxy is not ready, or an empty list when it is */
export function readinessProblems(directory: TenantDirectory, clusters: readonly Cluster[], now: number, extra?: () => boolean | string): string[] {
  const problems: string[] = [];
  if (directory.state().source === "empty") problems.push("the tenant directory has not loaded (no feed snapshot and no last-known-good copy)");
  // Degraded counts: a slow backend still serves, and an unready proxy would serve nobody at all
  const usable = clusters.some((c) => c.backends().some((b) => b.isAvailable(now)));
  if (!usable) problems.push("no cluster has a healthy (or degraded), non-ejected backend");
  const more = extra?.() ?? true;
  if (more !== true) problems.push(typeof more === "string" ? more : "the proxy is not ready to serve");
  return problems;
}

/**
 * The proxy's admin listener (9901 by default, loopback unless configured):
 * - `GET /health` — 200 while the process runs (liveness);
 * - `GET /ready` — 200 when the directory is loaded (synced, or last-known-good) and some backend can take
 *   traffic; else 503 with the reasons as JSON (readiness);
 * - `GET /metrics` — Prometheus text: request metrics, directory source/staleness, backend state;
 * - `GET /admin/backends`, `GET /admin/tenants[?id=…]` — JSON for operators, behind the operator token. Key
 *   listings show ids, roles and expiry, never digests.
 * - `operatorRoutes` (e.g. `GET /admin/traces?tenant=…`) — more operator JSON, behind the same token.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const clock = options.clock ?? systemClock;
  const log = (options.logger ?? silentLogger).child({ component: "admin" });
  const clusters = (): readonly Cluster[] => options.routes().clusters();
  registerDirectoryMetrics(options.metrics.registry, options.directory, () => clock.now());
  registerBackendMetrics(options.metrics.registry, clusters, () => clock.now());
  const expected = digest(options.operatorToken);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://admin");
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "method not allowed" }, { allow: "GET, HEAD" });
    switch (url.pathname) {
      case "/health":
        return send(res, 200, { status: "ok" });
      case "/ready": {
        const problems = readinessProblems(options.directory, clusters(), clock.now(), options.isReady);
        const directory = { ...options.directory.state(), stalenessSeconds: directoryStaleness(options.directory, clock.now()) };
        return problems.length === 0 ? send(res, 200, { status: "ready", directory }) : send(res, 503, { status: "not_ready", reasons: problems, directory });
      }
      case "/metrics":
        res.writeHead(200, { "content-type": options.metrics.contentType, "cache-control": "no-store" });
        res.end(await options.metrics.text());
        return;
      case "/admin/backends":
      case "/admin/tenants":
        if (!authorized(req.headers.authorization, expected)) {
          return send(res, 401, { error: "operator token required" }, { "www-authenticate": 'Bearer realm="tenantmesh-proxy-admin"' });
        }
        return url.pathname === "/admin/backends" ? send(res, 200, backendsView(clusters(), clock.now())) : send(res, 200, tenantsView(options.directory, url.searchParams.get("id"), clock.now()));
      default: {
        const routes = options.operatorRoutes;
        // Own properties only: a path like /constructor must not reach Object.prototype
        const extra = routes !== undefined && Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
        if (extra === undefined) return send(res, 404, { error: "not found" });
        if (!authorized(req.headers.authorization, expected)) {
          return send(res, 401, { error: "operator token required" }, { "www-authenticate": 'Bearer realm="tenantmesh-proxy-admin"' });
        }
        return send(res, 200, extra(url));
      }
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, "admin request failed");
      if (!res.headersSent) send(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host, port }, "admin listening");
  return {
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(res.req.method === "HEAD" ? undefined : text);
}

/** Compares digests, so the comparison takes the same time whatever the presented token's length */
function authorized(header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m !== null && timingSafeEqual(digest(m[1]!), expected);
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

function backendsView(clusters: readonly Cluster[], now: number): unknown {
  return {
    clusters: clusters.map((c) => ({
      name: c.name,
      strategy: c.strategy,
      protocol: c.protocol,
      backends: c.backends().map((b) => {
        const withCount = c as Cluster & { ejections?: (x: typeof b) => number };
        return { ...b.toJSON(), ejected: b.ejectedUntil > now, available: b.isAvailable(now), ejections: withCount.ejections?.(b) ?? 0 };
      }),
    })),
  };
}

function tenantsView(directory: TenantDirectory, id: string | null, now: number): unknown {
  const all = id === null ? [...directory.tenants()] : [directory.tenant(id)].filter((t): t is TenantEntry => t !== undefined);
  return {
    directory: { ...directory.state(), stalenessSeconds: directoryStaleness(directory, now) },
    tenants: all.map((t) => ({
      id: t.id,
      slug: t.slug,
      name: t.name,
      status: t.status,
      planType: t.planType,
      performanceTier: t.performanceTier,
      priority: t.priority,
      apiRateLimit: t.apiRateLimit,
      burst: t.burst,
      maxConcurrentRequests: t.maxConcurrentRequests,
      maxResponseTimeMs: t.maxResponseTimeMs,
      maxThroughputRps: t.maxThroughputRps,
      scale: t.scale,
      enabledModules: [...t.enabledModules].sort(),
      networkRestrictions: t.networkRestrictions,
      sessionsValidAfter: t.sessionsValidAfter,
      // Never the secret hash: ids, roles and expiry are all an operator needs to reason about keys
      apiKeys: directory.apiKeysOf?.(t.id).map((k) => ({ keyId: k.keyId, role: k.role, expiresAt: k.expiresAt })),
    })),
  };
}
