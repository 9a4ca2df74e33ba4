import { invalidArgument, TenantMeshError } from "../../errors/index.js";
import type { WatchTenantsRequest, WatchTenantsResponse } from "../../gen/tenantmesh/v1/tenant.js";
import type { RpcContext } from "../../grpc/index.js";
import type { ChangeFeed } from "./change-feed.js";

/**
 * WatchTenants: a snapshot, then every change after it in version order; or, resuming from a version the log
 * still covers, only the changes after it. A version that cannot be resumed from (compacted, unknown, in the
 * future) gets a fresh snapshot flagged reset = true. The stream joins the feed before reading anything, so
 * the changes it reads itself (snapshot or catch-up) and the ones the feed queues for it meet without a gap.
 */
export async function watchTenants(
  feed: ChangeFeed,
  req: WatchTenantsRequest,
  ctx: RpcContext,
  write: (res: WatchTenantsResponse) => Promise<void>,
): Promise<void> {
  const resumeFrom = parseVersion(req.resumeFromVersion);
  const sub = await feed.subscribe();
  // A write blocked on a client that stopped reading must not outlive the subscription's failure or the
  // client's cancel (a cancelled call never drains).
  const send = (res: WatchTenantsResponse): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const cancelled = (): void => reject(new TenantMeshError("TM_ERR_UNAVAILABLE", "stream cancelled"));
      const offFailure = sub.onFailure(reject);
      ctx.signal.addEventListener("abort", cancelled, { once: true });
      const settle = (): void => {
        offFailure();
        ctx.signal.removeEventListener("abort", cancelled);
      };
      write(res).then(
        () => {
          settle();
          resolve();
        },
        (err: unknown) => {
          settle();
          reject(err);
        },
      );
    });
  try {
    let from: number | undefined;
    if (resumeFrom > 0) {
      const changes = await feed.changesSince(resumeFrom, sub.joinedAt);
      if (changes !== "reset") {
        from = Math.max(resumeFrom, sub.joinedAt);
        sub.skipThrough(from);
        for (const change of changes) await send({ change });
      }
    }
    if (from === undefined) {
      const snapshot = await feed.snapshot();
      sub.skipThrough(snapshot.version);
      await send({ snapshot: { version: String(snapshot.version), tenants: snapshot.tenants, reset: resumeFrom > 0 } });
      // The snapshot may predate the feed's position (the log can shrink when a provisioning is rolled back).
      if (snapshot.version < sub.joinedAt) {
        const changes = await feed.changesSince(snapshot.version, sub.joinedAt);
        if (changes !== "reset") for (const change of changes) await send({ change });
      }
    }
    for (;;) {
      const change = await sub.next(ctx.signal);
      if (change === undefined) return;
      await send({ change });
    }
  } finally {
    sub.close();
  }
}

function parseVersion(value: string): number {
  if (value === "" || value === "0") return 0;
  if (!/^\d{1,15}$/.test(value)) throw invalidArgument([{ field: "resume_from_version", description: "must be a version this stream sent" }]);
  return Number(value);
}
