import { TenantMeshError } from "../../src/errors/index.js";
import type { UpstreamOutcome } from "../upstream/types.js";

/** How a failed upstream attempt is reported: to outlier detection (`outcome`) and to the client (`error`) */
export interface UpstreamFailure {
  readonly outcome: Exclude<UpstreamOutcome, "success" | "http_5xx">;
  readonly error: TenantMeshError;
}

/** Errors that mean no connection was made, so nothing of the request reached the backend */
const connectCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  "TM_UPSTREAM_CONNECT_TIMEOUT",
]);

const timeoutCodes: ReadonlySet<string> = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "TM_UPSTREAM_HEADERS_TIMEOUT", "TM_UPSTREAM_BODY_TIMEOUT"]);

/**
 * Sorts an upstream error into connect failure / timeout / reset. A timeout is TM_ERR_DEADLINE_EXCEEDED (504);
 * a connect failure TM_ERR_UNAVAILABLE (503: nothing happened, retry is safe); anything else after the
 * connection was made TM_ERR_BAD_GATEWAY (502: the request may have had effects).
 */
export function classifyUpstreamError(err: unknown, responseStarted: boolean): UpstreamFailure {
  const e = err as { code?: unknown; syscall?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  if (timeoutCodes.has(code)) return { outcome: "timeout", error: deadlineExceeded() };
  if (!responseStarted && (connectCodes.has(code) || e.syscall === "connect")) {
    return { outcome: "connect_failure", error: new TenantMeshError("TM_ERR_UNAVAILABLE", "the backend could not be reached", { retryAfterSeconds: 1, cause: err }) };
  }
  return { outcome: "reset", error: new TenantMeshError("TM_ERR_BAD_GATEWAY", "the backend connection failed during the request", { cause: err }) };
}

export function deadlineExceeded(): TenantMeshError {
  return new TenantMeshError("TM_ERR_DEADLINE_EXCEEDED", "the backend did not answer within the tenant's response time limit");
}

/** Thrown inside a request body stream when it grows past the limit; the forwarder turns it into a 413 */
export class PayloadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = "PayloadTooLargeError";
  }
}

export function payloadTooLarge(limit: number, what = "request body"): TenantMeshError {
  return new TenantMeshError("TM_ERR_PAYLOAD_TOO_LARGE", `${what} is larger than the limit of ${limit} bytes`);
}
