import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { TenantMeshError } from "../../src/errors/index.js";
import type { GrpcExchange, ProxyContext } from "../context.js";
import type { StageResult } from "../pipeline/stage.js";
import type { Backend } from "../upstream/backend.js";
import type { UpstreamOutcome } from "../upstream/types.js";
import { classifyUpstreamError, deadlineExceeded } from "./errors.js";
import { deadlineOf, GrpcFrameReader, responseHeaders } from "./grpc-frames.js";
import { Http2SessionPool } from "./grpc-sessions.js";
import { upstreamGrpcHeaders, type IdentitySigning } from "./headers.js";
import { RequestSide } from "./grpc-request.js";

export interface GrpcForwarderOptions {
  readonly signing: IdentitySigning;
  /** Largest single request message (RESOURCE_EXHAUSTED above it) */
  readonly maxMessageBytes: number;
  /** Deadline for a tenant without `maxResponseTimeMs` when the client sets none either */
  readonly defaultTimeoutMs: number;
  /** Request bytes kept so a call that could not reach a backend can be replayed on another (default 64 KiB) */
  readonly replayBytes: number;
  readonly sessionIdleTimeoutMs: number;
  readonly windowBytes: number;
}

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR, NGHTTP2_FLAG_END_STREAM } = constants;

/**
 * Forwards gRPC calls over h2c sessions to backends: unary and all three streaming shapes, metadata both ways,
 * trailers and status codes untouched. The proxy enforces the call's deadline — the client's `grpc-timeout` or
 * the tenant's `maxResponseTimeMs`, whichever is shorter — and passes what is left of it upstream.
 * Cancellation crosses in both directions: a client that resets its stream resets the upstream stream
 * (CANCEL), and an upstream reset is passed to the client with its code. Request framing is checked as it
 * streams (GrpcFrameReader): a malformed message ends that call alone.
 */
export class GrpcForwarder {
  private readonly sessions: Http2SessionPool;

  constructor(private readonly options: GrpcForwarderOptions) {
    this.sessions = new Http2SessionPool({ idleTimeoutMs: options.sessionIdleTimeoutMs, windowBytes: options.windowBytes });
  }

  forward(ctx: ProxyContext): Promise<StageResult> {
    const exchange = ctx.exchange;
    const backend = ctx.backend;
    const tenant = ctx.tenant;
    if (exchange.kind !== "grpc" || backend === undefined || tenant === undefined) throw new Error("gRPC forward needs a gRPC exchange and a backend");
    // The request side survives a retry: a second attempt replays what the first consumed
    let request = ctx.forwardState as RequestSide | undefined;
    if (request === undefined) {
      request = new RequestSide(exchange.stream, new GrpcFrameReader(this.options.maxMessageBytes), this.options.replayBytes);
      ctx.forwardState = request;
    }
    const budget = deadlineOf(ctx, tenant.maxResponseTimeMs > 0 ? tenant.maxResponseTimeMs : this.options.defaultTimeoutMs);
    const remaining = budget - (performance.now() - ctx.timings.start);
    if (remaining <= 0) return Promise.resolve(deadlineExceeded());
    let upstream: ClientHttp2Stream;
    try {
      const headers = upstreamGrpcHeaders(ctx, this.options.signing, backend.address, remaining);
      upstream = this.sessions.session(backend.address).request(headers, { endStream: false });
    } catch (err) {
      const failure = classifyUpstreamError(err, false);
      ctx.retryable = request.replayable;
      return Promise.resolve(failure.error);
    }
    return new Promise((resolve) => new GrpcAttempt(ctx, exchange, backend, request, upstream, remaining, resolve).start());
  }

  close(): void {
    this.sessions.close();
  }
}

