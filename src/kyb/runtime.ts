import type { Clock } from "../auth/clock.js";
import type { Logger } from "../log/index.js";
import type { Capacity } from "./capacity.js";
import type { IdentityGate } from "./identity.js";
import type { KybService } from "./service.js";

/** Counters of the diagnostics EchoService, for /health and for conformance tests of cancellation */
export interface EchoStats {
  /** Echo calls running now */
  inFlight: number;
  /** Echo calls the client cancelled (or whose deadline passed) before they ended, since start */
  cancelled: number;
}

/**
 * What the HTTP and the gRPC edges of one KYB process share: the operations, the identity gate, and the one
 * capacity both protocols draw from (HTTP and gRPC requests together never exceed it).
 */
export interface KybRuntime {
  readonly service: KybService;
  readonly identity: IdentityGate;
  readonly capacity: Capacity;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly echo: EchoStats;
  /**
   * Runs one business operation in a capacity slot, after the configured artificial service time (which
   * occupies the slot, as real work would). An aborted signal takes a waiting request out of the queue.
   */
  work<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T>;
}
