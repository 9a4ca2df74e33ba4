import type { Clock } from "../../auth/clock.js";
import type { Database } from "../../db/index.js";
import type { Logger } from "../../log/index.js";
import type { PlanType, ProvisioningConfig } from "../../plans/index.js";
import type { UserRow } from "../../users/store.js";
import type { ApiKeyRow } from "../api-key-store.js";
import type { BillingCycle, TenantRow } from "../model.js";

/** A ProvisionTenant request as it reaches the steps (shape checked at the edge, meaning checked by `validate`) */
export interface ProvisionInput {
  name: string;
  slug: string;
  /** Empty: the provisioning config's default plan */
  planType: string;
  adminEmail: string;
  /** Empty: a random password is generated and returned once */
  adminPassword: string;
  billingInfo: Record<string, unknown> | undefined;
  /** Empty: monthly */
  billingCycle: string;
  idempotencyKey: string | undefined;
}

/** What the steps run with: the same for every tenant */
export interface ProvisioningEnv {
  db: Database;
  clock: Clock;
  /** Keys the HMAC of API key secrets */
  apiKeyPepper: Buffer;
  config: ProvisioningConfig;
  log: Logger;
}

/**
 * One provisioning's state, filled in by the steps in order. Later steps read what earlier ones made through
 * `need`, which turns a mis-ordered step list into a clear bug instead of a silent undefined.
 */
export interface ProvisioningContext {
  readonly env: ProvisioningEnv;
  readonly input: ProvisionInput;
  /** describePrincipal of the caller, for events and created_by */
  readonly actor: string;
  /** Set by `validate` */
  planType?: PlanType;
  billingCycle?: BillingCycle;
  /** Set by `create-tenant`, replaced by `activate` */
  tenant?: TenantRow;
  adminUser?: UserRow;
  /** Only when the request had none: returned once, never stored */
  generatedPassword?: string;
  /**
   * The admin password's scrypt hash, started by `validate` as soon as the request is known good, so the
   * expensive hash (on the libuv pool) overlaps the database steps before `create-admin-user` needs it
   */
  adminPasswordHash?: Promise<string>;
  apiKey?: { token: string; row: ApiKeyRow };
  /** Room for steps added by later features (encryption keys, billing account, monitoring), keyed by step name */
  readonly extras: Map<string, unknown>;
}

/**
 * One step of provisioning. Steps run in order; when one fails (or the provisioning timeout passes), every
 * step that completed is undone in reverse order. A step must leave nothing behind when its own `run` fails:
 * run its writes in one transaction. `undo` must work whatever later steps did, and may be absent only for a
 * step without effects (validation) or for the final step (nothing runs after it).
 */
export interface ProvisioningStep {
  /** Unique; logs and error messages name the step */
  readonly name: string;
  run(ctx: ProvisioningContext): Promise<void>;
  undo?(ctx: ProvisioningContext): Promise<void>;
}

/** A value an earlier step was supposed to set */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`provisioning: ${what} is not set; is the step list in order?`);
  return value;
}
