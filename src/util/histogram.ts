// Latency histograms (HdrHistogram) recorded in microseconds, summarized in milliseconds.
import * as hdr from 'hdr-histogram-js';

export interface LatencySummaryMs {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

const HIGHEST_US = 3_600_000_000; // one hour
const BUCKETS_PER_DECADE = 10;

export class LatencyHistogram {
  private h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });
  /** Counts per log-spaced bucket, for plots (HdrHistogram's JS API has no range counts). Not encoded. */
  private readonly logBuckets = new Float64Array(Math.ceil(Math.log10(HIGHEST_US) * BUCKETS_PER_DECADE) + 1);

  /** Record a duration given in milliseconds (negative values, from clock skew between threads, count as 0), `count` times. */
  recordMs(ms: number, count = 1): void {
    const us = Math.round(ms * 1000);
    const v = us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : us;
    if (count === 1) this.h.recordValue(v);
    else this.h.recordValueWithCount(v, count);
    this.logBuckets[Math.floor(Math.log10(v) * BUCKETS_PER_DECADE)]! += count;
  }

  get count(): number {
    return this.h.totalCount;
  }

  summary(): LatencySummaryMs {
    const h = this.h;
    const q = (p: number): number => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / 1000);
    return {
      count: h.totalCount,
      mean: h.totalCount === 0 ? 0 : h.mean / 1000,
      p50: q(50),
      p95: q(95),
      p99: q(99),
      p999: q(99.9),
      max: h.totalCount === 0 ? 0 : h.maxValue / 1000,
    };
  }

  /** Log-spaced buckets [upper bound ms, count] (10 per decade of microseconds) for plotting. */
  buckets(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    this.logBuckets.forEach((count, i) => {
      if (count > 0) out.push([Math.pow(10, (i + 1) / BUCKETS_PER_DECADE) / 1000, count]);
    });
    return out;
  }

  add(other: LatencyHistogram): void {
    this.h.add(other.h);
    for (let i = 0; i < this.logBuckets.length; i++) this.logBuckets[i]! += other.logBuckets[i]!;
  }

  reset(): void {
    this.h.reset();
    this.logBuckets.fill(0);
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  /** The standard HdrHistogram percentile distribution text (.hgrm), values in ms. */
  hgrm(): string {
    return this.h.outputPercentileDistribution(5, 1000);
  }

  /**
   * The percentile spectrum: [1/(1-p), latency ms] from p = 0 up to the last recorded value, 20 points per
   * decade of 1/(1-p), for a plot on a log axis where p99 and p99.9 are a decade apart.
   */
  spectrum(): Array<[number, number]> {
    const n = this.h.totalCount;
    if (n === 0) return [];
    const out: Array<[number, number]> = [];
    const lastDecade = Math.log10(n); // beyond 1/(1-p) = n there is only the maximum
    for (let d = 0; d <= lastDecade + 1e-9; d += 0.05) {
      const x = 10 ** d;
      out.push([x, this.h.getValueAtPercentile(100 * (1 - 1 / x)) / 1000]);
    }
    out.push([Math.max(n, out[out.length - 1]![0]), this.h.maxValue / 1000]);
    return out;
  }

  /** The smallest latency the histogram tells apart (values below are recorded as this), in ms. */
  static readonly resolutionMs = 0.001;

  static decode(s: string): LatencyHistogram {
    const out = new LatencyHistogram();
    out.h.add(hdr.decodeFromCompressedBase64(s));
    return out;
  }
}

/** The shared clock: milliseconds comparable across worker threads of one process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
