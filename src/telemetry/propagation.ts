import type { Metadata } from "@grpc/grpc-js";
import { context as otelContext, propagation, ROOT_CONTEXT, type Context, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { TENANT_ID, TENANT_PLAN, TENANT_PRIORITY } from "./attributes.js";

/**
 * W3C trace context (`traceparent`, `tracestate`) and W3C baggage, used explicitly rather than through the
 * global propagator so that every hop propagates the same way whether or not an SDK is registered.
 */
export const w3cPropagator = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });

type HeaderBag = Record<string, string | string[] | undefined>;

const headerGetter: TextMapGetter<HeaderBag> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const headerSetter: TextMapSetter<Record<string, string | string[]>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

const metadataGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get: (carrier, key) => {
    const values = carrier.get(key).filter((v): v is string => typeof v === "string");
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  },
};

const metadataSetter: TextMapSetter<Metadata> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** The trace context and baggage an incoming HTTP request carries (node lower-cases header names) */
export function extractFromHeaders(headers: HeaderBag, base: Context = ROOT_CONTEXT): Context {
  return w3cPropagator.extract(base, headers, headerGetter);
}

export function injectIntoHeaders(ctx: Context, headers: Record<string, string | string[]>): void {
  w3cPropagator.inject(ctx, headers, headerSetter);
}

/** The trace context and baggage of an incoming gRPC call */
export function extractFromMetadata(metadata: Metadata, base: Context = ROOT_CONTEXT): Context {
  return w3cPropagator.extract(base, metadata, metadataGetter);
}

/** Writes the context's `traceparent`/`tracestate`/`baggage` into outgoing gRPC metadata */
export function injectIntoMetadata(ctx: Context, metadata: Metadata): void {
  w3cPropagator.inject(ctx, metadata, metadataSetter);
}

/** The tenant named by the context's baggage, as the proxy set it for the hops behind it */
export interface BaggageTenant {
  id: string | undefined;
  plan: string | undefined;
  priority: number | undefined;
}

export function tenantFromBaggage(ctx: Context = otelContext.active()): BaggageTenant {
  const baggage = propagation.getBaggage(ctx);
  const priority = baggage?.getEntry(TENANT_PRIORITY)?.value;
  const n = priority === undefined ? NaN : Number(priority);
  return {
    id: baggage?.getEntry(TENANT_ID)?.value,
    plan: baggage?.getEntry(TENANT_PLAN)?.value,
    priority: Number.isInteger(n) ? n : undefined,
  };
}
