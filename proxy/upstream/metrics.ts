import { Counter, Gauge, type Registry } from "prom-client";
import type { Backend } from "./backend.js";
import type { Cluster } from "./types.js";

const healthStates = ["healthy", "degraded", "unhealthy"] as const;

/**
 * Backend state as Prometheus series, read at scrape time from the live Backend objects of whatever clusters
 * `clusters()` returns then — so a reload's added and removed backends show up and disappear without
 * bookkeeping. Idempotent per registry: a second call finds the metrics registered and does nothing.
 */
export function registerBackendMetrics(registry: Registry, clusters: () => readonly Cluster[], now: () => number = Date.now): void {
  if (registry.getSingleMetric("tenantmesh_proxy_backend_health") !== undefined) return;
  const registers = [registry];
  const each = (fn: (cluster: Cluster, backend: Backend) => void): void => {
    for (const c of clusters()) for (const b of c.backends()) fn(c, b);
  };
  new Gauge({
    name: "tenantmesh_proxy_backend_health",
    help: "1 for the backend's current health state (healthy, degraded, unhealthy), 0 for the others",
    labelNames: ["cluster", "backend", "state"],
    registers,
    collect() {
      this.reset();
      each((c, b) => {
        for (const state of healthStates) this.set({ cluster: c.name, backend: b.id, state }, b.health === state ? 1 : 0);
      });
    },
  });
  new Gauge({
    name: "tenantmesh_proxy_backend_in_flight_requests",
    help: "Requests in flight on the backend",
    labelNames: ["cluster", "backend"],
    registers,
    collect() {
      this.reset();
      each((c, b) => this.set({ cluster: c.name, backend: b.id }, b.inFlight));
    },
  });
  new Gauge({
    name: "tenantmesh_proxy_backend_capacity",
    help: "Concurrent requests the backend advertises",
    labelNames: ["cluster", "backend"],
    registers,
    collect() {
      this.reset();
      each((c, b) => this.set({ cluster: c.name, backend: b.id }, b.capacity));
    },
  });
  new Gauge({
    name: "tenantmesh_proxy_backend_ejected",
    help: "1 while passive outlier detection has the backend ejected",
    labelNames: ["cluster", "backend"],
    registers,
    collect() {
      this.reset();
      const t = now();
      each((c, b) => this.set({ cluster: c.name, backend: b.id }, b.ejectedUntil > t ? 1 : 0));
    },
  });
  new Counter({
    name: "tenantmesh_proxy_backend_ejections_total",
    help: "Times passive outlier detection ejected the backend (since it joined its cluster)",
    labelNames: ["cluster", "backend"],
    registers,
    collect() {
      this.reset();
      each((c, b) => this.inc({ cluster: c.name, backend: b.id }, ejectionsOf(c, b)));
    },
  });
}

/** Ejection count where the cluster keeps one (UpstreamCluster does; the Cluster contract does not require it) */
function ejectionsOf(cluster: Cluster, backend: Backend): number {
  const withCount = cluster as Cluster & { ejections?: (b: Backend) => number };
  return typeof withCount.ejections === "function" ? withCount.ejections(backend) : 0;
}
