import { addUpdatedAtTrigger, enableTenantRls } from "../rls.js";
import type { Migration } from "./migration.js";

/** The seed's `users` table, column for column, tenant-scoped under row-level security */
export const createUsers: Migration = {
  name: "20261129100300_create_users",
  async up(knex, roles) {
    await knex.raw(`CREATE TABLE users (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      email VARCHAR(255) NOT NULL,
      password_hash VARCHAR(255) NOT NULL,

      role VARCHAR(50) NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'manager', 'user', 'viewer')),
      permissions JSONB DEFAULT '[]',
      tenant_permissions JSONB DEFAULT '{}',

      timezone VARCHAR(50) DEFAULT 'UTC',
      language VARCHAR(10) DEFAULT 'en',
      preferences JSONB DEFAULT '{}',

      last_login TIMESTAMP WITH TIME ZONE,
      last_activity TIMESTAMP WITH TIME ZONE,
      login_count INTEGER DEFAULT 0,

      mfa_enabled BOOLEAN DEFAULT false,
      mfa_secret VARCHAR(255),
      password_reset_token VARCHAR(255),
      password_reset_expires TIMESTAMP WITH TIME ZONE,

      created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
      updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
      deleted_at TIMESTAMP WITH TIME ZONE NULL,

      UNIQUE(tenant_id, email),
      CONSTRAINT users_email_check CHECK (email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$')
    )`);
    await addUpdatedAtTrigger(knex, "users");
    await enableTenantRls(knex, "users", roles);
  },
  async down(knex) {
    await knex.raw("DROP TABLE users");
  },
};
