import type { Attributes, AttributeValue, HrTime, Link, SpanContext } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from "@opentelemetry/otlp-exporter-base/node-http";
import { ProtobufTraceSerializer, TraceExporterMetricsHelper, type IExportTraceServiceResponse, type ISerializer } from "@opentelemetry/otlp-transformer";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, SpanExporter, TimedEvent } from "@opentelemetry/sdk-trace-base";

/**
 * OTLP/HTTP with protobuf (`http/protobuf`, the protocol OpenTelemetry recommends by default): the SDK's own
 * HTTP transport (keep-alive agent, retries, OTEL_EXPORTER_OTLP_* headers and timeout) with the serializer below.
 */
export function createOtlpProtobufTraceExporter(url: string): SpanExporter {
  const options = convertLegacyHttpOptions({ url }, "TRACES", "v1/traces", { "Content-Type": "application/x-protobuf" });
  return new OTLPExporterBase(createOtlpHttpExportDelegate(options, fastProtobufTraceSerializer, "otlp_http_span_exporter", TraceExporterMetricsHelper, undefined));
}

/**
 * OTLP ExportTraceServiceRequest in protobuf, written in one pass: the same bytes as the SDK's
 * ProtobufTraceSerializer (otlp-transformer 0.223; a test compares them), at a fraction of its CPU.
 *
 * Serialization is most of what full-sampling tracing costs the proxy, and the SDK's writer sizes every message
 * twice and encodes every string character by character. Here strings are encoded natively, and the short
 * ones that repeat on every span (attribute keys, tenant ids, plans, routes, backends, outcomes, span names) are
 * encoded once and copied afterwards. Field order and encodings follow opentelemetry-proto's trace.proto and
 * common.proto exactly as the SDK writes them.
 */
export const fastProtobufTraceSerializer: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: (spans) => serializeTraceRequest(spans),
  deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
};

/** Strings up to this length are cached encoded (with their length prefix); longer ones are rarely repeated */
const CACHED_MAX_LENGTH = 128;
/** The cache is cleared when it reaches this many strings, so high-cardinality values cannot grow it */
const CACHE_LIMIT = 4_096;

