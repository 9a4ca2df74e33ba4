import { SpanStatusCode, TraceFlags, type Attributes, type Context, type Link, type SpanContext, type SpanKind } from "@opentelemetry/api";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type Span,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { PROXY_THROTTLED } from "./attributes.js";

/** How traces are sampled: a head ratio for ordinary requests, plus tail rules that keep the interesting ones */
export interface SamplingPolicy {
  /** Fraction of new traces sampled at their root (0–1); a sampled parent is always followed */
  readonly ratio: number;
  /** Keep (export) spans that ended in error even when the head did not sample their trace */
  readonly keepErrors: boolean;
  /** Keep spans of requests the throttle refused */
  readonly keepThrottled: boolean;
}

const recordOnly: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD });

/**
 * The head sampler: parent-based, with `ratio` for roots. When a tail rule is on, traces the head does not
 * sample are still RECORDED (not exported): whether a request fails or is throttled is known only when it
 * ends, so the span must exist to be kept then (TailKeepingProcessor decides). With no tail rule, unsampled
 * spans are not recorded at all, which is the cheapest setting.
 */
export class HeadSampler implements Sampler {
  readonly #inner: Sampler;
  readonly #recordUnsampled: boolean;

  constructor(readonly policy: SamplingPolicy) {
    const root = policy.ratio >= 1 ? new AlwaysOnSampler() : policy.ratio <= 0 ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(policy.ratio);
    this.#inner = new ParentBasedSampler({ root });
    this.#recordUnsampled = policy.keepErrors || policy.keepThrottled;
  }

  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const result = this.#inner.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    if (result.decision !== SamplingDecision.NOT_RECORD || !this.#recordUnsampled) return result;
    return recordOnly;
  }

  toString(): string {
    return `HeadSampler{ratio=${this.policy.ratio},keepErrors=${this.policy.keepErrors},keepThrottled=${this.policy.keepThrottled}}`;
  }
}

const isSampled = (sc: SpanContext): boolean => (sc.traceFlags & TraceFlags.SAMPLED) !== 0;

/** The tail rule: export a span the head sampled, or one that failed or was throttled (per the policy) */
export function shouldKeep(span: ReadableSpan, policy: SamplingPolicy): boolean {
  if (isSampled(span.spanContext())) return true;
  if (policy.keepErrors && span.status.code === SpanStatusCode.ERROR) return true;
  return policy.keepThrottled && span.attributes[PROXY_THROTTLED] === true;
}

/**
 * Sits in front of an exporting processor (BatchSpanProcessor + OTLP, SimpleSpanProcessor + in-memory): passes
 * on the spans `shouldKeep` keeps. A kept span the head did not sample is passed as a view with the sampled
 * flag set, because the SDK's exporting processors drop unsampled spans by their flag.
 */
export class TailKeepingProcessor implements SpanProcessor {
  constructor(
    private readonly inner: SpanProcessor,
    private readonly policy: SamplingPolicy,
  ) {}

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if (isSampled(span.spanContext())) return this.inner.onEnd(span);
    if (shouldKeep(span, this.policy)) this.inner.onEnd(asSampled(span));
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** The span seen through a prototype link, with only its span context's flags changed */
function asSampled(span: ReadableSpan): ReadableSpan {
  const sc = span.spanContext();
  const sampled: SpanContext = { ...sc, traceFlags: sc.traceFlags | TraceFlags.SAMPLED };
  return Object.create(span, { spanContext: { value: () => sampled } }) as ReadableSpan;
}
