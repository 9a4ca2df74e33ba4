import type { SamplingPolicy } from "./sampling.js";

/** Tracing settings of one process, from the standard OTEL_* variables plus a few of tenantmesh's own */
export interface TracingConfig {
  /** False: no SDK is installed at all (spans are the API's no-ops; the proxy skips its trace stage) */
  readonly enabled: boolean;
  /** The resource's service.name */
  readonly serviceName: string;
  /** Where OTLP/HTTP spans go (…/v1/traces); undefined: nothing is exported, spans feed only in-process sinks */
  readonly otlpTracesUrl: string | undefined;
  /** The OTLP/HTTP encoding: protobuf (the OpenTelemetry default, and cheaper to produce) or JSON */
  readonly otlpProtocol: OtlpProtocol;
  readonly sampling: SamplingPolicy;
}

export type OtlpProtocol = "http/protobuf" | "http/json";

type Env = Record<string, string | undefined>;

function protocolOf(env: Env): OtlpProtocol {
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() || env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() || "http/protobuf").toLowerCase();
  if (protocol === "http/protobuf" || protocol === "http/json") return protocol;
  throw new RangeError(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported (http/protobuf and http/json are)`);
}

const truthy = (v: string | undefined, fallback: boolean): boolean => {
  if (v === undefined || v.trim() === "") return fallback;
  return !/^(0|false|off|no)$/i.test(v.trim());
};

/** The head ratio named by OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (the SDK's standard names) */
function ratioOf(env: Env): number {
  const sampler = (env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on").trim().toLowerCase();
  switch (sampler) {
    case "always_on":
    case "parentbased_always_on":
      return 1;
    case "always_off":
    case "parentbased_always_off":
      return 0;
    case "traceidratio":
    case "parentbased_traceidratio": {
      const arg = Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1");
      if (!Number.isFinite(arg) || arg < 0 || arg > 1) throw new RangeError(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got ${env.OTEL_TRACES_SAMPLER_ARG}`);
      return arg;
    }
    default:
      throw new RangeError(`OTEL_TRACES_SAMPLER=${sampler} is not supported (always_on, always_off, traceidratio and their parentbased_ forms are)`);
  }
}

/**
 * Reads the tracing configuration:
 * - `TENANTMESH_TRACING=off` (or `OTEL_SDK_DISABLED=true`) turns the SDK off; it is on by default, so the proxy's
 *   trace ring (`tenantmesh traces`) works without a collector;
 * - `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`: export by OTLP/HTTP;
 * - `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (default) or `http/json`;
 * - `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`: the head ratio (default parentbased_always_on, the SDK's);
 * - `TENANTMESH_TRACE_KEEP_ERRORS`, `TENANTMESH_TRACE_KEEP_THROTTLED` (default true): export failed and
 *   throttled requests whatever the ratio;
 * - `OTEL_SERVICE_NAME` overrides the component's service name.
 */
export function tracingConfigFromEnv(env: Env, serviceName: string): TracingConfig {
  const enabled = truthy(env.TENANTMESH_TRACING, true) && !truthy(env.OTEL_SDK_DISABLED, false);
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const otlpTracesUrl = traces ? traces : base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined;
  return {
    enabled,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || serviceName,
    otlpTracesUrl,
    otlpProtocol: protocolOf(env),
    sampling: {
      ratio: ratioOf(env),
      keepErrors: truthy(env.TENANTMESH_TRACE_KEEP_ERRORS, true),
      keepThrottled: truthy(env.TENANTMESH_TRACE_KEEP_THROTTLED, true),
    },
  };
}