/** One upstream attempt of a call: relays the response, enforces the deadline, propagates cancellation */
class GrpcAttempt {
  private done = false;
  private responseStarted = false;
  /** The backend answered trailers-only and that answer was relayed whole */
  private answered = false;
  private upstreamError: unknown;
  private timer: NodeJS.Timeout | undefined;
  private readonly client: ServerHttp2Stream;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly exchange: GrpcExchange,
    private readonly backend: Backend,
    private readonly request: RequestSide,
    private readonly upstream: ClientHttp2Stream,
    private readonly timeoutMs: number,
    private readonly resolve: (result: StageResult) => void,
  ) {
    this.client = exchange.stream;
  }

  start(): void {
    const { upstream, client } = this;
    this.timer = setTimeout(this.onDeadline, this.timeoutMs);
    upstream.on("response", this.onResponse);
    upstream.on("data", this.onData);
    upstream.on("trailers", this.onTrailers);
    upstream.on("end", this.onEnd);
    upstream.on("error", (err: unknown) => {
      this.upstreamError ??= err;
    });
    upstream.on("close", this.onUpstreamClose);
    this.request.attach(upstream, {
      onClientGone: this.onClientGone,
      onProtocolError: (error) => this.fail(error, undefined),
    });
  }

  private readonly onResponse = (headers: IncomingHttpHeaders, flags: number): void => {
    this.responseStarted = true;
    this.request.commit();
    this.ctx.timings.responseStart = performance.now();
    // Node hands :status over as a number at run time, whatever the header type says
    const status = Number(headers[":status"]);
    if (status !== 200) {
      // Not a gRPC answer (a proxy page, a 503 from a non-gRPC listener): no message of it can be relayed
      this.upstream.close(NGHTTP2_CANCEL);
      const outcome: UpstreamOutcome = status >= 500 ? "http_5xx" : "reset";
      this.fail(new TenantMeshError("TM_ERR_BAD_GATEWAY", `the backend answered HTTP ${status} instead of gRPC`), outcome);
      return;
    }
    if (this.client.destroyed || this.client.closed) return;
    if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0) {
      // Trailers-only response: the status rides in these headers
      this.ctx.status = Number(headers["grpc-status"] ?? 2);
      this.answered = true;
      this.client.respond(responseHeaders(headers), { endStream: true });
      return;
    }
    this.client.once("wantTrailers", this.onWantTrailers);
    this.client.respond(responseHeaders(headers), { waitForTrailers: true });
  };

  private readonly onData = (chunk: Buffer): void => {
    if (!this.client.write(chunk)) {
      this.upstream.pause();
      this.client.once("drain", () => this.upstream.resume());
    }
  };

  private readonly onTrailers = (trailers: IncomingHttpHeaders): void => {
    this.ctx.status = Number(trailers["grpc-status"] ?? 2);
    this.exchange.trailers = responseHeaders(trailers) as Record<string, string>;
  };

  private readonly onEnd = (): void => {
    // A reset also ends the readable side, without trailers: onUpstreamClose sorts that out from rstCode
    if (this.done || this.answered || this.exchange.trailers === undefined || this.client.destroyed) return;
    if (!this.client.writableEnded && this.client.headersSent) this.client.end();
  };

  private readonly onWantTrailers = (): void => {
    const trailers = this.exchange.trailers ?? { "grpc-status": "13", "grpc-message": "the call ended without a status" };
    if (!this.client.destroyed && !this.client.closed) this.client.sendTrailers(trailers);
  };

  private readonly onUpstreamClose = (): void => {
    if (this.done) return;
    const code = this.upstream.rstCode ?? NGHTTP2_NO_ERROR;
    if (code === NGHTTP2_NO_ERROR && (this.answered || this.exchange.trailers !== undefined)) {
      this.finish("success", undefined);
      return;
    }
    if (!this.responseStarted) {
      const failure = classifyUpstreamError(this.upstreamError, false);
      // Refused streams and failed connects never reached a handler: safe to replay when the bytes were kept
      const untouched = failure.outcome === "connect_failure" || code === NGHTTP2_REFUSED_STREAM;
      if (untouched) {
        this.ctx.retryable = this.request.replayable;
        this.finish(failure.outcome === "connect_failure" ? "connect_failure" : "reset", failure.outcome === "connect_failure" ? failure.error : unavailableRefused());
        return;
      }
    }
    if (code === NGHTTP2_NO_ERROR && this.responseStarted) {
      this.fail(new TenantMeshError("TM_ERR_BAD_GATEWAY", "the backend ended the call without a grpc-status"), "reset");
      return;
    }
    // Node closes the streams of a lost connection with CANCEL: not the backend's answer, and not the client's
    // doing, so the client gets UNAVAILABLE with a reason rather than a reset that reads "you cancelled"
    const session = this.upstream.session;
    if (session === undefined || session.destroyed) {
      this.fail(new TenantMeshError("TM_ERR_BAD_GATEWAY", "the connection to the backend was lost during the call", { cause: this.upstreamError }), "reset");
      return;
    }
    // An upstream reset (or a connection lost mid-call) is passed to the client as a reset of its stream
    if (!this.client.destroyed && !this.client.closed) this.client.close(code === NGHTTP2_NO_ERROR ? NGHTTP2_INTERNAL_ERROR : code);
    this.ctx.status = 14; // UNAVAILABLE, as the client library will report it
    this.finish("reset", undefined);
  };

  private readonly onDeadline = (): void => {
    this.timer = undefined;
    if (this.done) return;
    this.upstream.close(NGHTTP2_CANCEL);
    this.ctx.status = 4;
    this.fail(deadlineExceeded(), "timeout");
  };

  private readonly onClientGone = (): void => {
    if (this.done) return;
    this.upstream.close(NGHTTP2_CANCEL);
    this.ctx.outcome = "cancelled";
    this.finish(undefined, undefined);
  };

  /**
   * Ends the call with an error the client gets as grpc-status (respond.ts picks trailers-only or trailers).
   * `outcome` undefined: the client's own fault (bad framing), reported nothing about the backend; the rest of
   * what it sends is discarded.
   */
  private fail(error: TenantMeshError, outcome: UpstreamOutcome | undefined): void {
    if (this.done) return;
    if (!this.upstream.closed) this.upstream.close(NGHTTP2_CANCEL);
    if (outcome === undefined) this.request.drain();
    this.finish(outcome, error);
  }

  private finish(outcome: UpstreamOutcome | undefined, error: TenantMeshError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.cleanup();
    if (outcome !== undefined) {
      if (this.ctx.outcome !== "cancelled") this.ctx.outcome = outcome;
      this.ctx.route?.cluster.recordOutcome(this.backend, outcome, Date.now());
    }
    this.resolve(error);
  }

  private cleanup(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.request.detach(this.upstream);
  }
}

function unavailableRefused(): TenantMeshError {
  return new TenantMeshError("TM_ERR_UNAVAILABLE", "the backend refused the call before handling it", { retryAfterSeconds: 1 });
}
