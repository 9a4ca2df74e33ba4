import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { IncomingHttpHeaders as Http2Headers, ServerHttp2Stream } from "node:http2";
import type { Duplex } from "node:stream";
import type { TenantEntry } from "./directory/types.js";
import type { Backend } from "./upstream/backend.js";
import type { ResolvedRoute, UpstreamOutcome } from "./upstream/types.js";

/** The client-facing protocol of one request: HTTP/1.1 (incl. WebSocket upgrades) or gRPC over h2c */
export type Protocol = "http" | "grpc";

/**
 * The protocol-specific handles of a request. Only the forward stage and `respond.ts` touch them; the stages
 * in between read the plain fields of the context, so they are the same for both protocols.
 */
export type Exchange =
  | { readonly kind: "http"; readonly req: HttpRequestSide; readonly res: HttpResponseSide }
  | { readonly kind: "upgrade"; readonly req: IncomingMessage; readonly socket: Duplex; readonly head: Buffer }
  | GrpcExchange;

/**
 * What the proxy uses of an HTTP/1.1 request: Node's IncomingMessage, or the fast path's FastRequest
 * (fast-h1.ts), which only carries requests without a body
 */
export interface HttpRequestSide extends NodeJS.EventEmitter {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** The whole request (body included) has been received */
  readonly complete: boolean;
  readonly destroyed: boolean;
  readonly readableDidRead: boolean;
  pause(): unknown;
  resume(): unknown;
}

/** What the proxy uses of an HTTP/1.1 response: Node's ServerResponse, or the fast path's FastResponse */
export interface HttpResponseSide extends NodeJS.EventEmitter {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableFinished: boolean;
  writeHead(status: number, headers?: OutgoingHttpHeaders | string[]): unknown;
  write(chunk: Buffer | string): boolean;
  end(chunk?: Buffer | string): unknown;
  destroy(): unknown;
}

/** Node's pair is an HttpRequestSide/HttpResponseSide as it is (checked here, at compile time) */
export type NodeHttpSides = [IncomingMessage extends HttpRequestSide ? true : never, ServerResponse extends HttpResponseSide ? true : never];

export interface GrpcExchange {
  readonly kind: "grpc";
  readonly stream: ServerHttp2Stream;
  /**
   * The trailers to send when the response stream ends. The forwarder answers with `waitForTrailers`, so an
   * error that arrives after the response headers (a deadline, a broken upstream) still ends the call with a
   * proper grpc-status: respond.ts sets this and ends the stream.
   */
  trailers: Record<string, string> | undefined;
}

/** Monotonic milliseconds (performance.now()) at the points the record stage and traces care about */
export interface Timings {
  readonly start: number;
  /** When a backend slot was acquired (after any queueing) */
  picked: number;
  /** When the upstream response headers arrived */
  responseStart: number;
  end: number;
  /** Milliseconds the request waited in a dispatch queue for a backend slot (set by pick; 0 when it did not) */
  queuedMs: number;
  /** Milliseconds the throttle took to decide (a shared-store throttle may wait; set by throttle) */
  throttledMs: number;
}

/** How the exchange ended, as far as the record stage and metrics are concerned */
export type RequestOutcome = UpstreamOutcome | "rejected" | "cancelled";

/**
 * One request's state as it moves through the pipeline. Stages fill it in order — identify sets `tenant` and
 * `principal`, route sets `route`, pick sets `backend` — and later stages may rely on what earlier ones set.
 * It is a class rather than an object literal so every request shares one hidden class on the hot path.
 */
export class ProxyContext {
  /** Verified tenant (identify) */
  tenant: TenantEntry | undefined = undefined;
  /** Who inside the tenant: `api_key:<key id>` or `user:<user id>` (identify) */
  principal: string | undefined = undefined;
  route: ResolvedRoute | undefined = undefined;
  backend: Backend | undefined = undefined;
  /** Upstream attempts made so far (a connect failure may earn one retry on another backend) */
  attempts = 0;
  /** Set by a forwarder whose failed attempt may safely be sent again elsewhere (nothing reached a backend) */
  retryable = false;
  /** The forwarder's own state for this request, kept across a retry (e.g. the gRPC request bytes to replay) */
  forwardState: unknown = undefined;
  outcome: RequestOutcome = "success";
  /** HTTP status, or gRPC status number, sent to the client (0 until known) */
  status = 0;
  readonly timings: Timings;

  constructor(
    readonly protocol: Protocol,
    readonly exchange: Exchange,
    /** HTTP method; always POST for gRPC */
    readonly method: string,
    /** The request target as sent (path and query); for gRPC `/package.Service/Method` */
    readonly path: string,
    /** gRPC fully-qualified service and method name (empty for HTTP) */
    readonly service: string,
    readonly rpcMethod: string,
    readonly clientAddress: string,
    /** The client's headers (or gRPC metadata). Identify removes forged identity headers from it */
    readonly headers: IncomingHttpHeaders | Http2Headers,
    readonly requestId: string,
    start: number,
  ) {
    this.timings = { start, picked: 0, responseStart: 0, end: 0, queuedMs: 0, throttledMs: 0 };
  }
}

/**
 * Calls `onGone` if the client goes away before the exchange ends; returns the function that stops watching.
 * For stages that wait (the dispatch queue) and must give up their place when nobody is left to answer.
 */
export function whenClientGone(exchange: Exchange, onGone: () => void): () => void {
  const emitter: NodeJS.EventEmitter = exchange.kind === "http" ? exchange.res : exchange.kind === "upgrade" ? exchange.socket : exchange.stream;
  emitter.once("close", onGone);
  return () => {
    emitter.removeListener("close", onGone);
  };
}
