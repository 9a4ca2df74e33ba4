import { status } from "@grpc/grpc-js";

/**
 * The one error catalogue of tenantmesh. Every expected failure has a stable code, the gRPC status it becomes
 * on the control plane's wire, and the HTTP status it becomes in the proxy and the portal. `docs/errors.md`
 * documents every code; a test fails when one is missing there.
 */
export const errorCatalogue = {
  TM_ERR_INVALID_ARGUMENT: { grpc: status.INVALID_ARGUMENT, http: 400, title: "A field of the request is invalid" },
  TM_ERR_INVALID_CONFIG: { grpc: status.INVALID_ARGUMENT, http: 500, title: "The configuration is invalid" },
  TM_ERR_UNAUTHENTICATED: { grpc: status.UNAUTHENTICATED, http: 401, title: "No valid credential was presented" },
  TM_ERR_PERMISSION_DENIED: { grpc: status.PERMISSION_DENIED, http: 403, title: "The principal may not do this" },
  TM_ERR_TENANT_INACTIVE: { grpc: status.PERMISSION_DENIED, http: 403, title: "The tenant is not active" },
  TM_ERR_MODULE_DISABLED: { grpc: status.PERMISSION_DENIED, http: 403, title: "The module is not enabled for the tenant" },
  TM_ERR_NETWORK_RESTRICTED: { grpc: status.PERMISSION_DENIED, http: 403, title: "The caller's address is outside the tenant's network restrictions" },
  TM_ERR_NOT_FOUND: { grpc: status.NOT_FOUND, http: 404, title: "The resource does not exist" },
  TM_ERR_ALREADY_EXISTS: { grpc: status.ALREADY_EXISTS, http: 409, title: "The resource already exists" },
  TM_ERR_FAILED_PRECONDITION: { grpc: status.FAILED_PRECONDITION, http: 409, title: "The resource is not in a state that allows this" },
  TM_ERR_QUOTA_EXCEEDED: { grpc: status.RESOURCE_EXHAUSTED, http: 429, title: "A tenant quota is exhausted" },
  TM_ERR_RATE_LIMITED: { grpc: status.RESOURCE_EXHAUSTED, http: 429, title: "The tenant's rate limit is exceeded" },
  TM_ERR_DEADLINE_EXCEEDED: { grpc: status.DEADLINE_EXCEEDED, http: 504, title: "The operation did not finish in time" },
  TM_ERR_UNAVAILABLE: { grpc: status.UNAVAILABLE, http: 503, title: "A dependency is unavailable; retry later" },
  TM_ERR_DATABASE_UNAVAILABLE: { grpc: status.UNAVAILABLE, http: 503, title: "The database is unreachable; retry later" },
  TM_ERR_NO_ROUTE: { grpc: status.UNIMPLEMENTED, http: 404, title: "No route serves this path or gRPC method" },
  TM_ERR_PAYLOAD_TOO_LARGE: { grpc: status.RESOURCE_EXHAUSTED, http: 413, title: "The request body or message is larger than allowed" },
  TM_ERR_HEADERS_TOO_LARGE: { grpc: status.RESOURCE_EXHAUSTED, http: 431, title: "The request headers are larger than allowed" },
  TM_ERR_REQUEST_TIMEOUT: { grpc: status.DEADLINE_EXCEEDED, http: 408, title: "The client sent its request too slowly" },
  TM_ERR_MALFORMED_REQUEST: { grpc: status.INTERNAL, http: 400, title: "The request violates its wire protocol" },
  TM_ERR_BAD_GATEWAY: { grpc: status.UNAVAILABLE, http: 502, title: "The upstream backend failed mid-request" },
  TM_ERR_DECRYPTION_FAILED: { grpc: status.INVALID_ARGUMENT, http: 400, title: "The ciphertext cannot be decrypted with this tenant's keys and context" },
  TM_ERR_KEY_RETIRED: { grpc: status.FAILED_PRECONDITION, http: 409, title: "The ciphertext's key version is below the minimum decryption version" },
  TM_ERR_KEY_DESTROYED: { grpc: status.FAILED_PRECONDITION, http: 410, title: "The tenant's keys were destroyed (crypto-shredded)" },
  TM_ERR_INTERNAL: { grpc: status.INTERNAL, http: 500, title: "An internal error occurred" },
} as const satisfies Record<string, { grpc: status; http: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export const errorCodes = Object.keys(errorCatalogue) as ErrorCode[];
