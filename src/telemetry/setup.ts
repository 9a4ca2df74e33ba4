import { context, propagation, trace, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { TracingConfig } from "./config.js";
import { createOtlpProtobufTraceExporter } from "./otlp-proto.js";
import { FanOutProcessor, TenantBaggageProcessor } from "./processors.js";
import { w3cPropagator } from "./propagation.js";
import { HeadSampler, TailKeepingProcessor } from "./sampling.js";

/** The process's running tracing SDK */
export interface Tracing {
  readonly config: TracingConfig;
  /** A tracer of one component (see `scopes`) */
  tracer(scope: string): Tracer;
  /**
   * Adds a processor that sees every recorded span, sampled or not (in-process sinks: the proxy's monitor
   * aggregator and trace ring). Returns its removal.
   */
  addProcessor(processor: SpanProcessor): () => void;
  forceFlush(): Promise<void>;
  /** Flushes, stops the SDK and unregisters it, so the process could start tracing again */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions {
  /** Extra exporters behind the sampling rules, exported synchronously (tests: InMemorySpanExporter) */
  readonly exporters?: readonly SpanExporter[];
  /**
   * Register the AsyncLocalStorage context manager (default true), so handlers' outgoing calls join their
   * span's trace implicitly. The proxy passes false: it hands contexts explicitly, and an enabled
   * AsyncLocalStorage taxes every promise of the process (measured: tens of µs per proxied request).
   */
  readonly asyncContext?: boolean;
}

/**
 * The batch processor's queue, larger than the SDK's 2,048: at full sampling a busy proxy ends thousands of
 * spans a second, and while one batch is on the wire the next ones wait here; a full queue drops spans.
 * Batches stay at the SDK's 512 spans (one OTLP request each), so spans do not live long enough to burden the GC.
 */
const exportBatching = { maxQueueSize: 16_384, maxExportBatchSize: 512 } as const;

let current: Tracing | undefined;

/** The tracing SDK this process started, if any: components that start later join it through this */
export const currentTracing = (): Tracing | undefined => current;

/**
 * Starts the OpenTelemetry SDK for this process when `config.enabled`: a NodeTracerProvider (AsyncLocalStorage
 * context, so a handler's outgoing calls continue its trace), the W3C trace-context + baggage propagator,
 * the head sampler, the tenant-baggage processor, and OTLP/HTTP export (protobuf by default) behind the tail
 * rules when an endpoint is configured. Returns undefined when tracing is off: nothing is registered, so every span the
 * code starts is the API's no-op. One SDK per process; a second start is a wiring bug.
 */
export function startTracing(config: TracingConfig, options: StartTracingOptions = {}): Tracing | undefined {
  if (!config.enabled) return undefined;
  if (current !== undefined) throw new Error("tracing is already started in this process");
  const fanOut = new FanOutProcessor();
  const processors: SpanProcessor[] = [new TenantBaggageProcessor()];
  if (config.otlpTracesUrl !== undefined) {
    const url = config.otlpTracesUrl;
    const exporter = config.otlpProtocol === "http/json" ? new OTLPTraceExporter({ url }) : createOtlpProtobufTraceExporter(url);
    processors.push(new TailKeepingProcessor(new BatchSpanProcessor(exporter, exportBatching), config.sampling));
  }
  for (const exporter of options.exporters ?? []) processors.push(new TailKeepingProcessor(new SimpleSpanProcessor(exporter), config.sampling));
  processors.push(fanOut);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    sampler: new HeadSampler(config.sampling),
    spanProcessors: processors,
  });
  provider.register({ propagator: w3cPropagator, ...(options.asyncContext === false ? { contextManager: null } : {}) });

  const handle: Tracing = {
    config,
    tracer: (scope) => provider.getTracer(scope),
    addProcessor: (processor) => fanOut.add(processor),
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      if (current !== handle) return;
      current = undefined;
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
  current = handle;
  return handle;
}
