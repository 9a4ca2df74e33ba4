import { AuditRelay } from "../audit/index.js";
import type { SliceFactory } from "../control-plane/deps.js";
import { securityServiceImplementation, SecurityServiceService } from "./grpc.js";
import { ensureTenantKeys, purgeExpiredTenants, rotateDueKeys, type JobDeps } from "./jobs.js";

/** Tunables of the security slice; the defaults are what `securitySlice` uses */
export interface SecuritySliceOptions {
  /** How often due key rotations and ended retentions are looked for; default 60 s */
  jobIntervalMs?: number;
  /** How often tenant events are relayed into the audit log; default 5 s (reads of a tenant's log relay its events first) */
  relayIntervalMs?: number;
}

/**
 * Runs `step` every `ms` unless the previous run is still going; the timer does not keep the process alive.
 * Runs in flight are kept in `running`, so closing can wait for them instead of leaving them to a closed pool.
 */
function every(ms: number, step: () => Promise<unknown>, onError: (err: unknown) => void, running: Set<Promise<unknown>>): NodeJS.Timeout {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const run = step()
      .catch(onError)
      .finally(() => {
        busy = false;
        running.delete(run);
      });
    running.add(run);
  }, ms);
  timer.unref();
  return timer;
}

/**
 * Builds the security slice: tenantmesh.v1.SecurityService, the automatic key rotation and retention purge
 * jobs, and the tenant-event relay into the audit log. Needs the composition root's security runtime.
 */
export function createSecuritySlice(options: SecuritySliceOptions = {}): SliceFactory {
  return ({ db, kit, clock, logger, security }) => {
    if (security === undefined) throw new Error("the security slice needs deps.security (control-plane/start.ts makes it)");
    const log = logger.child({ slice: "security" });
    const jobs: JobDeps = { db, runtime: security, clock, log };
    // Until migrations are applied (the slice starts before they are) failures are expected: debug, not warn.
    let schemaReady = false;
    const warn = (what: string) => (err: unknown) =>
      schemaReady ? log.warn({ err: (err as Error).message }, `${what} failed`) : log.debug({ err: (err as Error).message }, `${what} waiting for the schema`);
    const ready = <T>(p: Promise<T>): Promise<T> =>
      p.then((v) => {
        schemaReady = true;
        return v;
      });
    const runJobs = async (): Promise<void> => {
      await ensureTenantKeys(jobs);
      await rotateDueKeys(jobs);
      await purgeExpiredTenants(jobs);
    };
    const running = new Set<Promise<unknown>>();
    const relay = new AuditRelay(db, security.audit);
    const timers = [
      every(options.relayIntervalMs ?? 5_000, () => ready(relay.run()), warn("audit relay"), running),
      every(options.jobIntervalMs ?? 60_000, runJobs, warn("security jobs"), running),
    ];
    // A first pass soon after start (once migrations are likely done) rather than a full interval later.
    const first = setTimeout(() => {
      const run = runJobs().catch(() => undefined);
      running.add(run);
      void run.finally(() => running.delete(run));
    }, 3_000);
    first.unref();
    return {
      services: [
        {
          name: "tenantmesh.v1.SecurityService",
          definition: SecurityServiceService,
          implementation: securityServiceImplementation(kit, db, { runtime: security, now: () => new Date(clock.now()) }),
        },
      ],
      protoFiles: ["tenantmesh/v1/security.proto"],
      async close() {
        clearTimeout(first);
        for (const t of timers) clearInterval(t);
        await Promise.allSettled([...running]);
      },
    };
  };
}

/** The security slice with default settings, as listed in control-plane/slices.ts */
export const securitySlice: SliceFactory = createSecuritySlice();
