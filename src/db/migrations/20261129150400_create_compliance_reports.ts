import { enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/** The seed's ComplianceReport, stored as generated (src/compliance): never updated, listed per tenant */
export const createComplianceReports: Migration = {
  name: "20261129150400_create_compliance_reports",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE compliance_reports (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      standard VARCHAR(20) NOT NULL CHECK (standard IN ('SOC2', 'PCI-DSS', 'GDPR', 'HIPAA')),
      status VARCHAR(20) NOT NULL CHECK (status IN ('compliant', 'partial', 'non_compliant')),
      score NUMERIC(5, 4) NOT NULL CHECK (score BETWEEN 0 AND 1),
      findings JSONB NOT NULL DEFAULT '[]',
      recommendations JSONB NOT NULL DEFAULT '[]',
      remediations JSONB NOT NULL DEFAULT '[]',
      generated_by VARCHAR(255) NOT NULL,
      generated_at TIMESTAMP WITH TIME ZONE NOT NULL,
      valid_until TIMESTAMP WITH TIME ZONE NOT NULL
    )`);
    await knex.raw("CREATE INDEX idx_compliance_reports_tenant ON compliance_reports (tenant_id, generated_at, id)");
    await enableTenantRls(knex, "compliance_reports", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE compliance_reports");
  },
};
