/** Upstream clusters: backend state, the cluster over a balancer, active health checks, outlier detection */
export { Backend, type BackendHealth, type BackendInit, type ReleaseSlot } from "./backend.js";
export type { Cluster, ResolvedRoute, RouteTable, UpstreamOutcome, UpstreamProtocol } from "./types.js";
export { configStrategyNames, sameDeclaration, toStrategyName, UpstreamCluster, type ClusterInit, type ConfigStrategyName, type MembershipChange } from "./cluster.js";
export { HealthChecker, type HealthCheckOptions } from "./health-check.js";
export { grpcProbe, httpProbe, type Probe, type ProbeResult } from "./probes.js";
export { defaultOutlierOptions, OutlierDetector, type OutlierOptions } from "./outlier.js";
export { registerBackendMetrics } from "./metrics.js";
