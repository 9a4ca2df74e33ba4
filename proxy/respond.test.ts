import { describe, expect, it } from "vitest";
import { TenantMeshError } from "../src/errors/index.js";
import { encodeGrpcMessage, grpcErrorFields } from "./respond.js";

describe("respond", () => {
  it("percent-encodes grpc-message outside printable ASCII, and % itself", () => {
    expect(encodeGrpcMessage("plain text: ok")).toBe("plain text: ok");
    expect(encodeGrpcMessage("100% café\n")).toBe("100%25 caf%C3%A9%0A");
  });

  it("puts status, message, catalogue code and the retry hint in the gRPC fields", () => {
    const fields = grpcErrorFields(new TenantMeshError("TM_ERR_RATE_LIMITED", "slow down", { retryAfterSeconds: 2 }));
    expect(fields).toEqual({ "grpc-status": "8", "grpc-message": "slow down", "tm-error-code": "TM_ERR_RATE_LIMITED", "retry-after": "2", "grpc-retry-pushback-ms": "2000" });
  });
});
