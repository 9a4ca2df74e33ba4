import { createBalancer, isStrategyName, type Balancer, type BalancerOptions, type PickResult, type PickTenant, type StrategyName } from "../balancer/index.js";
import { Backend, type BackendInit } from "./backend.js";
import { OutlierDetector, type OutlierOptions } from "./outlier.js";
import type { Cluster, UpstreamOutcome, UpstreamProtocol } from "./types.js";

/** Strategy names as the config file spells them (snake_case, as the issue names them) */
export const configStrategyNames = ["round_robin", "least_connections", "tenant_affinity"] as const;
export type ConfigStrategyName = (typeof configStrategyNames)[number];

/** Either spelling of a strategy → the balancer registry's name, or undefined when it is neither */
export function toStrategyName(name: string): StrategyName | undefined {
  const kebab = name.replaceAll("_", "-");
  return isStrategyName(kebab) ? kebab : undefined;
}

/** How to build a cluster; health checking is attached separately (proxy/upstream/health-check.ts) */
export interface ClusterInit {
  readonly name: string;
  readonly strategy: StrategyName | ConfigStrategyName;
  readonly protocol: UpstreamProtocol;
  /** Declarations, or live Backend objects to adopt (a reload keeps in-flight state that way) */
  readonly backends: readonly (BackendInit | Backend)[];
  readonly outlier?: OutlierOptions;
  readonly balancer?: BalancerOptions;
}

/** What a membership change did, for whoever runs health checks on the members */
export interface MembershipChange {
  readonly added: readonly Backend[];
  readonly removed: readonly Backend[];
}

/**
 * A Cluster over live Backend objects: picks through the configured balancer, feeds outcomes to passive outlier
 * detection. Health and ejection are written on the Backend objects themselves, so they need no rebuild here;
 * only membership changes (`setBackends`) reach the balancer.
 */
export class UpstreamCluster implements Cluster {
  readonly name: string;
  readonly strategy: StrategyName;
  readonly protocol: UpstreamProtocol;
  readonly outlier: OutlierDetector;
  private members: readonly Backend[];
  private memberSet: ReadonlySet<Backend>;
  private readonly balancer: Balancer;
  /** Reused for every pick: balancers promise not to keep it, and the hot path then allocates nothing */
  private readonly request: { tenant: PickTenant; now: number } = { tenant: { id: "", priority: 1, scale: 1 }, now: 0 };

  constructor(init: ClusterInit) {
    const strategy = toStrategyName(init.strategy);
    if (strategy === undefined) throw new RangeError(`cluster ${init.name}: unknown strategy ${init.strategy}`);
    if (init.name === "") throw new RangeError("cluster name must not be empty");
    this.name = init.name;
    this.strategy = strategy;
    this.protocol = init.protocol;
    this.outlier = new OutlierDetector(init.outlier);
    this.members = Object.freeze(init.backends.map(toBackend));
    this.memberSet = new Set(this.members);
    this.balancer = createBalancer(strategy, this.members, init.balancer);
  }

  pick(tenant: PickTenant, now: number): PickResult {
    this.request.tenant = tenant;
    this.request.now = now;
    return this.balancer.pick(this.request);
  }

  backends(): readonly Backend[] {
    return this.members;
  }

  /** A backend that left the cluster while its request was in flight is ignored: it no longer counts for the cap */
  recordOutcome(backend: Backend, outcome: UpstreamOutcome, now: number): void {
    if (!this.memberSet.has(backend)) return;
    this.outlier.record(backend, outcome, now, this.members);
  }

  /** Times `backend` was ejected by outlier detection */
  ejections(backend: Backend): number {
    return this.outlier.ejections(backend);
  }

  /**
   * Replaces the membership. A declaration whose id, address, capacity and weight match a current backend keeps
   * that Backend (its in-flight counts and health); anything else is new. Throws, changing nothing, on duplicate
   * ids or an invalid declaration.
   */
  setBackends(next: readonly (BackendInit | Backend)[]): MembershipChange {
    const current = new Map(this.members.map((b) => [b.id, b]));
    const members = next.map((init) => {
      if (init instanceof Backend) return init;
      const kept = current.get(init.id);
      return kept !== undefined && sameDeclaration(kept, init) ? kept : new Backend(init);
    });
    this.balancer.update(members);
    const kept = new Set(members);
    const removed = this.members.filter((b) => !kept.has(b));
    const before = new Set(this.members);
    const added = members.filter((b) => !before.has(b));
    for (const b of removed) this.outlier.forget(b);
    this.members = Object.freeze(members);
    this.memberSet = kept;
    return { added, removed };
  }

  toJSON(): { name: string; strategy: StrategyName; protocol: UpstreamProtocol; backends: Array<ReturnType<Backend["toJSON"]> & { ejections: number }> } {
    return {
      name: this.name,
      strategy: this.strategy,
      protocol: this.protocol,
      backends: this.members.map((b) => ({ ...b.toJSON(), ejections: this.outlier.ejections(b) })),
    };
  }
}

/** True when a declaration describes exactly this backend, so a reload may keep it */
export function sameDeclaration(backend: Backend, init: BackendInit): boolean {
  return backend.id === init.id && backend.address === init.address && backend.capacity === init.capacity && backend.weight === (init.weight ?? 1);
}

function toBackend(init: BackendInit | Backend): Backend {
  return init instanceof Backend ? init : new Backend(init);
}
