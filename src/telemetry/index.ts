/** Tracing and metrics plumbing shared by the control plane, the proxy and the KYB service */
export * from "./attributes.js";
export { tracingConfigFromEnv, type TracingConfig } from "./config.js";
export { RpcSpan, tracingClientInterceptor } from "./grpc.js";
export { traceHttpRequest } from "./http.js";
export { FanOutProcessor, TenantBaggageProcessor } from "./processors.js";
export {
  extractFromHeaders,
  extractFromMetadata,
  injectIntoHeaders,
  injectIntoMetadata,
  tenantFromBaggage,
  w3cPropagator,
  type BaggageTenant,
} from "./propagation.js";
export { HeadSampler, shouldKeep, TailKeepingProcessor, type SamplingPolicy } from "./sampling.js";
export { currentTracing, startTracing, type StartTracingOptions, type Tracing } from "./setup.js";
export { LatencyHistogram, HISTOGRAM_PRECISION } from "./histogram.js";
