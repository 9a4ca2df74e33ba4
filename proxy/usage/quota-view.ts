/**
 * The monthly flow quotas the proxy enforces where the usage happens: API calls (where the plan caps them) and
 * compute (compute_quota_hours). The control plane's figure comes back with every acknowledged usage batch
 * (RecordUsage's `return_quotas`) or from CheckQuota on a tenant's first request; the proxy adds what it has
 * counted since that is not acknowledged yet. So a tenant is refused within one flush of reaching its limit,
 * with every replica's acknowledged usage included. A tenant this proxy has never synced is admitted while its
 * first CheckQuota is in flight (documented: the overshoot is bounded by that one round trip).
 */
import { TenantMeshError, withoutStack } from "../../src/errors/index.js";
import type { QuotaStatus } from "../../src/gen/tenantmesh/v1/quota.js";
import type { TenantEntry } from "../directory/types.js";
import type { Throttle, ThrottleDecision } from "../pipeline/throttle.js";
import type { ProxyResource, UsageCounter } from "./counter.js";

interface Known {
  quota: string;
  limited: boolean;
  limit: number;
  /** The control plane's figure when it answered */
  used: number;
  /** What this proxy had counted and seen acknowledged at that moment */
  ackedAtSync: number;
  periodEndMs: number;
}

const enforced: readonly ProxyResource[] = ["api_calls", "compute"];

export class QuotaView {
  readonly #known = new Map<string, Known>();
  /** Per tenant and resource: amounts in batches the control plane acknowledged */
  readonly #acked = new Map<string, number>();
  readonly #asked = new Map<string, number>();

  constructor(
    private readonly counter: UsageCounter,
    private readonly now: () => number,
    /** Asks the control plane for a tenant's quota (CheckQuota), answering through `update` */
    private readonly ask: (tenantId: string, resource: ProxyResource) => void,
  ) {}

  /** Records that batches with these amounts were applied (or were replays of applied ones) */
  acknowledge(tenantId: string, resource: ProxyResource, amount: number): void {
    const key = `${tenantId}|${resource}`;
    this.#acked.set(key, (this.#acked.get(key) ?? 0) + amount);
  }

  /** The control plane's view of a quota; call after `acknowledge` for the batch it answered */
  update(status: QuotaStatus): void {
    const resource = status.resourceType as ProxyResource;
    if (!enforced.includes(resource)) return;
    const key = `${status.tenantId}|${resource}`;
    this.#known.set(key, {
      quota: status.quota,
      limited: status.limited,
      limit: Number(status.limit),
      used: Number(status.used),
      ackedAtSync: this.#acked.get(key) ?? 0,
      periodEndMs: status.periodEnd?.getTime() ?? 0,
    });
  }

  /** The refusal for a tenant at or over a monthly quota; undefined when it may go on */
  refusal(tenantId: string): TenantMeshError | undefined {
    const now = this.now();
    for (const resource of enforced) {
      const key = `${tenantId}|${resource}`;
      const known = this.#known.get(key);
      if (known === undefined || known.periodEndMs <= now) {
        this.#askOnce(tenantId, resource, now);
        continue;
      }
      if (!known.limited) continue;
      // Counted here since the sync and not yet acknowledged: not in the control plane's figure.
      const inFlight = this.counter.counted(tenantId, resource) - (this.#acked.get(key) ?? 0);
      const used = known.used + (this.#acked.get(key) ?? 0) - known.ackedAtSync + inFlight;
      if (used >= known.limit) {
        const unit = resource === "compute" ? " (ms)" : "";
        return withoutStack(() => new TenantMeshError("TM_ERR_QUOTA_EXCEEDED", `quota ${known.quota} exhausted: limit ${known.limit}, used ${used}${unit}`, {
          retryAfterSeconds: Math.max(1, Math.ceil((known.periodEndMs - now) / 1000)),
        }));
      }
    }
    return undefined;
  }

  /** One CheckQuota per tenant and resource per minute at most, while the view lacks it */
  #askOnce(tenantId: string, resource: ProxyResource, now: number): void {
    const key = `${tenantId}|${resource}`;
    if ((this.#asked.get(key) ?? -Infinity) > now - 60_000) return;
    this.#asked.set(key, now);
    this.ask(tenantId, resource);
  }

  /** A Throttle that refuses tenants over a monthly quota before `inner` spends any rate-limit token on them */
  gate(inner: Throttle): Throttle {
    return {
      admit: (tenant: TenantEntry, ctx): ThrottleDecision | Promise<ThrottleDecision> => {
        const error = this.refusal(tenant.id);
        if (error) return { kind: "reject", error, retryAfterSeconds: error.retryAfterSeconds ?? 60 };
        return inner.admit(tenant, ctx);
      },
    };
  }
}
