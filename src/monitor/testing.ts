/** Helpers for tests of the monitor: a client, promise forms of its calls, and scripted windows */
import { credentials, type CallOptions, type Metadata, type ServiceError } from "@grpc/grpc-js";
import { MonitorServiceClient, type ReportMetricsRequest, type ReportMetricsResponse, type TenantWindow } from "../gen/tenantmesh/v1/monitor.js";
import { LatencyHistogram } from "../telemetry/histogram.js";

export const monitorClient = (address: string): MonitorServiceClient => new MonitorServiceClient(address, credentials.createInsecure());

/** Promise form of a unary MonitorService method, bound to its client */
export function rpc<Req, Res>(
  client: MonitorServiceClient,
  method: (req: Req, md: Metadata, options: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown,
  req: Req,
  md: Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, md, {}, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** Sends `messages` on one ReportMetrics stream and resolves with the response */
export function report(client: MonitorServiceClient, md: Metadata, messages: readonly ReportMetricsRequest[]): Promise<ReportMetricsResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.reportMetrics(md, (err, res) => (err ? reject(err) : resolve(res)));
    stream.on("error", () => undefined);
    for (const m of messages) stream.write(m);
    stream.end();
  });
}

export interface ScriptedWindow {
  tenantId: string;
  start: number;
  windowSeconds?: number;
  /** Latencies of the window's requests, ms */
  latenciesMs: readonly number[];
  errors?: number;
  throttled?: number;
  queued?: number;
  queueWaitMs?: number;
  busyMs?: number;
  unitCapacity?: number;
}

/** A TenantWindow whose histogram holds exactly the given latencies */
export function scriptedWindow(w: ScriptedWindow): TenantWindow {
  const h = LatencyHistogram.create();
  for (const ms of w.latenciesMs) h.recordMs(ms);
  return {
    tenantId: w.tenantId,
    windowStart: new Date(w.start),
    windowSeconds: w.windowSeconds ?? 10,
    requests: String(w.latenciesMs.length),
    errors: String(w.errors ?? 0),
    throttled: String(w.throttled ?? 0),
    queued: String(w.queued ?? 0),
    queueWaitMs: w.queueWaitMs ?? 0,
    busyMs: w.busyMs ?? w.latenciesMs.reduce((a, b) => a + b, 0),
    unitCapacity: w.unitCapacity ?? 10,
    latencyHistogram: h.encode(),
  };
}

/** The exact nearest-rank percentile of `values` (what an HDR histogram approximates) */
export function exactPercentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? 0;
}
