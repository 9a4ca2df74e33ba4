import type { Clock } from "../auth/clock.js";
import type { Config } from "../config/index.js";
import type { Database } from "../db/index.js";
import type { RpcKit, ServiceRegistration, Verifiers } from "../grpc/index.js";
import type { Logger } from "../log/index.js";
import type { Secrets } from "../config/secrets.js";
import type { SecurityRuntime } from "../security/runtime.js";

/** What every control-plane slice is built from (the composition root makes one) */
export interface ControlPlaneDeps {
  config: Config;
  db: Database;
  kit: RpcKit;
  secrets: Secrets;
  clock: Clock;
  logger: Logger;
  /**
   * Keys, keyring and audit log of this process (src/security). Absent only in servers that tests build
   * around a single slice; slices that encrypt or audit refuse to start without it.
   */
  security?: SecurityRuntime;
}

/**
 * A slice of the control plane (tenants, users, …): its gRPC services, the credential verifiers it owns, its
 * .proto file(s), background jobs. Slices are listed explicitly in ./slices.ts, never registered by import.
 */
export interface Slice {
  services: ServiceRegistration[];
  protoFiles: string[];
  verifiers?: Verifiers;
  /** Stops background work (watch feeds, timers) */
  close?(): Promise<void>;
}

export type SliceFactory = (deps: ControlPlaneDeps) => Slice;
