import type { IncomingHttpHeaders } from "node:http2";
import { TenantMeshError } from "../../src/errors/index.js";
import type { ProxyContext } from "../context.js";
import { payloadTooLarge } from "./errors.js";

/**
 * Checks the length-prefixed message framing of a gRPC request stream as it passes, without copying it: each
 * message is a 1-byte compressed flag (0 or 1), a 4-byte big-endian length, then that many bytes. A bad flag,
 * a message above the limit, or a stream that ends inside a message is a protocol error of that one call: the
 * proxy ends the call with an error (and resets its upstream stream) and keeps serving everything else.
 */
export class GrpcFrameReader {
  /** Bytes of a message header split across chunks; allocated only when that happens (rarely) */
  private partial: Buffer | undefined;
  private headerFill = 0;
  /** Payload bytes of the current message still to come; 0 between messages */
  private remaining = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** Feeds the next chunk of the request body; returns the error that ends the call, if the chunk breaks framing */
  push(chunk: Buffer): TenantMeshError | undefined {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      let flag: number;
      let length: number;
      if (this.headerFill === 0 && n - i >= 5) {
        // The common case: the whole header is in this chunk, read in place
        flag = chunk[i]!;
        length = chunk.readUInt32BE(i + 1);
        i += 5;
      } else {
        const header = (this.partial ??= Buffer.alloc(5));
        const take = Math.min(5 - this.headerFill, n - i);
        chunk.copy(header, this.headerFill, i, i + take);
        this.headerFill += take;
        i += take;
        if (this.headerFill < 5) break;
        this.headerFill = 0;
        flag = header[0]!;
        length = header.readUInt32BE(1);
      }
      if (flag > 1) return malformed(`a gRPC message has an invalid compressed flag ${flag}`);
      if (length > this.maxMessageBytes) return payloadTooLarge(this.maxMessageBytes, `a gRPC message of ${length} bytes`);
      this.remaining = length;
    }
    return undefined;
  }

  /** The client finished sending: an error if it stopped inside a message */
  end(): TenantMeshError | undefined {
    if (this.headerFill > 0 || this.remaining > 0) return malformed("the request stream ended inside a gRPC message");
    return undefined;
  }
}

function malformed(message: string): TenantMeshError {
  return new TenantMeshError("TM_ERR_MALFORMED_REQUEST", message);
}

/** Parses a `grpc-timeout` header (`<1–8 digits><H|M|S|m|u|n>`) into milliseconds; undefined when absent or invalid */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return undefined;
  const amount = Number(match[1]);
  switch (match[2]) {
    case "H":
      return amount * 3_600_000;
    case "M":
      return amount * 60_000;
    case "S":
      return amount * 1_000;
    case "m":
      return amount;
    case "u":
      return amount / 1_000;
    default:
      return amount / 1_000_000;
  }
}

/** The deadline in ms from the request's start: the tenant's limit, shortened by the client's grpc-timeout */
export function deadlineOf(ctx: ProxyContext, tenantMs: number): number {
  const client = parseGrpcTimeout(ctx.headers["grpc-timeout"]);
  return client === undefined ? tenantMs : Math.min(client, tenantMs);
}

/** Upstream response headers or trailers as the client gets them: pseudo-headers other than :status dropped */
export function responseHeaders(headers: IncomingHttpHeaders): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (headers[":status"] !== undefined) out[":status"] = 200;
  for (const name in headers) {
    if (name.charCodeAt(0) === 58) continue;
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}
