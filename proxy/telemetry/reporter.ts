import { hostname } from "node:os";
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import type { Clock } from "../../src/auth/clock.js";
import { MonitorServiceClient, type ClusterWindow, type ReportMetricsRequest, type ReportMetricsResponse, type TenantWindow } from "../../src/gen/tenantmesh/v1/monitor.js";
import type { Logger } from "../../src/log/index.js";
import type { WindowAggregator } from "./window-aggregator.js";

export interface MetricsReporterOptions {
  /** The control plane, host:port */
  readonly address: string;
  /** A service token with scope metrics:write */
  readonly serviceToken: string;
  readonly aggregator: WindowAggregator;
  readonly clock: Clock;
  readonly logger: Logger;
  /** This proxy's name in stored windows (default `<hostname>:<pid>`) */
  readonly source?: string;
  /** Closed windows kept for a control plane that is unreachable (default 50,000 tenant windows); oldest dropped */
  readonly maxPending?: number;
  /** Tenant windows per stream message (default 500) */
  readonly batchSize?: number;
}

/**
 * Ships closed windows to MonitorService.ReportMetrics: one short client stream per window close, carrying
 * the windows in messages of at most `batchSize`. The response acknowledges what the stream carried; until
 * then windows stay pending and are sent again with the next close, which is safe because the monitor stores
 * a (tenant, window, source) once. While the control plane is unreachable pending windows are bounded, and
 * dropped windows are counted (`dropped`) and logged.
 */
export class MetricsReporter {
  readonly source: string;
  readonly #client: MonitorServiceClient;
  readonly #metadata = new Metadata();
  #tenants: TenantWindow[] = [];
  #clusters: ClusterWindow[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #closed = false;
  /** Windows given up on because pending was full, or because the monitor refused them as malformed */
  dropped = 0;
  /** Windows the monitor acknowledged */
  sent = 0;

  constructor(private readonly options: MetricsReporterOptions) {
    this.source = options.source ?? `${hostname()}:${process.pid}`;
    this.#client = new MonitorServiceClient(options.address, credentials.createInsecure());
    this.#metadata.set("authorization", `Bearer ${options.serviceToken}`);
  }

  /** Closes and sends windows just after each window boundary */
  start(): this {
    const schedule = (): void => {
      if (this.#closed) return;
      const w = this.options.aggregator.windowMs;
      const now = this.options.clock.now();
      this.#timer = setTimeout(() => {
        void this.flush().finally(schedule);
      }, w - (now % w) + 50);
      this.#timer.unref();
    };
    schedule();
    return this;
  }

  /** Closes the windows that ended (all of them with `all`) and sends everything pending */
  async flush(all = false): Promise<void> {
    const now = this.options.clock.now();
    this.options.aggregator.touch(now);
    const closed = this.options.aggregator.close(now, all);
    this.#tenants.push(...closed.tenants);
    this.#clusters.push(...closed.clusters);
    const max = this.options.maxPending ?? 50_000;
    if (this.#tenants.length > max) {
      const excess = this.#tenants.length - max;
      this.#tenants.splice(0, excess);
      this.dropped += excess;
      this.options.logger.warn({ dropped: excess }, "monitor unreachable for long: oldest metric windows dropped");
    }
    if (this.#clusters.length > max) this.#clusters.splice(0, this.#clusters.length - max);
    // Sends are chained, so two flushes never interleave their pending lists.
    this.#sending = (this.#sending ?? Promise.resolve()).then(() => this.#send());
    await this.#sending;
  }

  async #send(): Promise<void> {
    if (this.#tenants.length === 0 && this.#clusters.length === 0) return;
    const tenants = this.#tenants;
    const clusters = this.#clusters;
    this.#tenants = [];
    this.#clusters = [];
    const batch = this.options.batchSize ?? 500;
    try {
      await new Promise<ReportMetricsResponse>((resolve, reject) => {
        const stream = this.#client.reportMetrics(this.#metadata, { deadline: Date.now() + 30_000 }, (err: ServiceError | null, res) => (err ? reject(err) : resolve(res)));
        stream.on("error", () => undefined); // the callback reports it
        for (let i = 0; i < Math.max(tenants.length, 1); i += batch) {
          const msg: ReportMetricsRequest = { source: this.source, tenants: tenants.slice(i, i + batch), clusters: i === 0 ? clusters : [] };
          stream.write(msg);
        }
        stream.end();
      });
      this.sent += tenants.length;
    } catch (err) {
      const e = err as ServiceError;
      if (e.code === status.INVALID_ARGUMENT || e.code === status.PERMISSION_DENIED || e.code === status.UNAUTHENTICATED) {
        // Refused windows (malformed, or a token without metrics:write) would be refused again: give them up.
        this.dropped += tenants.length;
        this.options.logger.error({ err: e.details, code: e.code }, "the monitor refused metric windows; dropped");
        return;
      }
      this.options.logger.warn({ err: e.details ?? e.message, pending: tenants.length }, "cannot report metric windows yet; will retry");
      this.#tenants = [...tenants, ...this.#tenants];
      this.#clusters = [...clusters, ...this.#clusters];
    }
  }

  /** Windows waiting to be acknowledged */
  get pending(): number {
    return this.#tenants.length;
  }

  /** Sends everything, the open window included, then stops */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush(true).catch(() => undefined);
    this.#client.close();
  }
}
