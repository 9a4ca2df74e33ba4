import type { SliceFactory } from "../control-plane/deps.js";
import { keysSource, usersSource } from "./dashboard/core.js";
import { billingSource } from "./dashboard/billing.js";
import { complianceSource } from "./dashboard/compliance.js";
import { monitorSource } from "./dashboard/monitor.js";
import { quotaSource } from "./dashboard/quota.js";
import type { DashboardSource } from "./dashboard/source.js";
import { portalServiceImplementation, PortalServiceService } from "./grpc.js";
import { LoopbackClients } from "./loopback.js";

/**
 * The dashboard's sources, in merge order (a later source's usage figure replaces an earlier one's). A source
 * whose service is not registered in this control plane gets UNIMPLEMENTED, and its sections say "not
 * available in this deployment" instead of showing anything made up (`notInThisBuild` does the same for a
 * service whose code is not in the build at all).
 */
export const defaultDashboardSources: readonly DashboardSource[] = [
  usersSource,
  keysSource,
  quotaSource,
  monitorSource,
  billingSource,
  complianceSource,
];

export interface PortalSliceOptions {
  /** Replaces the dashboard's sources (tests) */
  sources?: readonly DashboardSource[];
}

/** Builds the portal slice: tenantmesh.v1.PortalService (the dashboard and plan-change requests) */
export function createPortalSlice(options: PortalSliceOptions = {}): SliceFactory {
  return ({ db, kit, config, clock }) => {
    const loopback = new LoopbackClients(config.grpc);
    const implementation = portalServiceImplementation(kit, {
      db,
      loopback,
      sources: options.sources ?? defaultDashboardSources,
      now: () => new Date(clock.now()),
    });
    return {
      services: [{ name: "tenantmesh.v1.PortalService", definition: PortalServiceService, implementation }],
      protoFiles: ["tenantmesh/v1/portal.proto"],
      async close() {
        loopback.close();
      },
    };
  };
}

/** The portal slice with default settings, as listed in control-plane/slices.ts */
export const portalSlice: SliceFactory = createPortalSlice();
