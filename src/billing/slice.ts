import type { SliceFactory } from "../control-plane/deps.js";
import { ingestorFor } from "../metering/index.js";
import { billingServiceImplementation, BillingServiceService } from "./grpc.js";

/** Builds the billing slice: tenantmesh.v1.BillingService (rate cards, costs, invoices, recommendations) */
export const billingSlice: SliceFactory = ({ kit, clock, db, logger }) => {
  const ingestor = ingestorFor(db, logger);
  return {
    services: [
      { name: "tenantmesh.v1.BillingService", definition: BillingServiceService, implementation: billingServiceImplementation(kit, { clock, settle: () => ingestor.settle() }) },
    ],
    protoFiles: ["tenantmesh/v1/billing.proto"],
  };
};
