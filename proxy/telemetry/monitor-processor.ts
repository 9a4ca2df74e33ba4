import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { scopes } from "../../src/telemetry/attributes.js";
import { summaryFromSpan, type RequestSummary } from "./summary.js";

/**
 * Span → monitor: a span processor that turns every ended proxy request span (sampled or not: the monitor
 * must see all traffic, the exporter only what sampling keeps) into a RequestSummary for the window
 * aggregator and the trace ring. Spans of other components sharing the process (`tenantmesh up`) and child
 * spans are ignored. onEnd runs on the request's path, so it does only in-memory work.
 */
export class MonitorSpanProcessor implements SpanProcessor {
  constructor(private readonly sinks: ReadonlyArray<(summary: RequestSummary) => void>) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (span.kind !== SpanKind.SERVER || span.instrumentationScope.name !== scopes.proxy) return;
    const summary = summaryFromSpan(span, span.status.code === SpanStatusCode.ERROR);
    for (const sink of this.sinks) sink(summary);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
