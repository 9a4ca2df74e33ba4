/**
 * The KYB HTTP JSON API on node:http. Request lifecycle:
 *
 *   GET /health ─────────────────────────────────────────────────────────────► 200 {status, capacity, …}
 *   /v1/* → verify forwarded identity ─✗→ 401
 *         → route ─✗→ 404
 *         → read body (≤ 1 MiB ─✗→ 413; JSON ─✗→ 400) → validate ─✗→ 400
 *         → capacity slot (FIFO wait) → service time → operation in withTenant ─✗→ 403/404/429/…
 *         → 200/201 JSON
 *
 * Errors become responses only in `sendError` (http-io.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { trace } from "@opentelemetry/api";
import { notFound } from "../errors/index.js";
import type { ForwardedIdentity } from "../identity/index.js";
import { scopes, TENANT_ID, traceHttpRequest } from "../telemetry/index.js";
import { readBody, readJson, sendError, sendJson } from "./http-io.js";
import { assessedJson, businessJson, classifiedJson, pageJson } from "./present.js";
import type { KybRuntime } from "./runtime.js";
import { parseBusinessId, parseNewBusiness, parsePageSize } from "./validation.js";

interface Request {
  readonly req: IncomingMessage;
  readonly url: URL;
  readonly identity: ForwardedIdentity;
  readonly signal: AbortSignal;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

type Route = (rt: KybRuntime, r: Request, params: readonly string[]) => Promise<Reply>;

const ok = (body: unknown): Reply => ({ status: 200, body });

/** A path segment decoded; a malformed escape stays as it is (and then fails validation, not the server) */
function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

// Validation happens before the capacity slot: malformed requests never occupy a worker.
const routes: ReadonlyArray<{ method: string; path: RegExp; run: Route }> = [
  {
    method: "POST",
    path: /^\/v1\/businesses$/,
    run: async (rt, r) => {
      const input = parseNewBusiness(await readJson(r.req), new Date(rt.clock.now()));
      const business = await rt.work(() => rt.service.createBusiness(r.identity.tenantId, input), r.signal);
      return { status: 201, body: businessJson(business), headers: { location: `/v1/businesses/${business.id}` } };
    },
  },
  {
    method: "GET",
    path: /^\/v1\/businesses$/,
    run: async (rt, r) => {
      const page = { pageSize: parsePageSize(r.url.searchParams.get("page_size") ?? undefined), pageToken: r.url.searchParams.get("page_token") ?? "" };
      return ok(pageJson(await rt.work(() => rt.service.listBusinesses(r.identity.tenantId, page), r.signal)));
    },
  },
  {
    method: "GET",
    path: /^\/v1\/businesses\/([^/]+)$/,
    run: async (rt, r, [id = ""]) => {
      const businessId = parseBusinessId(id);
      return ok(businessJson(await rt.work(() => rt.service.getBusiness(r.identity.tenantId, businessId), r.signal)));
    },
  },
  {
    method: "POST",
    path: /^\/v1\/businesses\/([^/]+)\/classify$/,
    run: async (rt, r, [id = ""]) => {
      const businessId = parseBusinessId(id);
      await readBody(r.req); // no parameters; drained so the connection can be reused
      return ok(classifiedJson(await rt.work(() => rt.service.classifyBusiness(r.identity.tenantId, businessId), r.signal)));
    },
  },
  {
    method: "POST",
    path: /^\/v1\/businesses\/([^/]+)\/risk-assessment$/,
    run: async (rt, r, [id = ""]) => {
      const businessId = parseBusinessId(id);
      await readBody(r.req);
      return ok(assessedJson(await rt.work(() => rt.service.assessRisk(r.identity.tenantId, businessId), r.signal)));
    },
  },
];

function health(rt: KybRuntime): Record<string, unknown> {
  const { capacity, echo } = rt;
  return { status: "ok", capacity: capacity.limit, in_flight: capacity.inFlight, queued: capacity.queued, echo_in_flight: echo.inFlight, echo_cancelled: echo.cancelled };
}

async function handle(rt: KybRuntime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://kyb.invalid");
  if (url.pathname === "/health") {
    if (req.method !== "GET" && req.method !== "HEAD") throw notFound(`route ${req.method} ${url.pathname}`);
    return sendJson(res, 200, health(rt), { "cache-control": "no-store" });
  }
  if (!url.pathname.startsWith("/v1/")) throw notFound(`route ${req.method} ${url.pathname}`);
  // Identity before routing: without the proxy's signature a caller learns nothing, not even which routes exist.
  const identity = rt.identity.fromHttp(req);
  // The signed identity, not the baggage, is authoritative for the span's tenant
  trace.getActiveSpan()?.setAttribute(TENANT_ID, identity.tenantId);
  res.setHeader("x-request-id", identity.requestId);
  for (const route of routes) {
    const match = route.path.exec(url.pathname);
    if (match === null || route.method !== req.method) continue;
    const controller = new AbortController();
    // The response closing before it finished means the client went away: drop the request from the queue.
    res.once("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    const reply = await route.run(rt, { req, url, identity, signal: controller.signal }, match.slice(1).map(decode));
    return sendJson(res, reply.status, reply.body, reply.headers);
  }
  throw notFound(`route ${req.method} ${url.pathname}`);
}

/** A low-cardinality span name for a path: ids become `:id` */
const routeOf = (url: string | undefined): string => (url ?? "/").split("?", 1)[0]!.replace(/^(\/v1\/businesses\/)[^/]+/, "$1:id");

/** An HTTP server (not yet listening) serving the KYB API of `rt`, with a server span per request */
export function createKybHttpServer(rt: KybRuntime): Server {
  const tracer = trace.getTracer(scopes.kyb);
  const server = createServer(
    // Generous keep-alive so a proxy's pooled connections are closed by the proxy, not raced by the backend.
    { keepAliveTimeout: 65_000, headersTimeout: 10_000, requestTimeout: 30_000 },
    (req, res) => {
      const started = performance.now();
      // Health probes (every proxy, every few seconds) are not traffic worth a span
      const probe = req.url === "/health";
      (probe ? handle(rt, req, res) : traceHttpRequest(tracer, req, res, routeOf(req.url), () => handle(rt, req, res)))
        .catch((err: unknown) => sendError(res, err, rt.logger))
        .finally(() => rt.logger.debug({ method: req.method, path: req.url, status: res.statusCode, ms: performance.now() - started }, "http request"));
    },
  );
  return server;
}
