/** What active health checks and passive outlier detection last concluded about a backend */
export type BackendHealth = "healthy" | "degraded" | "unhealthy";

/** How a backend is declared in a cluster's configuration */
export interface BackendInit {
  /** Stable identity; rendezvous hashing keys on it, so renaming a backend reshuffles its tenants */
  id: string;
  /** `host:port`; the balancer never parses it, so the same state serves HTTP/1.1 and h2c upstreams */
  address: string;
  /** Maximum concurrent requests the backend advertises (a positive integer) */
  capacity: number;
  /** Relative share of tenants for weighted rendezvous hashing (default 1, must be > 0) */
  weight?: number;
  health?: BackendHealth;
}

/**
 * Gives back the slot an `acquire` took. One-shot: the first call releases and returns true, every later call
 * is a no-op returning false, so a request that both errors and closes cannot free a slot twice and let the
 * backend run over capacity.
 */
export type ReleaseSlot = () => boolean;

/**
 * The live state of one upstream backend, after the seed's `Server` struct: identity, health, capacity and what
 * is in flight on it overall and per tenant. Balancers read it on every pick, so health and load changes need no
 * balancer rebuild; only membership changes do. Identity, capacity and weight are fixed: a backend whose
 * configuration changes is a new `Backend` and a membership change.
 */
export class Backend {
  readonly id: string;
  readonly address: string;
  readonly capacity: number;
  readonly weight: number;
  /** Written by health checking; `unhealthy` backends are never picked, `degraded` ones only as a fallback */
  health: BackendHealth;
  /** Epoch ms until which passive outlier detection has ejected the backend (0: not ejected) */
  ejectedUntil = 0;

  private inFlightCount = 0;
  /** Tenants with requests in flight here; entries are deleted at zero so the map stays as small as the load */
  private readonly tenantInFlight = new Map<string, number>();

  constructor(init: BackendInit) {
    if (init.id === "") throw new RangeError("backend id must not be empty");
    if (!Number.isInteger(init.capacity) || init.capacity < 1) {
      throw new RangeError(`backend ${init.id}: capacity must be a positive integer, got ${init.capacity}`);
    }
    const weight = init.weight ?? 1;
    if (!(weight > 0) || !Number.isFinite(weight)) {
      throw new RangeError(`backend ${init.id}: weight must be a positive finite number, got ${weight}`);
    }
    this.id = init.id;
    this.address = init.address;
    this.capacity = init.capacity;
    this.weight = weight;
    this.health = init.health ?? "healthy";
  }

  /** Requests in flight on this backend, all tenants together */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** inFlight / capacity: 0 idle, 1 full (above 1 only if someone acquired without picking) */
  get load(): number {
    return this.inFlightCount / this.capacity;
  }

  /** Requests of one tenant in flight on this backend */
  inFlightFor(tenantId: string): number {
    return this.tenantInFlight.get(tenantId) ?? 0;
  }

  /** Number of tenants with at least one request in flight here */
  get activeTenants(): number {
    return this.tenantInFlight.size;
  }

  /** Whether a balancer may consider this backend at all at `now` (epoch ms); says nothing about free slots */
  isAvailable(now: number): boolean {
    return this.health !== "unhealthy" && now >= this.ejectedUntil;
  }

  /**
   * Counts one request of `tenantId` as in flight and returns the one-shot function that ends it.
   * It does not refuse when full: admission is the balancer's decision (pick then acquire, synchronously, in
   * one turn of the event loop), and the counters must stay truthful even if a caller overrides it.
   */
  acquire(tenantId: string): ReleaseSlot {
    this.inFlightCount++;
    this.tenantInFlight.set(tenantId, (this.tenantInFlight.get(tenantId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return false;
      released = true;
      this.releaseOne(tenantId);
      return true;
    };
  }

  /** Private so the only way to release is the one-shot function `acquire` handed out */
  private releaseOne(tenantId: string): void {
    this.inFlightCount--;
    const n = (this.tenantInFlight.get(tenantId) ?? 0) - 1;
    if (n > 0) this.tenantInFlight.set(tenantId, n);
    else this.tenantInFlight.delete(tenantId);
  }

  /** A plain snapshot for the admin API (`/admin/backends`) */
  toJSON(): {
    id: string;
    address: string;
    health: BackendHealth;
    capacity: number;
    weight: number;
    inFlight: number;
    load: number;
    ejectedUntil: number;
    tenantInFlight: Record<string, number>;
  } {
    return {
      id: this.id,
      address: this.address,
      health: this.health,
      capacity: this.capacity,
      weight: this.weight,
      inFlight: this.inFlightCount,
      load: this.load,
      ejectedUntil: this.ejectedUntil,
      tenantInFlight: Object.fromEntries(this.tenantInFlight),
    };
  }
}
