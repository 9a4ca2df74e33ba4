import type { Knex } from "knex";
import type { DbRoles } from "../roles.js";
import type { Migration } from "./migration.js";
import { createRoles } from "./20261129100000_create_roles.js";
import { createUpdatedAtFunction } from "./20261129100100_create_updated_at_function.js";
import { createTenants } from "./20261129100200_create_tenants.js";
import { createUsers } from "./20261129100300_create_users.js";
import { createTenantResourceUsage } from "./20261129100400_create_tenant_resource_usage.js";
import { createTenantPerformanceMetrics } from "./20261129100500_create_tenant_performance_metrics.js";
import { createBusinesses } from "./20261129100600_create_businesses.js";
import { addTenantQuotas } from "./20261129110000_add_tenant_quotas.js";
import { addTenantScale } from "./20261129110100_add_tenant_scale.js";
import { addTenantNetworkRestrictions } from "./20261129110200_add_tenant_network_restrictions.js";
import { addTenantProvisioningKey } from "./20261129110300_add_tenant_provisioning_key.js";
import { addTenantSessionsValidAfter } from "./20261129110400_add_tenant_sessions_valid_after.js";
import { createApiKeys } from "./20261129110500_create_api_keys.js";
import { createUserSessions } from "./20261129110600_create_user_sessions.js";
import { addUserMfaLastStep } from "./20261129110700_add_user_mfa_last_step.js";
import { createTenantEvents } from "./20261129110800_create_tenant_events.js";
import { createTenantChanges } from "./20261129110900_create_tenant_changes.js";
import { createTenantOutbox } from "./20261129111000_create_tenant_outbox.js";
import { scopeSessionUserReference } from "./20261129111100_scope_session_user_reference.js";
import { restrictTenantChangesWrites } from "./20261129111200_restrict_tenant_changes_writes.js";
import { narrowApiKeyChangeTrigger } from "./20261129111300_narrow_api_key_change_trigger.js";
import { createUsageBatches } from "./20261129140000_create_usage_batches.js";
import { createResourcePools } from "./20261129140100_create_resource_pools.js";
import { createPoolAllocations } from "./20261129140200_create_pool_allocations.js";
import { createBillingAccounts } from "./20261129140300_create_billing_accounts.js";
import { createInvoices } from "./20261129140400_create_invoices.js";
import { createInvoiceLines } from "./20261129140500_create_invoice_lines.js";
import { makeInvoicesAppendOnly } from "./20261129140600_make_invoices_append_only.js";
import { createTenantKeyrings } from "./20261129150000_create_tenant_keyrings.js";
import { createTenantDataKeys } from "./20261129150100_create_tenant_data_keys.js";
import { createAuditEvents } from "./20261129150200_create_audit_events.js";
import { makeAuditEventsAppendOnly } from "./20261129150300_make_audit_events_append_only.js";
import { createComplianceReports } from "./20261129150400_create_compliance_reports.js";
import { widenBusinessRegistrationNumber } from "./20261129150500_widen_business_registration_number.js";
import { addBusinessSealedDetails } from "./20261129150600_add_business_sealed_details.js";
import { indexTenantEventsCreatedAt } from "./20261129150700_index_tenant_events_created_at.js";
import { addPerformanceMetricWindows } from "./20261129160000_add_performance_metric_windows.js";
import { indexPerformanceMetricWindows } from "./20261129160100_index_performance_metric_windows.js";
import { createClusterPerformanceWindows } from "./20261129160200_create_cluster_performance_windows.js";
import { createTenantScalingState } from "./20261129160300_create_tenant_scaling_state.js";
import { createTenantScalingEvents } from "./20261129160400_create_tenant_scaling_events.js";
import { createTenantAlerts } from "./20261129160500_create_tenant_alerts.js";
import { keyTenantResourceUsageByCell } from "./20261130100000_key_tenant_resource_usage_by_cell.js";

export type { Migration } from "./migration.js";

/** Every migration, in the order it applies. Imported statically: knex's file loader cannot load .ts under vitest. */
export const migrations: readonly Migration[] = [
  createRoles,
  createUpdatedAtFunction,
  createTenants,
  createUsers,
  createTenantResourceUsage,
  createTenantPerformanceMetrics,
  createBusinesses,
  addTenantQuotas,
  addTenantScale,
  addTenantNetworkRestrictions,
  addTenantProvisioningKey,
  addTenantSessionsValidAfter,
  createApiKeys,
  createUserSessions,
  addUserMfaLastStep,
  createTenantEvents,
  createTenantChanges,
  createTenantOutbox,
  scopeSessionUserReference,
  restrictTenantChangesWrites,
  narrowApiKeyChangeTrigger,
  createUsageBatches,
  createResourcePools,
  createPoolAllocations,
  createBillingAccounts,
  createInvoices,
  createInvoiceLines,
  makeInvoicesAppendOnly,
  createTenantKeyrings,
  createTenantDataKeys,
  createAuditEvents,
  makeAuditEventsAppendOnly,
  createComplianceReports,
  widenBusinessRegistrationNumber,
  addBusinessSealedDetails,
  indexTenantEventsCreatedAt,
  addPerformanceMetricWindows,
  indexPerformanceMetricWindows,
  createClusterPerformanceWindows,
  createTenantScalingState,
  createTenantScalingEvents,
  createTenantAlerts,
  keyTenantResourceUsageByCell,
];

/** A knex migration source over the static list, bound to the configured role names */
export function migrationSource(roles: DbRoles, list: readonly Migration[] = migrations): Knex.MigrationSource<Migration> {
  return {
    getMigrations: async () => [...list],
    getMigrationName: (m) => m.name,
    getMigration: async (m) => ({ up: (knex: Knex) => m.up(knex, roles), down: (knex: Knex) => m.down(knex, roles) }),
  };
}
