import { TenantMeshError } from "../../src/errors/index.js";
import { payloadTooLarge } from "./errors.js";

/**
 * Checks the length-prefixed message framing of a gRPC request stream as it passes, without copying it: each
 * message is a 1-byte compressed flag (0 or 1), a 4-byte big-endian length, then that many bytes. A bad flag,
 * a message above the limit, or a stream that ends inside a message is a protocol error of that one call: the
 * proxy ends the call with an error (and resets its upstream stream) and keeps serving everything else.
 */
export class GrpcFrameReader {
  private readonly header = Buffer.alloc(5);
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
      const take = Math.min(5 - this.headerFill, n - i);
      chunk.copy(this.header, this.headerFill, i, i + take);
      this.headerFill += take;
      i += take;
      if (this.headerFill < 5) break;
      this.headerFill = 0;
      const flag = this.header[0]!;
      if (flag > 1) return malformed(`a gRPC message has an invalid compressed flag ${flag}`);
      const length = this.header.readUInt32BE(1);
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