/** A growable buffer with protobuf primitives; reused across batches, the result is copied out */
class Writer {
  buf = Buffer.allocUnsafe(256 * 1024);
  pos = 0;
  readonly #strings = new Map<string, Buffer>();
  /** key → string value → the whole encoded span attribute (field tag, length, KeyValue) */
  readonly #pairs = new Map<string, Map<string, Buffer>>();
  #pairCount = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** An unsigned varint, or a negative integer as its 64-bit two's complement (10 bytes), like the SDK */
  varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value >>> 0;
      high = (value / 0x100000000) >>> 0;
    } else {
      const abs = Math.abs(value);
      low = ~(abs >>> 0) >>> 0;
      high = ~((abs / 0x100000000) >>> 0) >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 0x7f) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low & 0x7f;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** Reserves `reserve` bytes for a length; `end` writes it, moving the body when it needs another size */
  begin(reserve: number): number {
    this.ensure(reserve);
    const at = this.pos;
    this.pos += reserve;
    return at;
  }

  end(at: number, reserve: number): void {
    const length = this.pos - at - reserve;
    const size = length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x200000 ? 3 : length < 0x10000000 ? 4 : 5;
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buf.copyWithin(at + size, at + reserve, this.pos);
      this.pos += size - reserve;
    }
    let v = length;
    let p = at;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  string(s: string): void {
    if (s.length <= CACHED_MAX_LENGTH) {
      let encoded = this.#strings.get(s);
      if (encoded === undefined) {
        const n = Buffer.byteLength(s, "utf8");
        encoded = Buffer.allocUnsafe(varintSize(n) + n);
        let p = 0;
        for (let v = n; ; v >>>= 7) {
          if (v <= 0x7f) {
            encoded[p++] = v;
            break;
          }
          encoded[p++] = (v & 0x7f) | 0x80;
        }
        encoded.write(s, p, "utf8");
        if (this.#strings.size >= CACHE_LIMIT) this.#strings.clear();
        this.#strings.set(s, encoded);
      }
      this.ensure(encoded.length);
      this.buf.set(encoded, this.pos);
      this.pos += encoded.length;
      return;
    }
    const n = Buffer.byteLength(s, "utf8");
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, "utf8");
  }

  /** A span attribute (field 9) with a short string value, from the cache of whole encoded pairs */
  spanStringAttribute(key: string, value: string): void {
    let values = this.#pairs.get(key);
    if (values === undefined) this.#pairs.set(key, (values = new Map()));
    let encoded = values.get(value);
    if (encoded === undefined) {
      const start = this.pos;
      this.tag(9, 2);
      writeKeyValue(this, key, value);
      encoded = Buffer.from(this.buf.subarray(start, this.pos));
      if (this.#pairCount >= CACHE_LIMIT) {
        this.#pairs.clear();
        this.#pairCount = 0;
        this.#pairs.set(key, (values = new Map()));
      }
      values.set(value, encoded);
      this.#pairCount++;
      return;
    }
    this.ensure(encoded.length);
    this.buf.set(encoded, this.pos);
    this.pos += encoded.length;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A hex id (trace or span id) as its bytes */
  hexId(hex: string): void {
    const n = hex.length >>> 1;
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(hex, this.pos, n, "hex");
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeUInt32LE(v >>> 0, this.pos);
  }

  /** [seconds, nanoseconds] as fixed64 nanoseconds, exact beyond 2^53 (the SDK's arithmetic) */
  hrTime(t: HrTime): void {
    const [seconds, nanos] = t;
    const lower = (seconds & 0xffff) * 1_000_000_000;
    const upper = ((seconds / 0x10000) >>> 0) * 1_000_000_000;
    const low = (lower >>> 0) + (((upper & 0xffff) * 0x10000) >>> 0) + nanos;
    const high = Math.floor(lower / 0x100000000) + ((upper / 0x10000) >>> 0) + Math.floor(low / 0x100000000);
    this.ensure(8);
    this.buf.writeUInt32LE(low >>> 0, this.pos);
    this.buf.writeUInt32LE(high >>> 0, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }
}

const varintSize = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

const writer = new Writer();

/** The request's bytes, in a buffer of their own (the transport may still hold them while the next batch is written) */
export function serializeTraceRequest(spans: readonly ReadableSpan[]): Uint8Array {
  const w = writer;
  w.pos = 0;
  for (const [resource, scopes] of group(spans)) {
    w.tag(1, 2);
    const rs = w.begin(3);
    writeResource(w, resource);
    for (const scopeSpans of scopes.values()) {
      w.tag(2, 2);
      const ss = w.begin(3);
      const scope = scopeSpans[0]!.instrumentationScope;
      writeScope(w, scope);
      for (const span of scopeSpans) writeSpan(w, span);
      if (scope.schemaUrl) {
        w.tag(3, 2);
        w.string(scope.schemaUrl);
      }
      w.end(ss, 3);
    }
    if (resource.schemaUrl) {
      w.tag(3, 2);
      w.string(resource.schemaUrl);
    }
    w.end(rs, 3);
  }
  return Buffer.from(w.buf.subarray(0, w.pos));
}

/** Spans by resource, then by instrumentation scope, by identity (as the SDK groups them) */
function group(spans: readonly ReadableSpan[]): Map<Resource, Map<InstrumentationScope, ReadableSpan[]>> {
  const out = new Map<Resource, Map<InstrumentationScope, ReadableSpan[]>>();
  for (const span of spans) {
    let scopes = out.get(span.resource);
    if (scopes === undefined) out.set(span.resource, (scopes = new Map()));
    const list = scopes.get(span.instrumentationScope);
    if (list === undefined) scopes.set(span.instrumentationScope, [span]);
    else list.push(span);
  }
  return out;
}

function writeResource(w: Writer, resource: Resource): void {
  w.tag(1, 2);
  const at = w.begin(1);
  writeAttributes(w, resource.attributes, 1);
  w.tag(2, 0);
  w.varint(0);
  w.end(at, 1);
}

function writeScope(w: Writer, scope: InstrumentationScope & { attributes?: Attributes; droppedAttributesCount?: number }): void {
  w.tag(1, 2);
  const at = w.begin(1);
  w.tag(1, 2);
  w.string(scope.name);
  if (scope.version) {
    w.tag(2, 2);
    w.string(scope.version);
  }
  if (scope.attributes) writeAttributes(w, scope.attributes, 3);
  if (scope.droppedAttributesCount) {
    w.tag(4, 0);
    w.varint(scope.droppedAttributesCount);
  }
  w.end(at, 1);
}

/** Span flags: the trace flags, plus "has is_remote" and "is_remote" (trace.proto SpanFlags) */
const spanFlags = (traceFlags: number, isRemote: boolean | undefined): number => (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);

/** trace_id (1), span_id (2) and trace_state (3): the same fields in a Span and in a Span.Link */
function writeIds(w: Writer, ctx: SpanContext): void {
  w.tag(1, 2);
  w.hexId(ctx.traceId);
  w.tag(2, 2);
  w.hexId(ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) {
    w.tag(3, 2);
    w.string(traceState);
  }
}

function writeSpan(w: Writer, span: ReadableSpan): void {
  w.tag(2, 2);
  const at = w.begin(2);
  const ctx = span.spanContext();
  writeIds(w, ctx);
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    w.tag(4, 2);
    w.hexId(parent.spanId);
  }
  w.tag(5, 2);
  w.string(span.name);
  const kind = span.kind == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    w.tag(6, 0);
    w.varint(kind);
  }
  w.tag(7, 1);
  w.hrTime(span.startTime);
  w.tag(8, 1);
  w.hrTime(span.endTime);
  writeSpanAttributes(w, span.attributes);
  w.tag(10, 0);
  w.varint(span.droppedAttributesCount);
  for (const event of span.events) writeEvent(w, event);
  w.tag(12, 0);
  w.varint(span.droppedEventsCount);
  for (const link of span.links) writeLink(w, link);
  w.tag(14, 0);
  w.varint(span.droppedLinksCount);
  w.tag(15, 2);
  const status = w.begin(1);
  if (span.status.message) {
    w.tag(2, 2);
    w.string(span.status.message);
  }
  w.tag(3, 0);
  w.varint(span.status.code);
  w.end(status, 1);
  w.tag(16, 5);
  w.fixed32(spanFlags(ctx.traceFlags, parent?.isRemote));
  w.end(at, 2);
}

