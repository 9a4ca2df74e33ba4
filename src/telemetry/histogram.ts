import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";

/** Largest latency tracked: one hour, in microseconds (longer values are recorded as this) */
const HIGHEST_US = 3_600_000_000;

/**
 * Relative error of a recorded value: two significant decimal digits. A percentile read back is within 1% of
 * the true value at that rank. Two digits keep a proxy's per-tenant window at ~14 KB; three would cost ~95 KB.
 */
export const HISTOGRAM_PRECISION = 0.01;

const shape = { lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 2, autoResize: false } as const;

/**
 * A latency distribution in microseconds, backed by an HDR histogram. Windows are shipped and stored in the
 * HDR V2 compressed encoding (base64) and merged by adding bucket counts, which is exact: the percentiles of a
 * merged histogram are those of all the values recorded into its parts. `wide` histograms (64-bit counts) are
 * for merging many windows; a proxy window uses 32-bit counts.
 */
export class LatencyHistogram {
  private constructor(private readonly h: Histogram) {}

  static create(wide = false): LatencyHistogram {
    return new LatencyHistogram(build({ ...shape, bitBucketSize: wide ? 64 : 32 }));
  }

  /** Decodes a stored or reported window; throws on a malformed encoding */
  static decode(encoded: string): LatencyHistogram {
    return new LatencyHistogram(decodeFromCompressedBase64(encoded, 64));
  }

  /** The exact merge of every encoded histogram given */
  static merge(encoded: Iterable<string>): LatencyHistogram {
    const acc = LatencyHistogram.create(true);
    for (const e of encoded) acc.add(LatencyHistogram.decode(e));
    return acc;
  }

  /** Records one latency given in milliseconds (fractions kept to the microsecond) */
  recordMs(ms: number): void {
    const us = Math.round(ms * 1_000);
    this.h.recordValue(us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : us);
  }

  add(other: LatencyHistogram): void {
    this.h.add(other.h);
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** The latency in milliseconds at percentile `p` (0–100), nearest rank; 0 when empty */
  percentileMs(p: number): number {
    return this.h.totalCount === 0 ? 0 : this.h.getValueAtPercentile(p) / 1_000;
  }

  get maxMs(): number {
    return this.h.totalCount === 0 ? 0 : this.h.maxValue / 1_000;
  }

  encode(): string {
    return encodeIntoCompressedBase64(this.h);
  }

  reset(): void {
    this.h.reset();
  }
}
