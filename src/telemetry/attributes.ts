/**
 * Span attribute and baggage names of tenantmesh. The `tenant.*` names are a contract (dashboards and the
 * monitor read them): every server span of the control plane, the proxy and the KYB service carries
 * `tenant.id`, and `tenant.plan` / `tenant.priority` where they are known.
 */
export const TENANT_ID = "tenant.id";
export const TENANT_PLAN = "tenant.plan";
export const TENANT_PRIORITY = "tenant.priority";

/** The baggage members the proxy sets for the hops behind it (clients' own `tenant.*` members are dropped) */
export const tenantBaggageKeys = [TENANT_ID, TENANT_PLAN, TENANT_PRIORITY] as const;

/** Proxy request span attributes */
export const PROXY_BACKEND = "tenantmesh.backend";
export const PROXY_STRATEGY = "tenantmesh.strategy";
export const PROXY_ROUTE = "tenantmesh.route";
/** success | http_5xx | connect_failure | timeout | reset | rejected | cancelled */
export const PROXY_OUTCOME = "tenantmesh.outcome";
/** The catalogue code of the failure that ended the request (TM_ERR_…) */
export const PROXY_ERROR_CODE = "tenantmesh.error_code";
/** True when the throttle refused the request (absent otherwise) */
export const PROXY_THROTTLED = "tenantmesh.throttled";
/** Milliseconds the throttle held the request back, and the request waited in a dispatch queue */
export const PROXY_THROTTLED_MS = "tenantmesh.throttled_ms";
export const PROXY_QUEUED_MS = "tenantmesh.queued_ms";

/** Instrumentation scope names, one per component (one process may run several: `tenantmesh up`) */
export const scopes = {
  proxy: "tenantmesh.proxy",
  controlPlane: "tenantmesh.control-plane",
  kyb: "tenantmesh.kyb",
} as const;
