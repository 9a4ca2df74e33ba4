import { TenantMeshError } from "./tenantmesh-error.js";

/** Node/pg error codes that mean "the database is not there right now", not a bug */
const connectionErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
]);

function errorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") return err.code;
  return undefined;
}

function isConnectionFailure(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined && connectionErrorCodes.has(code)) return true;
  const message = err instanceof Error ? err.message : "";
  return (
    /Knex: Timeout acquiring a connection/.test(message) ||
    /Connection terminated/.test(message) ||
    /timeout exceeded when trying to connect/.test(message) ||
    (err instanceof AggregateError && err.errors.some(isConnectionFailure))
  );
}

/**
 * Turns anything thrown into a TenantMeshError: catalogue errors pass through, database outages become
 * TM_ERR_DATABASE_UNAVAILABLE, constraint violations become their catalogue codes, anything else is INTERNAL
 * (its detail is for the log, never for the caller).
 */
export function toTenantMeshError(err: unknown): TenantMeshError {
  if (err instanceof TenantMeshError) return err;
  if (isConnectionFailure(err)) {
    return new TenantMeshError("TM_ERR_DATABASE_UNAVAILABLE", "the database is unreachable; retry later", { cause: err });
  }
  switch (errorCode(err)) {
    case "23505":
      return new TenantMeshError("TM_ERR_ALREADY_EXISTS", "the resource already exists", { cause: err });
    case "42501":
      return new TenantMeshError("TM_ERR_PERMISSION_DENIED", "permission denied", { cause: err });
    case "23514":
    case "22P02":
    case "23502":
      return new TenantMeshError("TM_ERR_INVALID_ARGUMENT", "a value violates a constraint", { cause: err });
    default:
      return new TenantMeshError("TM_ERR_INTERNAL", "internal error", { cause: err });
  }
}
