import type { SliceFactory } from "../control-plane/deps.js";
import { complianceServiceImplementation, ComplianceServiceService } from "./grpc.js";

/** Builds the compliance slice: tenantmesh.v1.ComplianceService over the process's security runtime */
export const complianceSlice: SliceFactory = ({ kit, clock, security }) => {
  if (security === undefined) throw new Error("the compliance slice needs deps.security (control-plane/start.ts makes it)");
  return {
    services: [
      {
        name: "tenantmesh.v1.ComplianceService",
        definition: ComplianceServiceService,
        implementation: complianceServiceImplementation(kit, { runtime: security, now: () => new Date(clock.now()) }),
      },
    ],
    protoFiles: ["tenantmesh/v1/compliance.proto"],
  };
};
