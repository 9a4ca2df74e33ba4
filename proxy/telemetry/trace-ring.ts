import type { RequestSummary } from "./summary.js";

export interface TraceRingOptions {
  /** Entries kept per tenant (default 100): the oldest goes first */
  readonly perTenant?: number;
  /** Tenants kept at most (default 10,000): the tenant least recently added to goes first */
  readonly maxTenants?: number;
  /** A request is slow from this duration, for tenants whose own threshold is higher (default 1,000 ms) */
  readonly slowMs?: number;
  /** The tenant's own slow threshold: 80% of its max_response_time (the latency alert's), when known */
  readonly tenantSlowMs?: (tenantId: string) => number | undefined;
}

/** What `tenantmesh traces` shows per request */
export interface TraceEntry {
  readonly traceId: string;
  readonly spanId: string;
  readonly requestId: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly outcome: string;
  readonly errorCode: string;
  /** slow | failed | throttled */
  readonly reason: string;
  readonly backend: string;
  readonly queuedMs: number;
}

/**
 * A bounded in-memory ring of each tenant's recent slow and failed requests with their trace ids, served by
 * the admin API (`GET /admin/traces?tenant=…`) for `tenantmesh traces` when no collector is configured.
 * Bounded twice: entries per tenant and tenants, so memory stays fixed whatever the traffic.
 */
export class TraceRing {
  readonly #perTenant: number;
  readonly #maxTenants: number;
  readonly #slowMs: number;
  readonly #tenantSlowMs: ((tenantId: string) => number | undefined) | undefined;
  /** tenant → ring buffer; `next` is where the next entry goes */
  readonly #rings = new Map<string, { entries: TraceEntry[]; next: number }>();

  constructor(options: TraceRingOptions = {}) {
    this.#perTenant = options.perTenant ?? 100;
    this.#maxTenants = options.maxTenants ?? 10_000;
    this.#slowMs = options.slowMs ?? 1_000;
    this.#tenantSlowMs = options.tenantSlowMs;
  }

  observe(r: RequestSummary): void {
    if (r.tenantId === undefined) return;
    const reason = r.throttled ? "throttled" : r.failed ? "failed" : r.durationMs >= this.#slowThreshold(r.tenantId) ? "slow" : undefined;
    if (reason === undefined) return;
    let ring = this.#rings.get(r.tenantId);
    if (ring === undefined) {
      if (this.#rings.size >= this.#maxTenants) {
        const oldest = this.#rings.keys().next();
        if (oldest.done !== true) this.#rings.delete(oldest.value);
      }
      ring = { entries: [], next: 0 };
      this.#rings.set(r.tenantId, ring);
    }
    const entry: TraceEntry = {
      traceId: r.traceId,
      spanId: r.spanId,
      requestId: r.requestId,
      endedAt: new Date(r.endedAt).toISOString(),
      durationMs: Math.round(r.durationMs * 1_000) / 1_000,
      method: r.method,
      path: r.path,
      status: r.status,
      outcome: r.outcome,
      errorCode: r.errorCode,
      reason,
      backend: r.backend,
      queuedMs: Math.round(r.queuedMs * 1_000) / 1_000,
    };
    if (ring.entries.length < this.#perTenant) ring.entries.push(entry);
    else ring.entries[ring.next] = entry;
    ring.next = (ring.next + 1) % this.#perTenant;
  }

  /** A tenant's entries, newest first, at most `limit` */
  list(tenantId: string, limit = this.#perTenant): TraceEntry[] {
    const ring = this.#rings.get(tenantId);
    if (ring === undefined) return [];
    const { entries, next } = ring;
    const ordered = entries.length < this.#perTenant ? [...entries] : [...entries.slice(next), ...entries.slice(0, next)];
    return ordered.reverse().slice(0, Math.max(0, limit));
  }

  #slowThreshold(tenantId: string): number {
    const own = this.#tenantSlowMs?.(tenantId);
    return own !== undefined && own > 0 ? Math.min(own, this.#slowMs) : this.#slowMs;
  }
}
