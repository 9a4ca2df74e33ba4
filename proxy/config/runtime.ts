import { silentLogger, type Logger } from "../../src/log/index.js";
import { Backend } from "../upstream/backend.js";
import { sameDeclaration, UpstreamCluster } from "../upstream/cluster.js";
import { HealthChecker } from "../upstream/health-check.js";
import { grpcProbe, httpProbe, type Probe } from "../upstream/probes.js";
import type { RouteTable } from "../upstream/types.js";
import type { ClusterConfig, ProxyConfig } from "./load.js";
import { createRouteTable } from "./routes.js";

/** What one valid configuration runs as: its clusters (live backends) and the route table over them */
export interface ProxyRuntime {
  readonly config: ProxyConfig;
  readonly routes: RouteTable;
  readonly clusters: ReadonlyMap<string, UpstreamCluster>;
}

export interface RuntimeOptions {
  readonly logger?: Logger;
  /** The active check for a cluster's backends; default HTTP GET `health_check.path` or gRPC health */
  readonly probeFor?: (cluster: ClusterConfig) => Probe;
}

/** The probe a cluster's config asks for */
export function defaultProbe(cluster: ClusterConfig): Probe {
  return cluster.protocol === "grpc" ? grpcProbe(cluster.healthCheck?.service) : httpProbe(cluster.healthCheck?.path);
}

/**
 * Turns configurations into running clusters and keeps their health checks in step. `apply` builds everything
 * for the new configuration first — new cluster objects over Backend objects reused wherever a backend's
 * declaration is unchanged, and the route table — and only then swaps one reference, so a request sees the
 * old table or the new one, never a mix. Reused Backends keep their in-flight counts, health and ejection;
 * their health checks carry on (counters too) when the cluster's check settings did not change. Backends that
 * left stop being checked; requests still in flight on them finish and release as usual.
 */
export class RuntimeManager {
  private runtime: ProxyRuntime | undefined;
  private readonly checkers = new Map<string, { checker: HealthChecker; signature: string }>();
  private readonly log: Logger;

  constructor(private readonly options: RuntimeOptions = {}) {
    this.log = options.logger ?? silentLogger;
  }

  /** The running configuration; throws before the first `apply` */
  current(): ProxyRuntime {
    if (this.runtime === undefined) throw new Error("no proxy configuration applied yet");
    return this.runtime;
  }

  /** Builds and swaps in `config`; throws, leaving the running one untouched, if it cannot be built */
  apply(config: ProxyConfig): ProxyRuntime {
    const previous = this.runtime?.clusters;
    const clusters = new Map<string, UpstreamCluster>();
    for (const c of config.clusters) {
      const old = previous?.get(c.name);
      const kept = new Map((old?.backends() ?? []).map((b) => [b.id, b]));
      const backends = c.backends.map((init) => {
        const b = kept.get(init.id);
        return b !== undefined && sameDeclaration(b, init) ? b : new Backend(init);
      });
      clusters.set(c.name, new UpstreamCluster({ name: c.name, strategy: c.strategy, protocol: c.protocol, backends, outlier: c.outlier }));
    }
    const routes = createRouteTable(config.routes, clusters.values());
    const next: ProxyRuntime = Object.freeze({ config, routes, clusters });
    this.runtime = next;
    this.syncHealthChecks(config);
    return next;
  }

  /** Stops every health check */
  close(): void {
    for (const { checker } of this.checkers.values()) checker.close();
    this.checkers.clear();
  }

  private syncHealthChecks(config: ProxyConfig): void {
    const clusters = this.current().clusters;
    for (const [name, entry] of this.checkers) {
      if (!clusters.has(name)) {
        entry.checker.close();
        this.checkers.delete(name);
      }
    }
    for (const c of config.clusters) {
      const cluster = clusters.get(c.name)!;
      const existing = this.checkers.get(c.name);
      if (c.healthCheck === undefined) {
        existing?.checker.close();
        this.checkers.delete(c.name);
        // Nothing will ever mark them healthy again, so an unchecked backend counts as healthy
        for (const b of cluster.backends()) b.health = "healthy";
        continue;
      }
      const signature = JSON.stringify([c.protocol, c.healthCheck]);
      if (existing !== undefined && existing.signature === signature) {
        existing.checker.sync(cluster.backends());
        continue;
      }
      existing?.checker.close();
      const checker = new HealthChecker((this.options.probeFor ?? defaultProbe)(c), c.healthCheck, { logger: this.log, cluster: c.name });
      this.checkers.set(c.name, { checker, signature });
      checker.sync(cluster.backends());
    }
  }
}
