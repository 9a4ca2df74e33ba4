/**
 * The portal's web server: static assets and a small JSON API (/api/…) that calls the control plane's gRPC
 * services with the signed-in principal's credential. The API adds no authorization of its own beyond "is
 * there a session": every decision is the control plane's, made by the same RPCs the CLI calls.
 *
 *   request ─► security headers ─► /api? ─► route ─► cross-origin write? 403 ─► session? 401 ─► CSRF? 403
 *           │                                 └─► handler ─► gRPC ─► JSON (errors: catalogue HTTP status;
 *           │                                                       UNAUTHENTICATED ends the portal session)
 *           └─► static asset or 404
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { randomUUID } from "node:crypto";
import { TenantMeshError } from "../../errors/index.js";
import type { Logger } from "../../log/index.js";
import { bearer, RpcError } from "../rpc-client.js";
import { ClientPool } from "../client-pool.js";
import { readJson, sendError, sendJson, setSecurityHeaders, cookiesOf } from "./http.js";
import { Reply, Router, type RouteContext } from "./router.js";
import { authRoutes, SignInLimiter } from "./routes-auth.js";
import { operatorRoutes } from "./routes-operator.js";
import { securityRoutes } from "./routes-security.js";
import { tenantRoutes } from "./routes-tenant.js";
import { clearedCookie, cookieName, csrfMatches, SessionStore, type SessionStoreOptions } from "./sessions.js";
import { loadAssets, serveAsset } from "./static.js";

export interface PortalOptions {
  /** host:port of the control plane's gRPC listener */
  controlPlaneAddress: string;
  host: string;
  /** 0 for an ephemeral port (tests) */
  port: number;
  logger: Logger;
  /** Mark cookies Secure (and `__Host-`): set when the portal is served over HTTPS (behind a TLS proxy) */
  secureCookies?: boolean;
  /** The public origin (https://portal.example.com) when behind a proxy that rewrites Host */
  publicOrigin?: string;
  /** How often the page refreshes the dashboard; default 15 s */
  refreshMs?: number;
  sessions?: SessionStoreOptions;
  /** Failed sign-ins per client address per minute before sign-in is refused for a minute; default 10 */
  signInFailuresPerMinute?: number;
}

export interface Portal {
  readonly port: number;
  readonly url: string;
  readonly sessions: SessionStore;
  close(): Promise<void>;
}

/** A write must come from the portal's own pages: Origin (or, without it, Sec-Fetch-Site) must say so */
function sameOrigin(req: IncomingMessage, publicOrigin: string | undefined): boolean {
  const origin = req.headers.origin;
  if (typeof origin === "string") {
    if (publicOrigin !== undefined) return origin === publicOrigin;
    const host = req.headers.host ?? "";
    return origin === `http://${host}` || origin === `https://${host}`;
  }
  return req.headers["sec-fetch-site"] === "same-origin";
}

export async function startPortal(options: PortalOptions): Promise<Portal> {
  const { logger } = options;
  const secure = options.secureCookies ?? false;
  const store = new SessionStore(options.sessions);
  const clients = new ClientPool(options.controlPlaneAddress);
  const assets = loadAssets();
  const limiter = new SignInLimiter(options.signInFailuresPerMinute ?? 10);
  const router = new Router([
    ...authRoutes({ store, secure, refreshMs: options.refreshMs ?? 15_000, limiter }),
    ...tenantRoutes(),
    ...securityRoutes(),
    ...operatorRoutes(),
  ]);

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = randomUUID();
    const log = logger.child({ component: "portal", request_id: requestId });
    const found = router.match(req.method ?? "GET", url.pathname);
    if ("miss" in found) {
      const code = found.miss === 404 ? "TM_ERR_NOT_FOUND" : "TM_ERR_INVALID_ARGUMENT";
      return sendJson(res, found.miss, { error: { code, message: found.miss === 404 ? "no such API path" : "method not allowed" } });
    }
    const { route, params } = found;
    const session = store.get(cookiesOf(req).get(cookieName(secure)));
    const signedOut = (message: string): void =>
      sendJson(res, 401, { error: { code: "TM_ERR_UNAUTHENTICATED", message }, signedOut: true }, { "set-cookie": clearedCookie(secure) });
    try {
      if (route.method !== "GET" && !sameOrigin(req, options.publicOrigin)) throw new TenantMeshError("TM_ERR_PERMISSION_DENIED", "cross-origin request refused");
      if (route.access !== "none" && session === undefined) return signedOut("You are signed out. Sign in to continue.");
      if (route.access !== "none" && route.method !== "GET" && !csrfMatches(session!, req.headers["x-csrf-token"])) {
        throw new TenantMeshError("TM_ERR_PERMISSION_DENIED", "missing or wrong CSRF token; reload the page");
      }
      if (route.access === "operator" && session?.principal.kind !== "operator") throw new TenantMeshError("TM_ERR_PERMISSION_DENIED", "operators only");
      const ctx: RouteContext = {
        req,
        res,
        params,
        query: url.searchParams,
        session,
        requestId,
        log,
        clients,
        metadata() {
          if (session === undefined) throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", "not signed in");
          return bearer(session.principal.token, requestId);
        },
        body: () => readJson(req),
      };
      const result = await route.handler(ctx);
      if (result instanceof Reply) return sendJson(res, result.status, result.body, result.headers);
      sendJson(res, 200, result ?? {});
    } catch (err) {
      // The control plane no longer accepts this session's credential: signed out elsewhere, revoked, user
      // deleted, or the tenant suspended. The portal session ends with it.
      if (err instanceof RpcError && err.code === "TM_ERR_UNAUTHENTICATED" && session !== undefined && route.access !== "none") {
        store.delete(session.id);
        log.info({ kind: session.principal.kind }, "portal session ended: the control plane refused its credential");
        return signedOut("Your session has ended: it was signed out, revoked, or your tenant was suspended. Sign in again.");
      }
      sendError(res, err, log);
    }
  }

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    setSecurityHeaders(res);
    const url = new URL(req.url ?? "/", "http://portal.invalid");
    if (url.pathname.startsWith("/api/")) {
      api(req, res, url).catch((err: unknown) => sendError(res, err, logger));
      return;
    }
    if ((req.method === "GET" || req.method === "HEAD") && serveAsset(assets, req, res, url.pathname)) return;
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host;
  return {
    port,
    url: `http://${shownHost}:${port}`,
    sessions: store,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      clients.close();
    },
  };
}
