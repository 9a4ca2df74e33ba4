import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Duplex } from "node:stream";
import { TenantMeshError } from "../../src/errors/index.js";
import type { Logger } from "../../src/log/index.js";
import { ProxyContext, type Exchange } from "../context.js";
import { respond, respondRaw } from "../respond.js";
import type { FastRequest, FastResponse } from "../fast-h1.js";
import type { ServerHandlers } from "../server.js";
import type { RequestMetrics } from "./record.js";
import type { Handler } from "./stage.js";

export interface EntryOptions {
  /** The composed pipeline */
  readonly pipeline: Handler;
  /** A declared Content-Length above this is refused before any stage runs */
  readonly maxBodyBytes: number;
  readonly metrics: RequestMetrics;
  readonly logger: Logger;
}

const GRPC_PATH = /^\/([^/]+)\/([^/]+)$/;

/**
 * Where requests enter the pipeline: builds the context of each exchange, runs the composed handler, and hands
 * the failure it returns (if any) to `respond` — the only caller of respond for pipeline results. A handler
 * that throws is a bug: it is logged and answered as TM_ERR_INTERNAL, never left hanging.
 */
export function entryPoints(options: EntryOptions): ServerHandlers {
  const { pipeline, maxBodyBytes, metrics, logger } = options;

  const run = (ctx: ProxyContext): void => {
    let result: Promise<TenantMeshError | undefined>;
    try {
      result = pipeline(ctx);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (error) => {
        if (error !== undefined && ctx.outcome !== "cancelled") respond(ctx.exchange, error);
      },
      (err: unknown) => {
        logger.error({ err, requestId: ctx.requestId, path: ctx.path }, "proxy pipeline failed");
        respond(ctx.exchange, new TenantMeshError("TM_ERR_INTERNAL", "internal proxy error"));
      },
    );
  };

  /** Refuses before the pipeline: cheap checks on what the client declared */
  const refuse = (exchange: Exchange, error: TenantMeshError): void => {
    metrics.recordRejection(undefined, error.code.slice(7).toLowerCase());
    respond(exchange, error);
  };

  const httpContext = (exchange: Exchange, req: IncomingMessage): ProxyContext =>
    new ProxyContext("http", exchange, req.method ?? "GET", req.url ?? "/", "", "", req.socket.remoteAddress ?? "", req.headers, randomUUID(), performance.now());

  return {
    http(req: IncomingMessage, res: ServerResponse): void {
      const exchange: Exchange = { kind: "http", req, res };
      const length = req.headers["content-length"];
      if (length !== undefined && Number(length) > maxBodyBytes) {
        refuse(exchange, new TenantMeshError("TM_ERR_PAYLOAD_TOO_LARGE", `request body of ${length} bytes is larger than the limit of ${maxBodyBytes} bytes`));
        return;
      }
      run(httpContext(exchange, req));
    },

    fastHttp(req: FastRequest, res: FastResponse): void {
      // Only body-less requests come this way: no Content-Length to check
      run(new ProxyContext("http", { kind: "http", req, res }, req.method, req.url, "", "", req.socket.remoteAddress ?? "", req.headers, randomUUID(), performance.now()));
    },

    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      socket.on("error", () => socket.destroy());
      run(httpContext({ kind: "upgrade", req, socket, head }, req));
    },

    grpc(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
      const exchange: Exchange = { kind: "grpc", stream, trailers: undefined };
      const path = headers[":path"] ?? "";
      const match = GRPC_PATH.exec(path);
      const contentType = headers["content-type"];
      if (headers[":method"] !== "POST" || typeof contentType !== "string" || !contentType.startsWith("application/grpc") || match === null) {
        refuse(exchange, new TenantMeshError("TM_ERR_MALFORMED_REQUEST", "HTTP/2 on this port serves gRPC only (POST /package.Service/Method, content-type application/grpc)"));
        return;
      }
      const address = stream.session?.socket?.remoteAddress ?? "";
      run(new ProxyContext("grpc", exchange, "POST", path, match[1] ?? "", match[2] ?? "", address, headers, randomUUID(), performance.now()));
    },

    clientError(err: Error & { code?: string }, socket: Duplex): void {
      const code = err.code ?? "";
      if (code === "ECONNRESET" || code === "EPIPE" || !socket.writable) {
        socket.destroy();
        return;
      }
      let error: TenantMeshError;
      if (code === "HPE_HEADER_OVERFLOW") error = new TenantMeshError("TM_ERR_HEADERS_TOO_LARGE", "request headers are larger than the proxy's limit");
      else if (code === "ERR_HTTP_REQUEST_TIMEOUT") error = new TenantMeshError("TM_ERR_REQUEST_TIMEOUT", "the request was not received in time");
      else error = new TenantMeshError("TM_ERR_MALFORMED_REQUEST", "the request could not be parsed as HTTP/1.1");
      metrics.recordRejection(undefined, error.code.slice(7).toLowerCase());
      respondRaw(socket, error);
    },
  };
}
