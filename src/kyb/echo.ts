/**
 * tenantmesh.kyb.v1.EchoService: DIAGNOSTICS ONLY, for mesh conformance tests of every gRPC call shape through
 * the proxy. Gated by the forwarded identity like the business API, but it touches no data and takes no
 * capacity slot or service time (a held-open stream would otherwise starve the workers the benchmarks measure).
 * Request metadata `x-echo-*` comes back as response headers and trailers; `fail_code` ends a call with that
 * status; delays are cancellable, and cancellations are counted (EchoStats) so a test can see a client's
 * cancel reach the backend.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { invalidArgument } from "../errors/index.js";
import { EchoServiceService, type ClientStreamRequest, type EchoRequest, type EchoResponse, type EchoServiceServer } from "../gen/tenantmesh/kyb/v1/echo.js";
import { toServiceError } from "../grpc/index.js";
import type { ForwardedIdentity } from "../identity/index.js";
import { callSignal } from "./grpc.js";
import type { KybRuntime } from "./runtime.js";

const MAX_DELAY_MS = 60_000;
const MAX_COUNT = 10_000;

/** The caller's `x-echo-*` metadata, to send back as headers and as trailers */
function echoedMetadata(from: Metadata): Metadata {
  const out = new Metadata();
  for (const [key, values] of Object.entries(from.toJSON())) {
    if (key.startsWith("x-echo-")) for (const v of values) out.add(key, v);
  }
  return out;
}

function bounded(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw invalidArgument([{ field, description: `must be from 0 to ${max}` }]);
  return value;
}

/** The status a test asked for; fail_code 0 means none */
function requestedFailure(code: number, message: string, trailers: Metadata): Partial<ServiceError> | undefined {
  if (code === 0) return undefined;
  if (!Number.isInteger(code) || code < 1 || code > 16) throw invalidArgument([{ field: "fail_code", description: "must be a gRPC status code from 1 to 16, or 0" }]);
  return { code: code as status, details: message || `requested status ${code}`, metadata: trailers };
}

function response(req: Pick<EchoRequest, "message"> & Partial<EchoRequest>, sequence: number, id: ForwardedIdentity): EchoResponse {
  return { message: req.message, payload: req.payload ?? Buffer.alloc(0), sequence, tenantId: id.tenantId, principal: id.principal, requestId: id.requestId };
}

/**
 * Writes with back-pressure (a slow reader, or a proxy, is not flooded); rejects once the call is cancelled, so
 * a cancelled stream never waits for a `drain` that will not come.
 */
async function send(call: Writable, message: EchoResponse, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (!call.write(message)) await once(call, "drain", { signal });
}

export function echoServiceImplementation(rt: KybRuntime): EchoServiceServer {
  const log = rt.logger.child({ service: "EchoService" });

  /** Common frame of every echo call: identity, headers back, counters, cancellation */
  function begin(call: { metadata: Metadata; sendMetadata(m: Metadata): void; on(e: "cancelled", l: () => void): unknown }) {
    const signal = callSignal(call);
    rt.echo.inFlight++;
    let ended = false;
    call.on("cancelled", () => {
      if (!ended) rt.echo.cancelled++;
    });
    const end = (): void => {
      if (ended) return;
      ended = true;
      rt.echo.inFlight--;
    };
    try {
      const identity = rt.identity.fromMetadata(call.metadata);
      const trailers = echoedMetadata(call.metadata);
      call.sendMetadata(trailers.clone());
      return { identity, trailers, signal, end };
    } catch (err) {
      end();
      throw err;
    }
  }

  const wait = (ms: number, signal: AbortSignal): Promise<void> => (ms > 0 ? sleep(ms, undefined, { signal }) : Promise.resolve());

  return {
    unary(call, callback) {
      let frame: ReturnType<typeof begin> | undefined;
      (async () => {
        frame = begin(call);
        await wait(bounded("delay_ms", call.request.delayMs, MAX_DELAY_MS), frame.signal);
        const failure = requestedFailure(call.request.failCode, call.request.failMessage, frame.trailers);
        if (failure) return callback(failure, null);
        callback(null, response(call.request, 0, frame.identity), frame.trailers);
      })()
        .catch((err: unknown) => {
          if (!frame?.signal.aborted) callback(toServiceError(err, log), null);
        })
        .finally(() => frame?.end());
    },

    serverStream(call) {
      let frame: ReturnType<typeof begin> | undefined;
      (async () => {
        frame = begin(call);
        const req = call.request;
        const count = bounded("count", req.count, MAX_COUNT);
        const interval = bounded("interval_ms", req.intervalMs, MAX_DELAY_MS);
        const failure = requestedFailure(req.failCode, req.failMessage, frame.trailers);
        for (let i = 0; i < count; i++) {
          if (i > 0) await wait(interval, frame.signal);
          await send(call, response(req, i, frame.identity), frame.signal);
        }
        if (failure) call.emit("error", failure);
        else call.end(frame.trailers);
      })()
        .catch((err: unknown) => {
          if (!frame?.signal.aborted) call.emit("error", toServiceError(err, log));
        })
        .finally(() => frame?.end());
    },

    clientStream(call, callback) {
      let frame: ReturnType<typeof begin>;
      try {
        frame = begin(call);
      } catch (err) {
        return callback(toServiceError(err, log), null);
      }
      let sum = 0n;
      let count = 0;
      call.on("data", (req: ClientStreamRequest) => {
        sum += BigInt(req.value);
        count++;
      });
      call.on("end", () => {
        frame.end();
        callback(null, { sum: sum.toString(), count, tenantId: frame.identity.tenantId }, frame.trailers);
      });
      call.on("error", () => frame.end());
      call.on("cancelled", () => frame.end());
    },

    bidiStream(call) {
      let frame: ReturnType<typeof begin>;
      try {
        frame = begin(call);
      } catch (err) {
        call.emit("error", toServiceError(err, log));
        return;
      }
      const f = frame;
      let sequence = 0;
      let failed = false;
      // Requests are answered strictly in order, each after its own delay.
      let chain = Promise.resolve();
      const fail = (err: Partial<ServiceError>): void => {
        if (failed || f.signal.aborted) return;
        failed = true;
        call.emit("error", err);
        f.end();
      };
      call.on("data", (req: EchoRequest) => {
        chain = chain.then(async () => {
          if (failed) return;
          try {
            await wait(bounded("delay_ms", req.delayMs, MAX_DELAY_MS), f.signal);
            const failure = requestedFailure(req.failCode, req.failMessage, f.trailers);
            if (failure) return fail(failure);
            await send(call, response(req, sequence++, f.identity), f.signal);
          } catch (err) {
            fail(toServiceError(err, log));
          }
        });
      });
      call.on("end", () => {
        void chain.then(() => {
          if (failed || f.signal.aborted) return;
          call.end(f.trailers);
          f.end();
        });
      });
      call.on("cancelled", () => f.end());
    },
  };
}

export { EchoServiceService };
