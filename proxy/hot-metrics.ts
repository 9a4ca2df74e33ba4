import type { Registry } from "prom-client";

/**
 * Counters and histograms for the proxy's per-request metrics, kept as plain numbers per series and read by
 * prom-client's Registry only at scrape time. prom-client's own `inc`/`observe` hash the label set on every call
 * (its labelled children too), which cost about 2 µs of proxy CPU per request; here a request adds to a series
 * handle the caller looked up once, and the labels are formatted when /metrics is read. The exposition (names,
 * `_bucket`/`_sum`/`_count`, `le`) is prom-client's, through the same Registry.
 */

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface MetricData {
  name: string;
  help: string;
  type: "counter" | "histogram";
  values: Value[];
  aggregator: "sum";
}

abstract class HotMetric<S> {
  readonly aggregator = "sum" as const;
  protected readonly series = new Map<string, { labels: readonly string[]; data: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    // The Registry reads any object with a name and get() (prom-client's Metric shape)
    registry.registerMetric(this as never);
  }

  /** The series of `labelValues` (in `labelNames` order), created on first use */
  protected seriesOf(labelValues: readonly string[], create: () => S): S {
    const key = labelValues.join("\u0000");
    let entry = this.series.get(key);
    if (entry === undefined) {
      if (labelValues.length !== this.labelNames.length) throw new RangeError(`${this.name} takes ${this.labelNames.length} label values, got ${labelValues.length}`);
      entry = { labels: [...labelValues], data: create() };
      this.series.set(key, entry);
    }
    return entry.data;
  }

  /** Drops the series of `labelValues` (a tenant that left the top N) */
  remove(labelValues: readonly string[]): void {
    this.series.delete(labelValues.join("\u0000"));
  }

  reset(): void {
    this.series.clear();
  }

  protected labelsOf(values: readonly string[]): Record<string, string> {
    const labels: Record<string, string> = {};
    for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]!] = values[i]!;
    return labels;
  }

  abstract get(): Promise<MetricData>;
}

/** A series of a HotCounter */
export interface CounterSeries {
  value: number;
}

export class HotCounter extends HotMetric<CounterSeries> {
  readonly type = "counter" as const;

  /** The series handle: add to its `value` (never subtract) */
  labels(labelValues: readonly string[]): CounterSeries {
    return this.seriesOf(labelValues, () => ({ value: 0 }));
  }

  async get(): Promise<MetricData> {
    const values: Value[] = [];
    for (const { labels, data } of this.series.values()) values.push({ labels: this.labelsOf(labels), value: data.value });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/** A series of a HotHistogram */
export class HistogramSeries {
  count = 0;
  sum = 0;
  /** Observations per bucket (not cumulative); the last slot is above the highest bound */
  readonly counts: Float64Array;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += value;
  }
}

export class HotHistogram extends HotMetric<HistogramSeries> {
  readonly type = "histogram" as const;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
    for (let i = 1; i < buckets.length; i++) if (!(buckets[i]! > buckets[i - 1]!)) throw new RangeError(`${name}: buckets must increase`);
  }

  labels(labelValues: readonly string[]): HistogramSeries {
    return this.seriesOf(labelValues, () => new HistogramSeries(this.buckets));
  }

  async get(): Promise<MetricData> {
    const values: Value[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, data } of this.series.values()) {
      const base = this.labelsOf(labels);
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += data.counts[i]!;
        values.push({ labels: { le: this.buckets[i]!, ...base }, value: cumulative, metricName: bucket });
      }
      values.push({ labels: { le: "+Inf", ...base }, value: data.count, metricName: bucket });
      values.push({ labels: base, value: data.sum, metricName: `${this.name}_sum` });
      values.push({ labels: base, value: data.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
