import { constants, type ClientHttp2Stream, type ServerHttp2Stream } from "node:http2";
import type { TenantMeshError } from "../../src/errors/index.js";
import type { GrpcFrameReader } from "./grpc-frames.js";

/** What the current attempt wants to hear from the client's side of the call */
export interface RequestHooks {
  /** The client reset its stream (cancelled) or the connection died, before the call finished */
  onClientGone(): void;
  /** The client broke gRPC framing; the call must end with this error */
  onProtocolError(error: TenantMeshError): void;
}

/**
 * The client → backend half of a gRPC call, shared by its attempts. Relays request messages to the attempt's
 * upstream stream with backpressure, checks their framing on the way, and keeps the first `replayBytes` so
 * that an attempt that never reached a backend can be replayed on another. The copy is dropped as soon as a
 * response starts (`commit`) or the call outgrows it: after that, no retry is possible anyway.
 */
export class RequestSide {
  private kept: Buffer[] | undefined = [];
  private keptBytes = 0;
  private ended = false;
  private broken = false;
  private listening = false;
  private upstream: ClientHttp2Stream | undefined;
  private hooks: RequestHooks | undefined;

  constructor(
    private readonly client: ServerHttp2Stream,
    private readonly reader: GrpcFrameReader,
    private readonly replayBytes: number,
  ) {}

  /** True while everything the client sent so far is still held for a replay */
  get replayable(): boolean {
    return this.kept !== undefined && !this.broken;
  }

  /** Connects an attempt's upstream stream: replays what was kept, then relays what comes */
  attach(upstream: ClientHttp2Stream, hooks: RequestHooks): void {
    this.upstream = upstream;
    this.hooks = hooks;
    if (this.kept !== undefined) for (const chunk of this.kept) upstream.write(chunk);
    if (this.ended) upstream.end();
    if (!this.listening) {
      this.listening = true;
      this.client.on("data", this.onData);
      this.client.on("end", this.onEnd);
      this.client.on("close", this.onClose);
    } else if (!this.ended) {
      this.client.resume();
    }
  }

  /** The attempt is over: stop relaying to it (the client is paused until another attempt attaches) */
  detach(upstream: ClientHttp2Stream): void {
    if (this.upstream !== upstream) return;
    this.upstream = undefined;
    this.hooks = undefined;
    if (!this.ended && !this.broken) this.client.pause();
  }

  /** A response has started: the call can no longer be replayed, so the kept copy goes */
  commit(): void {
    this.kept = undefined;
    this.keptBytes = 0;
  }

  /** The call was answered early (e.g. bad framing): read and discard whatever the client still sends */
  drain(): void {
    this.broken = true;
    this.kept = undefined;
    this.client.resume();
    // Once answered, ask a client still sending to stop (RFC 9113 §8.1, RST_STREAM NO_ERROR). Deferred a turn:
    // the answer is written by respond.ts when the pipeline settles, within this turn's microtasks, and
    // close() with NO_ERROR then waits for it to be flushed.
    if (!this.client.readableEnded) setImmediate(() => this.client.close(constants.NGHTTP2_NO_ERROR));
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.broken) return;
    const problem = this.reader.push(chunk);
    if (problem !== undefined) {
      this.broken = true;
      this.kept = undefined;
      this.hooks?.onProtocolError(problem);
      return;
    }
    if (this.kept !== undefined) {
      if (this.keptBytes + chunk.length > this.replayBytes) this.commit();
      else {
        this.kept.push(chunk);
        this.keptBytes += chunk.length;
      }
    }
    const upstream = this.upstream;
    if (upstream === undefined) {
      this.client.pause();
      return;
    }
    if (!upstream.write(chunk)) {
      this.client.pause();
      upstream.once("drain", this.onUpstreamDrain);
    }
  };

  private readonly onUpstreamDrain = (): void => {
    if (this.upstream !== undefined && !this.ended) this.client.resume();
  };

  private readonly onEnd = (): void => {
    if (this.broken) return;
    const problem = this.reader.end();
    if (problem !== undefined) {
      this.broken = true;
      this.hooks?.onProtocolError(problem);
      return;
    }
    this.ended = true;
    this.upstream?.end();
  };

  private readonly onClose = (): void => {
    // A stream we ended ourselves and the client closed cleanly is the normal end of a call, not a cancel
    if (this.client.rstCode === constants.NGHTTP2_NO_ERROR && this.client.writableEnded) return;
    this.hooks?.onClientGone();
  };
}
