import type { Clock } from "../auth/clock.js";
import type { Database } from "../db/index.js";
import type { Logger } from "../log/index.js";
import type { ProvisioningConfig } from "../plans/index.js";
import type { ChangeFeed } from "./feed/change-feed.js";
import type { ProvisioningStep } from "./provisioning/step.js";

/** What the tenants slice's handlers run with (built once by the slice factory) */
export interface TenantsDeps {
  db: Database;
  clock: Clock;
  /** Keys the HMAC of API key secrets (the deployment's pepper, as bytes) */
  apiKeyPepper: Buffer;
  /** This process's one reader of the change log */
  feed: ChangeFeed;
  /** Provisioning's steps, in order (built-in plus later features') */
  steps: readonly ProvisioningStep[];
  provisioning: ProvisioningConfig;
  logger: Logger;
}
