import { STATUS_CODES } from "node:http";
import type { ServerHttp2Stream } from "node:http2";
import type { Duplex } from "node:stream";
import type { TenantMeshError } from "../src/errors/index.js";
import type { Exchange, GrpcExchange } from "./context.js";
import { rateLimitFields, retryAfterMs } from "./limits/rate-limited.js";

/**
 * The one place where the proxy's expected failures become wire responses (linkerd2-proxy's `respond.rs`):
 * - HTTP: the catalogue's status, body `{"error":{"code","message"}}`, `Retry-After` when the error has a wait,
 *   and `RateLimit-Policy` / `RateLimit` on a refusal by one of the tenant's own limits (limits/rate-limited.ts);
 * - gRPC: a trailers-only response (HTTP 200 + `grpc-status`, `grpc-message`, `tm-error-code`, and
 *   `retry-after` / `grpc-retry-pushback-ms` when given), or, when response headers already went out, those
 *   same fields as the stream's trailers;
 * - a raw socket (an upgrade request, a request Node's parser refused): a minimal HTTP/1.1 response, then close.
 * A response already under way on HTTP/1.1 cannot change its status, so the connection is cut instead: a
 * truncated body must not pass for a complete one.
 */
export function respond(exchange: Exchange, error: TenantMeshError): void {
  switch (exchange.kind) {
    case "http": {
      const { req, res } = exchange;
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const body = JSON.stringify(error.toJSON());
      const headers: Record<string, string | number> = {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(body),
        "cache-control": "no-store",
      };
      if (error.retryAfterSeconds !== undefined) headers["retry-after"] = error.retryAfterSeconds;
      Object.assign(headers, rateLimitFields(error));
      // Unread request body left on the connection (e.g. a 413 mid-upload): close rather than drain it
      if (!req.complete) headers.connection = "close";
      res.writeHead(error.httpStatus, headers);
      res.end(body);
      return;
    }
    case "upgrade":
      respondRaw(exchange.socket, error);
      return;
    case "grpc":
      respondGrpc(exchange, error);
      return;
  }
}

/** Writes a complete HTTP/1.1 error response on a socket no HTTP machinery owns any more, and closes it */
export function respondRaw(socket: Duplex, error: TenantMeshError): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(error.toJSON());
  const status = error.httpStatus;
  let retry = error.retryAfterSeconds !== undefined ? `retry-after: ${error.retryAfterSeconds}\r\n` : "";
  for (const [name, value] of Object.entries(rateLimitFields(error))) retry += `${name}: ${value}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `cache-control: no-store\r\n${retry}connection: close\r\n\r\n${body}`,
  );
}

/** The gRPC status fields of an error, for a trailers-only response or for trailers */
export function grpcErrorFields(error: TenantMeshError): Record<string, string> {
  const fields: Record<string, string> = {
    "grpc-status": String(error.grpcStatus),
    "grpc-message": encodeGrpcMessage(error.message),
    "tm-error-code": error.code,
  };
  if (error.retryAfterSeconds !== undefined) {
    fields["retry-after"] = String(error.retryAfterSeconds);
    // The exact wait when the limit knows it (a token bucket refills in milliseconds), else Retry-After's
    fields["grpc-retry-pushback-ms"] = String(retryAfterMs(error) ?? Math.round(error.retryAfterSeconds * 1000));
  }
  return Object.assign(fields, rateLimitFields(error));
}

function respondGrpc(exchange: GrpcExchange, error: TenantMeshError): void {
  const stream: ServerHttp2Stream = exchange.stream;
  if (stream.destroyed || stream.closed) return;
  if (!stream.headersSent) {
    stream.respond({ ":status": 200, "content-type": "application/grpc", ...grpcErrorFields(error) }, { endStream: true });
    return;
  }
  // Headers are out and the forwarder answered with waitForTrailers: end the stream, ending with these trailers
  if (stream.writableEnded) return;
  exchange.trailers = grpcErrorFields(error);
  stream.end();
}

/**
 * grpc-message is percent-encoded (gRPC over HTTP/2 spec): bytes outside printable ASCII, and `%` itself, as
 * `%XX` of their UTF-8 encoding.
 */
export function encodeGrpcMessage(message: string): string {
  return message.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return "%EF%BF%BD"; // a lone surrogate: U+FFFD
    }
  });
}
