import { randomUUID } from "node:crypto";
import {
  Metadata,
  status as grpcStatus,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerReadableStream,
} from "@grpc/grpc-js";
import { trace, type Tracer } from "@opentelemetry/api";
import { authorize, describePrincipal, principalTenant, requireOperator, requireScope, type Permission, type Principal, type ServiceScope } from "../authz/index.js";
import { requestAudit, type AuditSink, type RequestAudit } from "../audit/index.js";
import type { Database, Tx } from "../db/index.js";
import { TenantMeshError } from "../errors/index.js";
import { forTenant, type Logger } from "../log/index.js";
import { RpcSpan, scopes } from "../telemetry/index.js";
import type { Authenticator } from "./authenticate.js";
import { toServiceError } from "./errors.js";

/** What a handler knows about its call once the chain has run */
export interface RpcContext {
  readonly method: string;
  readonly principal: Principal;
  readonly requestId: string;
  readonly peer: string;
  readonly log: Logger;
  /** Aborted when the client cancels or the deadline passes */
  readonly signal: AbortSignal;
  /** The authorized tenant (tenant policies only) */
  readonly tenantId: string | undefined;
  /** Runs `fn` inside the authorized tenant's RLS transaction */
  inTenant<T>(fn: (trx: Tx) => Promise<T>): Promise<T>;
  /** Records a security-relevant action in the tenant's audit log with this call's actor and request id */
  readonly audit: RequestAudit;
}

/**
 * Who may call an RPC, checked before the handler runs:
 * - `public`: anyone (Authenticate, password reset);
 * - `authenticated`: any valid credential; the handler decides (Logout);
 * - `operator`: platform operators only;
 * - `scope`: a service principal holding the scope (or an operator);
 * - `tenant`: a principal of the tenant `tenant(req)` names, holding `permission` (or an operator). The
 *   resolver may look the tenant up (e.g. by slug); an unknown tenant is then refused as PERMISSION_DENIED for
 *   tenant principals, so existence is never revealed, and left to the handler's NOT_FOUND for operators.
 */
export type Policy<Req> =
  | { kind: "public" }
  | { kind: "authenticated" }
  | { kind: "operator" }
  | { kind: "scope"; scope: ServiceScope }
  | {
      kind: "tenant";
      permission: Permission;
      tenant: (req: Req, principal: Principal) => string | undefined | Promise<string | undefined>;
    };

export interface RpcKitOptions {
  db: Database;
  authenticator: Authenticator;
  logger: Logger;
  /**
   * False while the database is known to be down or not yet migrated: calls then fail fast with UNAVAILABLE
   * instead of waiting on the pool.
   */
  available?: () => boolean;
  /** The audit log handlers record into (ctx.audit); absent: nothing is recorded */
  audit?: AuditSink;
  /** Where the span of every RPC goes; default the global API's control-plane tracer (a no-op without an SDK) */
  tracer?: Tracer;
}

export type UnaryHandler<Req, Res> = (req: Req, ctx: RpcContext) => Promise<Res>;
export type StreamHandler<Req, Res> = (req: Req, ctx: RpcContext, write: (res: Res) => Promise<void>) => Promise<void>;
/** Handles a client stream: `messages` yields each request message as it arrives */
export type ClientStreamHandler<Req, Res> = (messages: AsyncIterable<Req>, ctx: RpcContext) => Promise<Res>;

/** The parts of a grpc-js server call the chain reads, whatever the call's shape */
interface IncomingCall {
  readonly metadata: Metadata;
  getPeer(): string;
  sendMetadata(metadata: Metadata): void;
}

/**
 * The control plane's interceptor chain, composed once per method at start-up:
 * trace (a server span from the caller's traceparent and baggage) → authenticate → resolve principal →
 * authorize → run in the tenant's RLS context → map errors. The handler runs inside the span's context.
 */
export class RpcKit {
  readonly #tracer: Tracer;

  constructor(private readonly options: RpcKitOptions) {
    this.#tracer = options.tracer ?? trace.getTracer(scopes.controlPlane);
  }

