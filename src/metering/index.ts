/** Usage metering: validation, idempotent batch ingestion with hour/day/month rollups, and reads of the rollups */
export { UsageIngestor, type IngestResult, type UsageIngestorOptions } from "./ingest.js";
export { aggregate, applyUsage } from "./rollup.js";
export { monthRowsTotal, monthTotals, usageSeries, type UsagePointRow } from "./store.js";
export { validateBatch, MAX_BATCH_EVENTS, MAX_FUTURE_SKEW_MS, type ValidBatch, type WireBatch } from "./validate.js";
export {
  isMeteredResourceType,
  meteredResourceTypes,
  meteredUnits,
  unbilledResourceTypes,
  type MeteredResourceType,
  type UsageEvent,
} from "./resources.js";
export {
  addMonths,
  granularities,
  isGranularity,
  monthPeriodOf,
  monthsOf,
  nextPeriod,
  parseBillingPeriod,
  periodStart,
  type BillingPeriod,
  type Granularity,
} from "./periods.js";
export { businessCreatedUsage, recordInTransaction, storedBytes, userCreatedUsage } from "./sources.js";
export { ingestorFor } from "./shared.js";
export { UsageRoller, type PendingUsage, type UsageRollerOptions } from "./roller.js";
