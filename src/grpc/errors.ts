import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { TenantMeshError, toTenantMeshError } from "../errors/index.js";
import type { Logger } from "../log/index.js";

/**
 * The control plane's one place where errors become gRPC statuses: catalogue errors keep their code and
 * message (plus `tm-error-code`, violations and retry hints in trailers); anything else is logged with its
 * stack and answered as INTERNAL with no detail.
 */
export function toServiceError(err: unknown, log: Logger): Partial<ServiceError> {
  const tmError = toTenantMeshError(err);
  if (tmError.code === "TM_ERR_INTERNAL") log.error({ err }, "internal error");
  else if (tmError.code === "TM_ERR_DATABASE_UNAVAILABLE") log.warn({ err: (err as Error).message }, "database unavailable");
  return serviceErrorOf(tmError);
}

const asciiJson = (value: unknown): string =>
  JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

export function serviceErrorOf(error: TenantMeshError): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set("tm-error-code", error.code);
  // Metadata values must be ASCII: escape the rest as JSON \u sequences, which any JSON parser reads back.
  if (error.violations.length > 0) metadata.set("tm-violations", asciiJson(error.violations));
  if (error.retryAfterSeconds !== undefined) {
    metadata.set("retry-after", String(error.retryAfterSeconds));
    metadata.set("grpc-retry-pushback-ms", String(Math.round(error.retryAfterSeconds * 1000)));
  }
  return { code: error.grpcStatus as status, details: error.message, metadata };
}

/** Client side: the catalogue code of a failed call, when the server sent one */
export function errorCodeOf(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "metadata" in err && err.metadata instanceof Metadata) {
    const v = err.metadata.get("tm-error-code")[0];
    return typeof v === "string" ? v : undefined;
  }
  return undefined;
}

export { TenantMeshError };
