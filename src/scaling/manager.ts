import type { Clock } from "../auth/clock.js";
import type { Database } from "../db/index.js";
import type { Logger } from "../log/index.js";
import { Aggregate } from "../monitor/model.js";
import { clusterRows, windowRows } from "../monitor/store.js";
import { runExecutor, type ExecutorOutcome, type ScaleChange, type ScalingExecutor } from "./executor.js";
import { ProxyShareExecutor } from "./proxy-share-executor.js";
import { decide, defaultScalingConfig, type ScalingConfig, type ScalingDecision } from "./scaler.js";
import { activeScalers, insertScalingEvent, saveIdleStates, saveState, type ScalerRow, type ScalingEventRow } from "./store.js";

export interface ScalingManagerOptions {
  readonly db: Database;
  readonly clock: Clock;
  readonly log: Logger;
  readonly config?: ScalingConfig;
  /** Executors run after the built-in proxy-share one, in order (e.g. KubernetesDeploymentExecutor) */
  readonly executors?: readonly ScalingExecutor[];
  /** The metrics an evaluation looks at: the windows of the last `lookbackMs` (default 60 s) */
  readonly lookbackMs?: number;
}

/** What one evaluation measured for a tenant */
export interface Utilization {
  readonly utilization: number;
  readonly requests: number;
  readonly busyMs: number;
  readonly unitCapacity: number;
  /** Slots allocated to the tenant: its scale × the slots of one unit */
  readonly capacity: number;
  /** Proxy-milliseconds the windows cover (sum over reporting proxies) */
  readonly coveredMs: number;
  readonly p99Ms: number;
}

export interface Evaluation {
  readonly tenantId: string;
  readonly decision: ScalingDecision;
  readonly measured: Utilization;
  readonly event: ScalingEventRow | undefined;
}

/**
 * The seed's DynamicPerformanceScalingManager: every evaluation reads each active tenant's recent windows,
 * computes its utilization — the mean requests in flight (busy time / covered time, Little's law) against
 * its allocated capacity (scale × one unit's slots) — decides with the seed's TenantScaler rules, has the
 * executors carry a scale change out, and stores the decision as a scaling event with the metrics behind it.
 */
export class ScalingManager {
  readonly #executors: readonly ScalingExecutor[];
  readonly #config: ScalingConfig;
  readonly #lookbackMs: number;

  constructor(private readonly options: ScalingManagerOptions) {
    this.#executors = [new ProxyShareExecutor(options.db), ...(options.executors ?? [])];
    this.#config = options.config ?? defaultScalingConfig;
    this.#lookbackMs = options.lookbackMs ?? 60_000;
  }

  async evaluate(): Promise<Evaluation[]> {
    const now = this.options.clock.now();
    const from = new Date(now - this.#lookbackMs);
    const to = new Date(now);
    const { scalers, windows, clusters } = await this.options.db.asPlatform(async (trx) => ({
      scalers: await activeScalers(trx),
      windows: await windowRows(trx, from, to),
      clusters: await clusterRows(trx, from, to),
    }));
    // Covered time: each proxy's cluster windows say how long it was reporting; absent any, the lookback.
    const coveredBySource = new Map<string, number>();
    for (const c of clusters) coveredBySource.set(c.source, (coveredBySource.get(c.source) ?? 0) + c.window_seconds * 1_000);
    const coveredMs = coveredBySource.size === 0 ? this.#lookbackMs : [...coveredBySource.values()].reduce((a, b) => a + b, 0);
    const perTenant = new Map<string, Aggregate>();
    for (const w of windows) {
      let a = perTenant.get(w.tenant_id);
      if (a === undefined) perTenant.set(w.tenant_id, (a = new Aggregate()));
      a.add(w);
    }
    const results: Evaluation[] = [];
    for (const s of scalers) {
      const agg = perTenant.get(s.id);
      const measured = measure(s, agg, coveredMs);
      // The seed's rule: no metrics, no decision. An idle tenant keeps its scale until traffic says otherwise.
      if (agg === undefined) {
        const decision: ScalingDecision = { action: "none", target: s.target_scale ?? s.scale_current, reason: `metrics not available: no traffic in the last ${Math.round(this.#lookbackMs / 1_000)} s` };
        results.push({ tenantId: s.id, decision, measured, event: undefined });
        continue;
      }
      results.push(await this.#apply(s, measured, now));
    }
    // The many tenants with nothing to do get their evaluation recorded in one transaction.
    const idle = results.filter((r) => r.decision.action === "none");
    if (idle.length > 0) {
      const evaluatedAt = new Date(now);
      await this.options.db.asPlatform((trx) =>
        saveIdleStates(
          trx,
          idle.map((r) => ({ tenantId: r.tenantId, update: { targetScale: r.decision.target, utilization: r.measured.utilization, decision: r.decision.reason, evaluatedAt } })),
        ),
      );
    }
    return results;
  }

  async #apply(s: ScalerRow, measured: Utilization, now: number): Promise<Evaluation> {
    const scaler = { tenantId: s.id, currentScale: s.scale_current, minScale: s.scale_min, maxScale: s.scale_max, lastScalingAt: s.last_scaled_at?.getTime() };
    const decision = decide(scaler, measured.utilization, now, this.#config);
    const at = new Date(now);
    if (decision.action === "none") return { tenantId: s.id, decision, measured, event: undefined };
    const change: ScaleChange = { tenantId: s.id, slug: s.slug, direction: decision.action, from: decision.from, to: decision.to };
    const outcomes: ExecutorOutcome[] = [];
    for (const e of this.#executors) outcomes.push(await runExecutor(e, change));
    const moved = outcomes[0]?.ok === true;
    if (!moved) this.options.log.warn({ tenant_id: s.id, outcome: outcomes[0] }, "scaling step not applied");
    else this.options.log.info({ tenant_id: s.id, from: decision.from, to: decision.to, reason: decision.reason }, "tenant scaled");
    const event = await this.options.db.withTenant(s.id, async (trx) => {
      await saveState(trx, s.id, {
        targetScale: decision.target,
        utilization: measured.utilization,
        decision: `${decision.action} ${decision.from} → ${decision.to}: ${decision.reason}`,
        evaluatedAt: at,
        ...(moved ? { scaled: { at, direction: decision.action } } : {}),
      });
      return insertScalingEvent(trx, {
        tenant_id: s.id,
        direction: decision.action,
        from_scale: decision.from,
        to_scale: decision.to,
        target_scale: decision.target,
        utilization: measured.utilization,
        reason: decision.reason,
        metrics: { ...measured, lookback_ms: this.#lookbackMs },
        executors: outcomes,
        created_at: at,
      });
    });
    return { tenantId: s.id, decision, measured, event };
  }
}

/** Utilization = mean in flight / allocated slots; a tenant with no traffic (or no known unit size) is at 0 */
export function measure(s: Pick<ScalerRow, "scale_current">, agg: Aggregate | undefined, coveredMs: number): Utilization {
  const unitCapacity = agg?.unitCapacity ?? 0;
  const capacity = s.scale_current * unitCapacity;
  const busyMs = agg?.busyMs ?? 0;
  const utilization = capacity > 0 && coveredMs > 0 ? busyMs / (coveredMs * capacity) : 0;
  return { utilization, requests: agg?.requests ?? 0, busyMs, unitCapacity, capacity, coveredMs, p99Ms: agg?.histogram.percentileMs(99) ?? 0 };
}
