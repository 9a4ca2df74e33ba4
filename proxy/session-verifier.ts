import { createHash } from "node:crypto";
import { credentials as grpcCredentials, Metadata, status, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import { systemClock, type Clock } from "../src/auth/clock.js";
import { UserServiceClient, type VerifySessionResponse } from "../src/gen/tenantmesh/v1/user.js";
import { silentLogger, type Logger } from "../src/log/index.js";
import type { SessionPrincipal, SessionVerifier, TenantDirectory } from "./directory/types.js";

export interface GrpcSessionVerifierOptions {
  /** Control plane `host:port` */
  readonly address: string;
  /** A service token (`tmsvc_…`) with scope `sessions:verify` */
  readonly serviceToken: string;
  readonly credentials?: ChannelCredentials;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** How long a valid session is trusted without asking again (default 5 s; never past its expiry) */
  readonly positiveTtlMs?: number;
  /** How long an invalid token is remembered as invalid (default 1 s) */
  readonly negativeTtlMs?: number;
  /** Entries per cache, valid and invalid kept apart (default 10,000 each) */
  readonly maxEntries?: number;
  /** Deadline of one VerifySession call (default 1 s) */
  readonly timeoutMs?: number;
  /**
   * When given, any feed change to a tenant (a tenant-wide session revocation, a suspension) drops that
   * tenant's cached sessions at once instead of after `positiveTtlMs`
   */
  readonly directory?: TenantDirectory;
}

interface Cached {
  readonly principal: SessionPrincipal | null;
  readonly until: number;
}

const TOKEN_SHAPE = /^tms_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_TOKEN_LENGTH = 4_096;

/**
 * SessionVerifier over UserService.VerifySession. The hot path mostly hits a cache: valid sessions for a few
 * seconds (so a revocation bites within `positiveTtlMs`), invalid tokens for a second. Valid and invalid
 * entries live in separate LRU maps so a flood of junk tokens cannot evict real users. Concurrent lookups of one
 * token share one call. Tokens are cached under their SHA-256, so a heap dump does not hold live credentials.
 *
 * Fail closed: when the control plane cannot answer, `verify` resolves null (the request gets 401), and the
 * outage is logged once, not once per request; its end is logged too.
 */
export class GrpcSessionVerifier implements SessionVerifier {
  private readonly client: UserServiceClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly positive = new Map<string, Cached>();
  private readonly negative = new Map<string, Cached>();
  private readonly pending = new Map<string, Promise<SessionPrincipal | null>>();
  private readonly positiveTtl: number;
  private readonly negativeTtl: number;
  private readonly maxEntries: number;
  private readonly timeoutMs: number;
  private outage = false;
  private readonly unsubscribe: (() => void) | undefined;

  constructor(private readonly options: GrpcSessionVerifierOptions) {
    this.client = new UserServiceClient(options.address, options.credentials ?? grpcCredentials.createInsecure());
    this.clock = options.clock ?? systemClock;
    this.log = (options.logger ?? silentLogger).child({ component: "session-verifier" });
    this.positiveTtl = options.positiveTtlMs ?? 5_000;
    this.negativeTtl = options.negativeTtlMs ?? 1_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.unsubscribe = options.directory?.onChange((ids) => {
      for (const id of ids) this.forgetTenant(id);
    });
  }

  verify(token: string): Promise<SessionPrincipal | null> {
    // Not even shaped like a session token: no need to ask anyone
    if (token.length > MAX_TOKEN_LENGTH || !TOKEN_SHAPE.test(token)) return Promise.resolve(null);
    const key = createHash("sha256").update(token).digest("base64url");
    const now = this.clock.now();
    const hit = lookup(this.positive, key, now) ?? lookup(this.negative, key, now);
    if (hit !== undefined) return Promise.resolve(hit.principal);
    let inFlight = this.pending.get(key);
    if (inFlight === undefined) {
      inFlight = this.ask(token, key).finally(() => this.pending.delete(key));
      this.pending.set(key, inFlight);
    }
    return inFlight;
  }

  /** Drops every cached answer (e.g. after a tenant-wide session revocation arrives from the feed) */
  clear(): void {
    this.positive.clear();
    this.negative.clear();
  }

  /** Drops the cached sessions of one tenant */
  forgetTenant(tenantId: string): void {
    for (const [key, entry] of this.positive) if (entry.principal?.tenantId === tenantId) this.positive.delete(key);
  }

  close(): void {
    this.unsubscribe?.();
    this.client.close();
  }

  private ask(token: string, key: string): Promise<SessionPrincipal | null> {
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${this.options.serviceToken}`);
    return new Promise((resolve) => {
      this.client.verifySession({ sessionToken: token }, metadata, { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        resolve(err ? this.failed(err, key) : this.verified(res, key));
      });
    });
  }

  private verified(res: VerifySessionResponse, key: string): SessionPrincipal | null {
    this.recovered();
    const now = this.clock.now();
    if (res.tenantId === "" || res.userId === "") return this.remember(this.negative, key, null, now + this.negativeTtl);
    const principal: SessionPrincipal = Object.freeze({ tenantId: res.tenantId, userId: res.userId, role: res.role, sessionId: res.sessionId });
    const expires = res.expiresAt?.getTime() ?? Infinity;
    if (expires <= now) return this.remember(this.negative, key, null, now + this.negativeTtl);
    return this.remember(this.positive, key, principal, Math.min(now + this.positiveTtl, expires));
  }

  private failed(err: ServiceError, key: string): SessionPrincipal | null {
    if (err.code === status.UNAUTHENTICATED) {
      this.recovered();
      return this.remember(this.negative, key, null, this.clock.now() + this.negativeTtl);
    }
    if (!this.outage) {
      this.outage = true;
      // PERMISSION_DENIED means our own service token lacks sessions:verify: a deployment error, not a blip
      const level = err.code === status.PERMISSION_DENIED ? "error" : "warn";
      this.log[level]({ code: status[err.code], reason: err.details }, "cannot verify sessions with the control plane; refusing session tokens until it answers");
    }
    return null;
  }

  private recovered(): void {
    if (!this.outage) return;
    this.outage = false;
    this.log.info("session verification reaches the control plane again");
  }

  private remember(cache: Map<string, Cached>, key: string, principal: SessionPrincipal | null, until: number): SessionPrincipal | null {
    cache.delete(key);
    cache.set(key, { principal, until });
    // A Map iterates in insertion order, and hits re-insert: the first key is the least recently used
    if (cache.size > this.maxEntries) cache.delete(cache.keys().next().value as string);
    return principal;
  }
}

function lookup(cache: Map<string, Cached>, key: string, now: number): Cached | undefined {
  const hit = cache.get(key);
  if (hit === undefined) return undefined;
  cache.delete(key);
  if (hit.until <= now) return undefined;
  cache.set(key, hit);
  return hit;
}
