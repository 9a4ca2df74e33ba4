/**
 * The proxy's in-memory usage counts between flushes: one cell per tenant, resource type and hour, so a flush
 * becomes a few events per tenant instead of one per request. Also keeps, per tenant, everything counted since
 * start: the quota view subtracts what the control plane has acknowledged from it to know what is still in
 * flight.
 */

/** Resource types the proxy counts: billed `api_calls` and `compute` (backend ms), unbilled refusals */
export type ProxyResource = "api_calls" | "compute" | "rejected_calls" | "throttled_calls";

/** One aggregated usage event, ready for RecordUsage */
export interface CountedEvent {
  tenantId: string;
  resourceType: ProxyResource;
  amount: number;
  /** The latest request counted in the cell (inside the cell's hour, never in the future) */
  occurredAtMs: number;
}

const HOUR_MS = 3_600_000;

export class UsageCounter {
  #cells = new Map<string, CountedEvent>();
  readonly #counted = new Map<string, Map<ProxyResource, number>>();

  /** Adds `amount` of `resource` for a request of `tenantId` that finished at `atMs` */
  add(tenantId: string, resource: ProxyResource, amount: number, atMs: number): void {
    if (amount <= 0) return;
    const key = `${tenantId}|${resource}|${Math.floor(atMs / HOUR_MS)}`;
    const cell = this.#cells.get(key);
    if (cell) {
      cell.amount += amount;
      if (atMs > cell.occurredAtMs) cell.occurredAtMs = atMs;
    } else {
      this.#cells.set(key, { tenantId, resourceType: resource, amount, occurredAtMs: atMs });
    }
    let totals = this.#counted.get(tenantId);
    if (!totals) this.#counted.set(tenantId, (totals = new Map()));
    totals.set(resource, (totals.get(resource) ?? 0) + amount);
  }

  /** Takes every cell counted since the last drain */
  drain(): CountedEvent[] {
    const cells = [...this.#cells.values()];
    this.#cells = new Map();
    return cells;
  }

  /** Everything of `resource` counted for the tenant since start */
  counted(tenantId: string, resource: ProxyResource): number {
    return this.#counted.get(tenantId)?.get(resource) ?? 0;
  }

  /** Cells waiting for the next drain */
  get pending(): number {
    return this.#cells.size;
  }
}
