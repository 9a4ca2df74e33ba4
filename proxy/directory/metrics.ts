import { Gauge, type Registry } from "prom-client";
import type { TenantDirectory } from "./types.js";

const sources = ["feed", "last-known-good", "empty"] as const;

/** Seconds since the directory last applied a snapshot or change; undefined when it never has */
export function directoryStaleness(directory: TenantDirectory, now: number): number | undefined {
  const at = directory.state().lastUpdateAt;
  return at === undefined ? undefined : Math.max(0, (now - at) / 1000);
}

/**
 * The tenant directory's health as Prometheus series, read at scrape time: where its entries came from,
 * whether the feed is synced, how stale it is, its version and size. Idempotent per registry.
 */
export function registerDirectoryMetrics(registry: Registry, directory: TenantDirectory, now: () => number = Date.now): void {
  if (registry.getSingleMetric("tenantmesh_proxy_directory_staleness_seconds") !== undefined) return;
  const registers = [registry];
  new Gauge({
    name: "tenantmesh_proxy_directory_staleness_seconds",
    help: "Seconds since the tenant directory last applied a snapshot or change (-1 when it never has)",
    registers,
    collect() {
      this.set(directoryStaleness(directory, now()) ?? -1);
    },
  });
  new Gauge({
    name: "tenantmesh_proxy_directory_source",
    help: "1 for where the tenant directory's entries came from (feed, last-known-good, empty), 0 for the others",
    labelNames: ["source"],
    registers,
    collect() {
      const current = directory.state().source;
      for (const source of sources) this.set({ source }, source === current ? 1 : 0);
    },
  });
  new Gauge({
    name: "tenantmesh_proxy_directory_synced",
    help: "1 while the WatchTenants feed is connected and caught up",
    registers,
    collect() {
      this.set(directory.state().synced ? 1 : 0);
    },
  });
  new Gauge({
    name: "tenantmesh_proxy_directory_version",
    help: "The last feed version the tenant directory applied",
    registers,
    collect() {
      this.set(Number(directory.state().version));
    },
  });
  new Gauge({
    name: "tenantmesh_proxy_directory_tenants",
    help: "Tenants in the directory",
    registers,
    collect() {
      let n = 0;
      for (const _ of directory.tenants()) n++;
      this.set(n);
    },
  });
}
