import type { SliceFactory } from "./deps.js";
import { usersSlice } from "../users/index.js";
import { createTenantsSlice } from "../tenants/index.js";
import { securitySlice } from "../security/index.js";
import { complianceSlice } from "../compliance/index.js";
import { portalSlice } from "../portal/index.js";
import { quotasSlice } from "../quotas/index.js";
import { billingSlice, createBillingAccountStep } from "../billing/index.js";
import { monitorSlice } from "../monitor/index.js";

/** Provisioning opens each tenant's billing account (with its billing_info) before the tenant goes active */
const tenantsSlice = createTenantsSlice({ extraSteps: [createBillingAccountStep] });

/**
 * The control plane's slices, in the order their services are registered. The one place a new slice joins.
 */
export const sliceFactories: readonly SliceFactory[] = [tenantsSlice, usersSlice, portalSlice, quotasSlice, billingSlice, monitorSlice, securitySlice, complianceSlice];