  unary<Req, Res>(method: string, policy: Policy<Req>, handler: UnaryHandler<Req, Res>): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const signal = abortSignalOf(call);
      const rpc = new RpcSpan(this.#tracer, method, call.metadata);
      rpc
        .run(() => this.#prepare(method, policy, call, call.request, signal, rpc).then((ctx) => handler(call.request, ctx).then((res) => ({ ctx, res }))))
        .then(
          ({ ctx, res }) => {
            ctx.log.debug({ method }, "rpc ok");
            rpc.end(grpcStatus.OK);
            callback(null, res);
          },
          (err: unknown) => {
            const error = toServiceError(err, this.#logFor(method, call));
            rpc.end(error.code ?? grpcStatus.UNKNOWN, error.details);
            callback(error, null);
          },
        );
    };
  }

  /**
   * A client-streaming RPC. Only policies that need no request message apply (the tenant cannot come from a
   * stream not yet read); the handler reads the messages and answers once.
   */
  clientStream<Req, Res>(method: string, policy: Exclude<Policy<undefined>, { kind: "tenant" }>, handler: ClientStreamHandler<Req, Res>): handleClientStreamingCall<Req, Res> {
    return (call: ServerReadableStream<Req, Res>, callback) => {
      const signal = abortSignalOf(call);
      const rpc = new RpcSpan(this.#tracer, method, call.metadata);
      rpc
        .run(() => this.#prepare(method, policy, call, undefined, signal, rpc).then((ctx) => handler(call as AsyncIterable<Req>, ctx)))
        .then(
          (res) => {
            rpc.end(grpcStatus.OK);
            callback(null, res);
          },
          (err: unknown) => {
            const error = toServiceError(err, this.#logFor(method, call));
            rpc.end(error.code ?? grpcStatus.UNKNOWN, error.details);
            if (!signal.aborted) callback(error, null);
          },
        );
    };
  }

  serverStream<Req, Res>(method: string, policy: Policy<Req>, handler: StreamHandler<Req, Res>): handleServerStreamingCall<Req, Res> {
    return (call) => {
      const signal = abortSignalOf(call);
      const write = (res: Res): Promise<void> =>
        new Promise((resolve, reject) => {
          if (signal.aborted) return reject(new TenantMeshError("TM_ERR_UNAVAILABLE", "stream cancelled"));
          if (call.write(res)) return resolve();
          call.once("drain", () => resolve());
        });
      const rpc = new RpcSpan(this.#tracer, method, call.metadata);
      rpc
        .run(() => this.#prepare(method, policy, call, call.request, signal, rpc).then((ctx) => handler(call.request, ctx, write)))
        .then(
          () => {
            rpc.end(grpcStatus.OK);
            call.end();
          },
          (err: unknown) => {
            const error = toServiceError(err, this.#logFor(method, call));
            rpc.end(signal.aborted ? grpcStatus.CANCELLED : (error.code ?? grpcStatus.UNKNOWN), error.details);
            if (signal.aborted) return;
            call.emit("error", error);
          },
        );
    };
  }

  #logFor(method: string, call: IncomingCall): Logger {
    return this.options.logger.child({ method, peer: call.getPeer() });
  }

  async #prepare<Req>(method: string, policy: Policy<Req>, call: IncomingCall, request: Req, signal: AbortSignal, rpc: RpcSpan): Promise<RpcContext> {
    const { db, authenticator, available, logger } = this.options;
    if (available && !available()) {
      throw new TenantMeshError("TM_ERR_DATABASE_UNAVAILABLE", "the database is unreachable; retry later", { retryAfterSeconds: 1 });
    }
    const requestId = headerOf(call.metadata, "x-request-id") ?? randomUUID();
    const peer = call.getPeer();
    const principal = await authenticator.authenticate(headerOf(call.metadata, "authorization"), { peer });
    const tenantId = await this.#authorize(policy, request, principal);
    rpc.setTenant(tenantId ?? principalTenant(principal));
    const base = logger.child({ method, request_id: requestId, principal: describePrincipal(principal) });
    const log = tenantId ? forTenant(base, tenantId) : base;
    const responseMetadata = new Metadata();
    responseMetadata.set("x-request-id", requestId);
    call.sendMetadata(responseMetadata);
    return {
      method,
      principal,
      requestId,
      peer,
      log,
      signal,
      tenantId,
      audit: requestAudit(this.options.audit, { tenantId, actor: describePrincipal(principal), requestId, peer }),
      inTenant: (fn) => {
        if (tenantId === undefined) throw new Error(`${method}: inTenant needs a tenant policy`);
        return db.withTenant(tenantId, fn);
      },
    };
  }

  async #authorize<Req>(policy: Policy<Req>, request: Req, principal: Principal): Promise<string | undefined> {
    switch (policy.kind) {
      case "public":
        return undefined;
      case "authenticated":
        if (principal.kind === "anonymous") {
          throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", "a credential is required: authorization: Bearer <token>");
        }
        return undefined;
      case "operator":
        requireOperator(principal);
        return undefined;
      case "scope":
        requireScope(principal, policy.scope);
        return undefined;
      case "tenant": {
        if (principal.kind === "anonymous") {
          throw new TenantMeshError("TM_ERR_UNAUTHENTICATED", "a credential is required: authorization: Bearer <token>");
        }
        // Cheap refusal first: a service principal never acts on a tenant's data.
        if (principal.kind === "service") authorize(principal, policy.permission, undefined);
        const tenantId = await policy.tenant(request, principal);
        if (principal.kind === "operator") return tenantId;
        authorize(principal, policy.permission, tenantId);
        return tenantId;
      }
    }
  }
}

function headerOf(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" ? value : undefined;
}

function abortSignalOf(call: { on(event: "cancelled", listener: () => void): unknown; getDeadline(): Date | number }): AbortSignal {
  const controller = new AbortController();
  call.on("cancelled", () => controller.abort());
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  if (Number.isFinite(ms)) {
    const timer = setTimeout(() => controller.abort(), Math.max(0, ms - Date.now()));
    timer.unref();
  }
  return controller.signal;
}
