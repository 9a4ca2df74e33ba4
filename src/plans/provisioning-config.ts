import type { PlanType } from "./catalogue.js";

/**
 * The seed's ProvisioningConfig: what a new tenant gets when the request leaves it open, how long provisioning
 * may take before it is rolled back, and the rules a new tenant's slug, name and admin email must pass.
 */
export interface ProvisioningConfig {
  /** Plan of a ProvisionTenant request that names none */
  defaultPlan: PlanType;
  /** Past this, the steps stop and every completed one is undone (DEADLINE_EXCEEDED) */
  timeoutMs: number;
  validation: ValidationRules;
}

export interface ValidationRules {
  /** 3–63 characters of a–z, 0–9 and inner hyphens: a DNS label, so a slug can become a host name */
  slugPattern: RegExp;
  /** Slugs that would shadow the platform's own names (hosts, routes, the portal) */
  reservedSlugs: ReadonlySet<string>;
  nameMaxLength: number;
  /** The same rule as the users table's CHECK, so validation fails before the database would */
  emailPattern: RegExp;
  emailMaxLength: number;
}

export const defaultReservedSlugs: readonly string[] = [
  "admin",
  "administrator",
  "api",
  "app",
  "assets",
  "auth",
  "billing",
  "console",
  "control-plane",
  "dashboard",
  "default",
  "docs",
  "grpc",
  "health",
  "help",
  "internal",
  "login",
  "mail",
  "metrics",
  "operator",
  "platform",
  "portal",
  "root",
  "static",
  "status",
  "support",
  "system",
  "tenantmesh",
  "www",
];

export const defaultProvisioningConfig: ProvisioningConfig = {
  defaultPlan: "basic",
  timeoutMs: 30_000,
  validation: {
    slugPattern: /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/,
    reservedSlugs: new Set(defaultReservedSlugs),
    nameMaxLength: 255,
    emailPattern: /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/,
    emailMaxLength: 255,
  },
};

/** The default config with some values replaced (validation rules are replaced field by field) */
export function provisioningConfig(
  overrides: Partial<Omit<ProvisioningConfig, "validation">> & { validation?: Partial<ValidationRules> } = {},
): ProvisioningConfig {
  return {
    ...defaultProvisioningConfig,
    ...overrides,
    validation: { ...defaultProvisioningConfig.validation, ...overrides.validation },
  };
}
