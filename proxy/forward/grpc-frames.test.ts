import { describe, expect, it } from "vitest";
import { GrpcFrameReader, parseGrpcTimeout } from "./grpc-frames.js";

const frame = (length: number, flag = 0): Buffer => {
  const b = Buffer.alloc(5 + length);
  b[0] = flag;
  b.writeUInt32BE(length, 1);
  return b;
};

describe("GrpcFrameReader", () => {
  it("follows messages split anywhere across chunks", () => {
    const r = new GrpcFrameReader(100);
    const bytes = Buffer.concat([frame(10), frame(0), frame(3, 1)]);
    for (let i = 0; i < bytes.length; i++) expect(r.push(bytes.subarray(i, i + 1))).toBeUndefined();
    expect(r.end()).toBeUndefined();
  });

  it("refuses a bad compressed flag, an oversized message and a stream ending mid-message", () => {
    expect(new GrpcFrameReader(100).push(frame(1, 2))?.code).toBe("TM_ERR_MALFORMED_REQUEST");
    expect(new GrpcFrameReader(100).push(frame(101).subarray(0, 5))?.code).toBe("TM_ERR_PAYLOAD_TOO_LARGE");
    const r = new GrpcFrameReader(100);
    expect(r.push(frame(10).subarray(0, 8))).toBeUndefined();
    expect(r.end()?.code).toBe("TM_ERR_MALFORMED_REQUEST");
    const h = new GrpcFrameReader(100);
    h.push(Buffer.from([0, 0]));
    expect(h.end()?.code).toBe("TM_ERR_MALFORMED_REQUEST");
  });
});

describe("parseGrpcTimeout", () => {
  it.each([
    ["1H", 3_600_000],
    ["2M", 120_000],
    ["3S", 3_000],
    ["250m", 250],
    ["1500u", 1.5],
    ["2000000n", 2],
  ])("%s → %d ms", (value, ms) => expect(parseGrpcTimeout(value)).toBe(ms));

  it.each([undefined, "", "10", "123456789S", "1x", "-1S"])("ignores %s", (value) => expect(parseGrpcTimeout(value)).toBeUndefined());
});
