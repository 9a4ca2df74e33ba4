import type { ClientRequest, IncomingMessage } from "node:http";
import httpProxy from "http-proxy";
import { TenantMeshError } from "../../src/errors/index.js";
import type { ProxyContext } from "../context.js";
import type { StageResult } from "../pipeline/stage.js";
import { respond } from "../respond.js";
import { classifyUpstreamError } from "./errors.js";
import { upstreamHttpHeaders, type IdentitySigning } from "./headers.js";

type Settle = (result: StageResult, outcome: "success" | "connect_failure" | "reset" | "http_5xx" | "timeout") => void;

/**
 * Passes WebSocket upgrades through to the route's backend with http-proxy, after the whole pipeline admitted
 * them (same identity, admission, throttling and picking as any request). The exchange counts as finished once
 * the backend has answered the handshake: the backend slot and the tenant's concurrency slot are released
 * then, and the tunnel lives on by itself, so long-lived sockets do not hold request capacity.
 */
export class WebSocketForwarder {
  private readonly proxy = httpProxy.createProxyServer({ ws: true, xfwd: false, proxyTimeout: 0 });
  private readonly pending = new WeakMap<IncomingMessage, Settle>();

  constructor(
    private readonly signing: IdentitySigning,
    private readonly handshakeTimeoutMs: number,
  ) {
    this.proxy.on("proxyReqWs", (proxyReq: ClientRequest, req: IncomingMessage) => {
      const settle = this.pending.get(req);
      if (settle === undefined) return;
      proxyReq.setTimeout(this.handshakeTimeoutMs, () => proxyReq.destroy(Object.assign(new Error("handshake timeout"), { code: "UND_ERR_HEADERS_TIMEOUT" })));
      proxyReq.once("upgrade", () => settle(undefined, "success"));
      proxyReq.once("response", (res: IncomingMessage) => settle(undefined, (res.statusCode ?? 0) >= 500 ? "http_5xx" : "success"));
    });
    // Errors go to the per-request callback; this listener only keeps a stray one from becoming uncaught
    this.proxy.on("error", () => undefined);
  }

  forward(ctx: ProxyContext): Promise<StageResult> {
    const exchange = ctx.exchange;
    const backend = ctx.backend;
    if (exchange.kind !== "upgrade" || backend === undefined) throw new Error("WebSocket forward needs an upgrade exchange and a backend");
    const { req, socket, head } = exchange;
    if (String(req.headers.upgrade).toLowerCase() !== "websocket" || req.method !== "GET") {
      return Promise.resolve(new TenantMeshError("TM_ERR_MALFORMED_REQUEST", "only WebSocket upgrades (GET, Upgrade: websocket) are supported"));
    }
    const headers = upstreamHttpHeaders(ctx, this.signing);
    // The upgrade needs the hop-by-hop pair the HTTP forwarder drops
    headers.connection = "Upgrade";
    headers.upgrade = "websocket";
    req.headers = headers as IncomingMessage["headers"];
    return new Promise((resolve) => {
      let settled = false;
      const settle: Settle = (result, outcome) => {
        if (settled) return;
        settled = true;
        this.pending.delete(req);
        ctx.outcome = outcome;
        ctx.status = outcome === "success" ? 101 : ctx.status;
        ctx.route?.cluster.recordOutcome(backend, outcome, Date.now());
        resolve(result);
      };
      this.pending.set(req, settle);
      this.proxy.ws(req, socket, head, { target: `http://${backend.address}` }, (err: Error) => {
        const failure = classifyUpstreamError(err, false);
        // http-proxy ends the socket as soon as this returns, so the answer has to be written now, not later
        // by the pipeline's entry; respond() is still the one place that shapes it
        ctx.status = failure.error.httpStatus;
        respond(exchange, failure.error);
        settle(undefined, failure.outcome);
      });
    });
  }

  close(): void {
    this.proxy.close();
  }
}
