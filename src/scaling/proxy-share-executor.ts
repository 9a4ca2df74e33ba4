import type { Database } from "../db/index.js";
import type { ExecutorOutcome, ScaleChange, ScalingExecutor } from "./executor.js";

/**
 * The built-in executor: sets the tenant's `scale_current`. The tenants trigger appends the change to the
 * change log, WatchTenants delivers it, and every proxy's tenant_affinity balancer widens or narrows the
 * tenant's backend subset (and its concurrency share) on the next pick. The update is conditional on the
 * scale still being `from`, so a concurrent change (an operator, another replica's scaler) wins and this
 * step reports that instead of overwriting it.
 */
export class ProxyShareExecutor implements ScalingExecutor {
  readonly name = "proxy-share";

  constructor(private readonly db: Database) {}

  async apply(change: ScaleChange): Promise<ExecutorOutcome> {
    const updated = await this.db.asPlatform((trx) =>
      trx("tenants").where({ id: change.tenantId, scale_current: change.from }).update({ scale_current: change.to }).returning("id"),
    );
    return updated.length === 1
      ? { executor: this.name, ok: true, detail: `scale_current ${change.from} → ${change.to}` }
      : { executor: this.name, ok: false, detail: `scale_current is no longer ${change.from}; left as it is` };
  }
}
