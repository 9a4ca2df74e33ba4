/** The performance monitor: window storage, metrics and isolation reports, alerts, and the MonitorService slice */
export { createMonitorSlice, monitorSlice, rollupWindows, type MonitorSliceOptions } from "./slice.js";
export { monitorServiceImplementation, MonitorServiceService } from "./grpc.js";
export { evaluateAlerts } from "./alerts.js";
export { defaultAlertConfig, evaluateAlertRules, type AlertCondition, type AlertConfig, type AlertInput, type AlertKind, type QuotaUse } from "./alert-rules.js";
export { defaultIsolationRules, isolationReport, type IsolationInput, type IsolationRules } from "./isolation.js";
export { Aggregate, bucketOf, type ClusterWindowRow, type WindowRow } from "./model.js";
export { checkReport, isolation, listTenantMetrics, tenantMetrics } from "./service.js";
export { downsample, windowRows } from "./store.js";
