/** Usage metering in the proxy: the record hook, the spool, the flush to QuotaService, the monthly quota gate */
export { UsageCounter, type CountedEvent, type ProxyResource } from "./counter.js";
export { UsageMeter, type UsageMeterOptions } from "./meter.js";
export { UsageMetrics } from "./metrics.js";
export { QuotaView } from "./quota-view.js";
export { GrpcUsageSink, nullUsageSink, type UsageSink } from "./sink.js";
export { UsageSpool, type SpooledBatch } from "./spool.js";

import path from "node:path";
import type { Registry } from "prom-client";
import type { Clock } from "../../src/auth/clock.js";
import type { Logger } from "../../src/log/index.js";
import { UsageMeter } from "./meter.js";
import { GrpcUsageSink } from "./sink.js";

/** How a proxy process meters usage (every field optional: the defaults suit one proxy per data dir) */
export interface ProxyUsageOptions {
  /** The batches' source and id prefix; default `proxy-<hostname-ish pid>` */
  source?: string;
  flushIntervalMs?: number;
  spoolMaxBytes?: number;
}

/**
 * The proxy process's meter: counts go to the control plane's QuotaService with the proxy's service token
 * (scope usage:write); the spool is `usage-spool.jsonl` in the proxy's data dir. Started.
 */
export function createUsageMeter(options: ProxyUsageOptions & {
  address: string;
  serviceToken: string;
  dataDir: string;
  registry: Registry;
  clock: Clock;
  logger: Logger;
}): UsageMeter {
  return new UsageMeter({
    sink: new GrpcUsageSink(options.address, options.serviceToken),
    spoolFile: path.join(options.dataDir, "usage-spool.jsonl"),
    registry: options.registry,
    clock: options.clock,
    logger: options.logger.child({ component: "usage-meter" }),
    source: options.source ?? `proxy-${process.pid}`,
    ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
    ...(options.spoolMaxBytes === undefined ? {} : { spoolMaxBytes: options.spoolMaxBytes }),
  }).start();
}