function writeEvent(w: Writer, event: TimedEvent): void {
  w.tag(11, 2);
  const at = w.begin(1);
  w.tag(1, 1);
  w.hrTime(event.time);
  w.tag(2, 2);
  w.string(event.name);
  if (event.attributes) writeAttributes(w, event.attributes, 3);
  w.tag(4, 0);
  w.varint(event.droppedAttributesCount || 0);
  w.end(at, 1);
}

function writeLink(w: Writer, link: Link): void {
  w.tag(13, 2);
  const at = w.begin(1);
  writeIds(w, link.context);
  if (link.attributes) writeAttributes(w, link.attributes, 4);
  w.tag(5, 0);
  w.varint(link.droppedAttributesCount || 0);
  w.tag(6, 5);
  w.fixed32(spanFlags(link.context.traceFlags, link.context.isRemote));
  w.end(at, 1);
}

/** Repeated KeyValue under `field`, in the attributes' own order */
function writeAttributes(w: Writer, attributes: Attributes, field: number): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    w.tag(field, 2);
    writeKeyValue(w, key, attributes[key]);
  }
}

/** The span's attributes (field 9): short string values, which repeat across spans, come whole from the cache */
function writeSpanAttributes(w: Writer, attributes: Attributes): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    const value = attributes[key];
    if (typeof value === "string" && key.length + value.length <= CACHED_MAX_LENGTH) {
      w.spanStringAttribute(key, value);
      continue;
    }
    w.tag(9, 2);
    writeKeyValue(w, key, value);
  }
}

function writeKeyValue(w: Writer, key: string, value: unknown): void {
  const at = w.begin(1);
  w.tag(1, 2);
  w.string(key);
  w.tag(2, 2);
  const v = w.begin(1);
  writeAnyValue(w, value);
  w.end(v, 1);
  w.end(at, 1);
}

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/** common.proto AnyValue; other types (null, undefined) leave it empty, as the SDK does */
function writeAnyValue(w: Writer, value: AttributeValue | unknown): void {
  if (typeof value === "string") {
    w.tag(1, 2);
    w.string(value);
  } else if (typeof value === "boolean") {
    w.tag(2, 0);
    w.varint(value ? 1 : 0);
  } else if (typeof value === "number") {
    if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
      w.tag(3, 0);
      w.varint(value);
    } else {
      w.tag(4, 1);
      w.double(value);
    }
  } else if (value instanceof Uint8Array) {
    w.tag(7, 2);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.tag(5, 2);
    const at = w.begin(1);
    for (const item of value) {
      w.tag(1, 2);
      const i = w.begin(1);
      writeAnyValue(w, item);
      w.end(i, 1);
    }
    w.end(at, 1);
  } else if (typeof value === "object" && value !== null) {
    w.tag(6, 2);
    const at = w.begin(1);
    const obj = value as Record<string, unknown>;
    for (const k in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
      w.tag(1, 2);
      writeKeyValue(w, k, obj[k]);
    }
    w.end(at, 1);
  }
}
