import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { TENANT_ID, TENANT_PLAN, TENANT_PRIORITY } from "./attributes.js";
import { tenantFromBaggage } from "./propagation.js";

/**
 * Copies the baggage's `tenant.*` members onto every span as it starts, unless the span set them itself. This
 * is how server spans behind the proxy (KYB, control plane) and any span their handlers start get tagged with
 * the tenant without each call site doing it.
 */
export class TenantBaggageProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    const tenant = tenantFromBaggage(parentContext);
    if (tenant.id === undefined) return;
    const attrs = span.attributes;
    if (attrs[TENANT_ID] === undefined) span.setAttribute(TENANT_ID, tenant.id);
    if (tenant.plan !== undefined && attrs[TENANT_PLAN] === undefined) span.setAttribute(TENANT_PLAN, tenant.plan);
    if (tenant.priority !== undefined && attrs[TENANT_PRIORITY] === undefined) span.setAttribute(TENANT_PRIORITY, tenant.priority);
  }
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A span processor whose members can be added and removed while the provider runs (SDK 2.x providers take
 * their processors once, at construction). Components that start after the SDK — the proxy's monitor
 * aggregator and trace ring — join here. The member list is replaced, never mutated, so a span in flight
 * sees one consistent list.
 */
export class FanOutProcessor implements SpanProcessor {
  #members: readonly SpanProcessor[] = [];

  add(processor: SpanProcessor): () => void {
    this.#members = [...this.#members, processor];
    return () => {
      this.#members = this.#members.filter((p) => p !== processor);
    };
  }

  onStart(span: Span, parentContext: Context): void {
    for (const p of this.#members) p.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    for (const p of this.#members) p.onEnd(span);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.#members.map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    const members = this.#members;
    this.#members = [];
    await Promise.all(members.map((p) => p.shutdown()));
  }
}
