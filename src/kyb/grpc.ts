/**
 * tenantmesh.kyb.v1.BusinessService: the same operations as the HTTP API, through the same identity gate,
 * validation, capacity and service. Per call: verify forwarded identity → validate → capacity slot → operation;
 * failures become gRPC statuses only in `toServiceError` (src/grpc/errors.ts).
 */
import { Metadata, status, type handleUnaryCall, type ServerUnaryCall } from "@grpc/grpc-js";
import { trace } from "@opentelemetry/api";
import { BusinessServiceService, type BusinessServiceServer } from "../gen/tenantmesh/kyb/v1/business.js";
import { toServiceError } from "../grpc/index.js";
import type { ForwardedIdentity } from "../identity/index.js";
import { RpcSpan, scopes } from "../telemetry/index.js";
import { assessedMessage, businessMessage, classifiedMessage, pageMessage } from "./present.js";
import type { KybRuntime } from "./runtime.js";
import { parseBusinessId, parseNewBusiness, parsePageSize } from "./validation.js";

/** Aborted when the client cancels or the deadline passes, so a queued call leaves the capacity queue */
export function callSignal(call: { on(event: "cancelled", listener: () => void): unknown }): AbortSignal {
  const controller = new AbortController();
  call.on("cancelled", () => controller.abort());
  return controller.signal;
}

type Operation<Req, Res> = (req: Req, identity: ForwardedIdentity, run: <T>(fn: () => Promise<T>) => Promise<T>) => Promise<Res>;

function unary<Req, Res>(rt: KybRuntime, method: string, operation: Operation<Req, Res>): handleUnaryCall<Req, Res> {
  const tracer = trace.getTracer(scopes.kyb);
  return (call: ServerUnaryCall<Req, Res>, callback) => {
    const signal = callSignal(call);
    const started = performance.now();
    const log = rt.logger.child({ method });
    const rpc = new RpcSpan(tracer, `tenantmesh.kyb.v1.BusinessService/${method}`, call.metadata);
    // The operation runs inside the span's context, so whatever it calls continues the caller's trace.
    rpc
      .run(() =>
        Promise.resolve().then(() => {
          const identity = rt.identity.fromMetadata(call.metadata);
          rpc.setTenant(identity.tenantId);
          const headers = new Metadata();
          headers.set("x-request-id", identity.requestId);
          call.sendMetadata(headers);
          return operation(call.request, identity, (fn) => rt.work(fn, signal));
        }),
      )
      .then(
        (res) => {
          rpc.end(status.OK);
          callback(null, res);
        },
        (err: unknown) => {
          const error = toServiceError(err, log);
          rpc.end(error.code ?? status.UNKNOWN, error.details);
          callback(error, null);
        },
      )
      .finally(() => log.debug({ ms: performance.now() - started }, "rpc"));
  };
}

export function businessServiceImplementation(rt: KybRuntime): BusinessServiceServer {
  return {
    createBusiness: unary(rt, "CreateBusiness", async (req, identity, run) => {
      // The request in its wire names, so violations name the .proto fields.
      const body = { name: req.name, registration_number: req.registrationNumber, country: req.country, details: req.details };
      const input = parseNewBusiness(body, new Date(rt.clock.now()));
      return businessMessage(await run(() => rt.service.createBusiness(identity.tenantId, input)));
    }),
    getBusiness: unary(rt, "GetBusiness", async (req, identity, run) => {
      const id = parseBusinessId(req.id);
      return businessMessage(await run(() => rt.service.getBusiness(identity.tenantId, id)));
    }),
    listBusinesses: unary(rt, "ListBusinesses", async (req, identity, run) => {
      const page = { pageSize: parsePageSize(req.pageSize), pageToken: req.pageToken };
      return pageMessage(await run(() => rt.service.listBusinesses(identity.tenantId, page)));
    }),
    classifyBusiness: unary(rt, "ClassifyBusiness", async (req, identity, run) => {
      const id = parseBusinessId(req.id);
      return classifiedMessage(await run(() => rt.service.classifyBusiness(identity.tenantId, id)));
    }),
    assessRisk: unary(rt, "AssessRisk", async (req, identity, run) => {
      const id = parseBusinessId(req.id);
      return assessedMessage(await run(() => rt.service.assessRisk(identity.tenantId, id)));
    }),
  };
}

export { BusinessServiceService };
