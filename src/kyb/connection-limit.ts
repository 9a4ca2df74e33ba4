import type { Clock } from "../auth/clock.js";
import type { Database } from "../db/index.js";

export interface ConnectionLimitOptions {
  readonly clock: Clock;
  /** How long a tenant's `database_connections` is trusted before it is read again (default 30 s) */
  readonly ttlMs?: number;
}

/** One tenant's connections in use and the transactions waiting for one, in arrival order */
interface TenantGate {
  limit: number;
  inUse: number;
  readonly waiting: Array<() => void>;
  /** Clock reading after which `limit` is read again; a read in progress is shared */
  freshUntil: number;
  refreshing: Promise<void> | undefined;
}

/** A Database whose tenant transactions are bounded per tenant, with a view of the gates for tests and /health */
export interface TenantLimitedDatabase extends Database {
  /** Connections `tenantId` holds now and transactions of it waiting */
  connectionsOf(tenantId: string): { inUse: number; waiting: number; limit: number };
}

/**
 * The seed's `database_connections` quota, enforced where connections are handed out: each tenant's
 * `withTenant` transactions run at most `database_connections` at once in this process (a per-tenant
 * semaphore in front of the shared pool), the others wait their turn in arrival order. So one tenant's burst
 * cannot take every connection of the pool from the others. 0 means no per-tenant limit (the pool's size
 * still applies). The limit is read from the tenant's own row (row-level security shows it only that row)
 * and kept for `ttlMs`; a change of quota takes effect within that time.
 *
 * Meaningful on PostgreSQL, where the pool holds several connections; embedded PGlite is a single connection
 * that already serialises every transaction, so the KYB service does not wrap it.
 */
export function limitTenantConnections(db: Database, options: ConnectionLimitOptions): TenantLimitedDatabase {
  const ttlMs = options.ttlMs ?? 30_000;
  const gates = new Map<string, TenantGate>();

  const readLimit = async (tenantId: string, gate: TenantGate): Promise<void> => {
    try {
      const row = (await db.withTenant(tenantId, (trx) => trx("tenants").select("database_connections").where({ id: tenantId }).first())) as
        | { database_connections: number | null }
        | undefined;
      gate.limit = Math.max(0, Number(row?.database_connections ?? 0));
    } finally {
      // Also after a failed read: the next transaction must not pay for a read that keeps failing
      gate.freshUntil = options.clock.now() + ttlMs;
      gate.refreshing = undefined;
    }
  };

  const gateOf = async (tenantId: string): Promise<TenantGate> => {
    let gate = gates.get(tenantId);
    if (gate === undefined) {
      gate = { limit: 0, inUse: 0, waiting: [], freshUntil: 0, refreshing: undefined };
      gates.set(tenantId, gate);
    }
    if (options.clock.now() >= gate.freshUntil) {
      const first = gate.freshUntil === 0;
      gate.refreshing ??= readLimit(tenantId, gate);
      // A known tenant keeps its last limit while it is re-read; only its very first transaction waits
      if (first) await gate.refreshing.catch(() => undefined);
      else gate.refreshing.catch(() => undefined);
    }
    return gate;
  };

  const release = (tenantId: string, gate: TenantGate): void => {
    const next = gate.waiting.shift();
    // The connection passes straight to the next waiter, so a newcomer cannot overtake the queue
    if (next !== undefined) next();
    else if (--gate.inUse === 0 && gate.freshUntil <= options.clock.now()) gates.delete(tenantId);
  };

  /** Runs `work` holding one of the tenant's connections */
  const gated = async <T>(tenantId: string, work: () => Promise<T>): Promise<T> => {
    const gate = await gateOf(tenantId);
    if (gate.limit > 0 && gate.inUse >= gate.limit) await new Promise<void>((resolve) => gate.waiting.push(resolve));
    else gate.inUse++;
    try {
      return await work();
    } finally {
      release(tenantId, gate);
    }
  };

  return {
    kind: db.kind,
    knex: db.knex,
    roles: db.roles,
    asPlatform: (fn) => db.asPlatform(fn),
    ping: () => db.ping(),
    close: () => db.close(),
    withTenant: (tenantId, fn) => gated(tenantId, () => db.withTenant(tenantId, fn)),
    queryAsTenant: (tenantId, sql, values) => gated(tenantId, () => db.queryAsTenant(tenantId, sql, values)),
    connectionsOf(tenantId) {
      const gate = gates.get(tenantId);
      return { inUse: gate?.inUse ?? 0, waiting: gate?.waiting.length ?? 0, limit: gate?.limit ?? 0 };
    },
  };
}
