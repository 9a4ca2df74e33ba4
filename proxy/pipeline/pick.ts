import type { Clock } from "../../src/auth/clock.js";
import { TenantMeshError, withoutStack } from "../../src/errors/index.js";
import type { PickResult, PickTenant } from "../balancer/index.js";
import { whenClientGone, type ProxyContext } from "../context.js";
import type { TenantEntry } from "../directory/types.js";
import type { Backend, ReleaseSlot } from "../upstream/backend.js";
import type { Cluster } from "../upstream/types.js";
import type { DispatchQueue, QueueWaiter } from "./dispatch-queue.js";
import type { Handler, Stage, StageResult } from "./stage.js";

export interface PickStageOptions {
  readonly clock: Clock;
  /** Builds the dispatch queue of a cluster, once per Cluster object (a reload's new clusters get new queues) */
  readonly createQueue: (cluster: Cluster) => DispatchQueue;
  /** Upstream attempts per request, the first included (default 2: one retry when the forwarder says it is safe) */
  readonly maxAttempts?: number;
}

/** A held backend slot; `release` gives it back once and lets the cluster's queue hand it on */
class Slot {
  constructor(
    readonly backend: Backend,
    private readonly releaseSlot: ReleaseSlot,
    private readonly queue: DispatchQueue,
  ) {}

  release(): void {
    if (this.releaseSlot() && this.queue.depth > 0) this.queue.onRelease();
  }
}

/**
 * Pick: chooses the backend through the route's Cluster and holds its slot until the request is over.
 * - `pick`: the slot is acquired in the same synchronous turn, so the balancer's capacity check cannot race;
 * - `queue`: the request waits in the cluster's DispatchQueue until a release hands it a slot, the queue's
 *   bounds refuse it (TM_ERR_UNAVAILABLE with Retry-After), or the client leaves;
 * - `fail`: no backend is available at all → TM_ERR_UNAVAILABLE at once.
 * When the forwarder reports a failed attempt as safe to repeat (`ctx.retryable`: nothing reached a backend,
 * or an idempotent request died before its response), the request is sent once more, to another backend.
 */
export function pick(options: PickStageOptions): Stage {
  const { clock, createQueue } = options;
  const maxAttempts = options.maxAttempts ?? 2;
  const queues = new WeakMap<Cluster, DispatchQueue>();
  const queueOf = (cluster: Cluster): DispatchQueue => {
    let q = queues.get(cluster);
    if (q === undefined) {
      q = createQueue(cluster);
      queues.set(cluster, q);
    }
    return q;
  };

  return (next: Handler): Handler =>
    async (ctx): Promise<StageResult> => {
      const tenant = ctx.tenant;
      const cluster = ctx.route?.cluster;
      if (tenant === undefined || cluster === undefined) throw new Error("pick runs after identify and route");
      const queue = queueOf(cluster);
      const who: PickTenant = { id: tenant.id, priority: tenant.priority, scale: tenant.scale.current };
      let exclude: Backend | undefined;
      for (;;) {
        // Waiters go first: a slot that is free now (a release raced us, or a backend came back) is theirs
        if (queue.depth > 0) queue.onRelease();
        let slot: Slot | TenantMeshError | undefined = takeNow(cluster, who, tenant.id, clock.now(), exclude, queue);
        if (slot === undefined) {
          const queuedAt = performance.now();
          slot = await wait(ctx, cluster, who, tenant, queue, exclude);
          ctx.timings.queuedMs += performance.now() - queuedAt;
        }
        if (slot instanceof TenantMeshError) return slot;
        ctx.backend = slot.backend;
        ctx.attempts++;
        ctx.retryable = false;
        ctx.timings.picked = performance.now();
        let result: StageResult;
        try {
          result = await next(ctx);
        } finally {
          slot.release();
        }
        if (result === undefined || !ctx.retryable || ctx.attempts >= maxAttempts) return result;
        exclude = slot.backend;
      }
    };
}

/**
 * A slot now, or undefined when the request must queue. `exclude` is the backend a retried request failed on:
 * the balancer is asked a few times for another (round robin moves on by itself); when it can only offer the
 * failed one, the retry fails rather than hitting it again.
 */
function takeNow(cluster: Cluster, who: PickTenant, tenantId: string, now: number, exclude: Backend | undefined, queue: DispatchQueue): Slot | TenantMeshError | undefined {
  let result: PickResult = cluster.pick(who, now);
  for (let i = 0; i < 3 && exclude !== undefined && result.kind === "pick" && result.backend === exclude; i++) result = cluster.pick(who, now);
  if (result.kind === "pick") {
    if (result.backend === exclude) return unavailable(`no other backend of cluster ${cluster.name} is available for a retry`);
    return new Slot(result.backend, result.backend.acquire(tenantId), queue);
  }
  if (result.kind === "fail") return unavailable(`no healthy backend in cluster ${cluster.name}`);
  return undefined;
}

async function wait(ctx: ProxyContext, cluster: Cluster, who: PickTenant, tenant: TenantEntry, queue: DispatchQueue, exclude: Backend | undefined): Promise<Slot | TenantMeshError> {
  let slot: Slot | undefined;
  const waiter: QueueWaiter = {
    tenant,
    tryAcquire(now: number): PickResult {
      const result = cluster.pick(who, now);
      if (result.kind === "pick" && result.backend === exclude) return notTheFailedOne;
      if (result.kind === "pick") slot = new Slot(result.backend, result.backend.acquire(tenant.id), queue);
      return result;
    },
  };
  const ticket = queue.enqueue(waiter);
  const stopWatching = whenClientGone(ctx.exchange, ticket.cancel);
  const outcome = await ticket.done;
  stopWatching();
  if (outcome.kind === "acquired" && slot !== undefined) return slot;
  if (outcome.kind === "rejected") return outcome.error;
  // Cancelled: the client left while waiting. Nobody reads this error; the record stage counts it as cancelled.
  ctx.outcome = "cancelled";
  return withoutStack(() => new TenantMeshError("TM_ERR_UNAVAILABLE", "the client went away while queued"));
}

const notTheFailedOne: PickResult = Object.freeze({ kind: "queue", reason: "only the backend this request just failed on has a slot" });

function unavailable(message: string): TenantMeshError {
  return withoutStack(() => new TenantMeshError("TM_ERR_UNAVAILABLE", message, { retryAfterSeconds: 1 }));
}
