// Latency histograms (HdrHistogram) recorded in microseconds, summarized in milliseconds.
import { createRequire } from 'node:module';
import type * as Hdr from 'hdr-histogram-js';

let hdrModule: typeof Hdr | undefined;
/**
 * hdr-histogram-js, loaded on first use: recording needs only this file's own slot counts, and the library (with
 * its WebAssembly build and pako) took about 100 ms of a node worker's 750 ms of start under the contention of
 * six threads starting on two cores (docs/benchmarks.md, "Starting a cluster"), in every thread, for histograms
 * read only when metrics are asked for.
 */
function hdr(): typeof Hdr {
  return (hdrModule ??= createRequire(import.meta.url)('hdr-histogram-js') as typeof Hdr);
}

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

/**
 * HdrHistogram's layout for 3 significant digits from 1 µs: buckets of 2^11 sub-buckets, each bucket after the first
 * covering the upper half at twice the previous unit. A value's slot (fastIndex) is the slot hdr-histogram-js gives
 * it, found with integer operations instead of its floating-point log2 and pow.
 */
const SUB_BUCKET_HALF_MAGNITUDE = 10;
const SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_MAGNITUDE;
/** Values at or above this (about 35 minutes in µs) go to the histogram directly: the integer path needs 31 bits. */
const FAST_LIMIT = 2 ** 31;
const FAST_SLOTS = (31 - SUB_BUCKET_HALF_MAGNITUDE + 1) * SUB_BUCKET_HALF_COUNT;
/** A pending slot's count stays a Uint32. */
const MAX_PENDING = 0xffff_ffff;

/** The slot of `v` (an integer in [1, FAST_LIMIT)), as HdrHistogram lays them out (countsArrayIndex). */
export function fastIndex(v: number): number {
  const bucket = Math.max(31 - Math.clz32(v) - SUB_BUCKET_HALF_MAGNITUDE, 0);
  return ((bucket + 1) << SUB_BUCKET_HALF_MAGNITUDE) + (v >>> bucket) - SUB_BUCKET_HALF_COUNT;
}

/** The lowest value of slot `i` (valueFromIndex): every value of a slot is the same to the histogram. */
export function fastSlotValue(i: number): number {
  let bucket = (i >> SUB_BUCKET_HALF_MAGNITUDE) - 1;
  let sub = (i & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
  if (bucket < 0) {
    sub -= SUB_BUCKET_HALF_COUNT;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

export class LatencyHistogram {
  private built: Hdr.Histogram | undefined;
  /** The HdrHistogram, built when first needed (every read settles the pending counts into it). */
  private get h(): Hdr.Histogram {
    return (this.built ??= hdr().build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 }));
  }
  /**
   * Counts per log-spaced bucket, for plots (HdrHistogram's JS API has no range counts). Not encoded. A value goes to
   * the bucket of its HdrHistogram slot's lowest value (a slot is at most 0.1 % wide; below 2,048 µs it is one µs).
   */
  private readonly logBuckets = new Float64Array(Math.ceil(Math.log10(HIGHEST_US) * BUCKETS_PER_DECADE) + 1);
  /**
   * Counts recorded since the last settle(), per HdrHistogram slot, and the slots touched, in order: recordMs is a
   * few integer operations (hdr-histogram-js's recordValue, and the log10 of the plot bucket, were about 5 % of the
   * coordinator's busy time with stage timing on, two records per write). Every read settles them into `h` first.
   */
  private pending: Uint32Array | undefined;
  private readonly touched: number[] = [];
  /** The largest value recorded since the last settle (the histogram's max is exact, not its slot's). */
  private pendingMax = 0;

  /** Record a duration given in milliseconds (negative values, from clock skew between threads, count as 0), `count` times. */
  recordMs(ms: number, count = 1): void {
    const us = Math.round(ms * 1000);
    const v = us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : us;
    if (v < FAST_LIMIT) {
      const counts = (this.pending ??= new Uint32Array(FAST_SLOTS)); // 88 KiB, once something is recorded
      const i = fastIndex(v);
      const was = counts[i]!;
      if (was + count <= MAX_PENDING) {
        if (was === 0) this.touched.push(i);
        counts[i] = was + count;
        if (v > this.pendingMax) this.pendingMax = v;
        return;
      }
    }
    this.settle(); // beyond the fast path's range: straight into the histogram
    this.h.recordValueWithCount(v, count);
    this.logBuckets[Math.floor(Math.log10(v) * BUCKETS_PER_DECADE)]! += count;
  }

  /** Move the pending counts into the histogram (and the plot buckets), each slot at once. */
  private settle(): void {
    const counts = this.pending;
    if (counts === undefined || this.touched.length === 0) return;
    const maxSlot = fastIndex(this.pendingMax);
    for (const i of this.touched) {
      const n = counts[i]!;
      counts[i] = 0;
      const v = fastSlotValue(i);
      if (i === maxSlot) {
        this.h.recordValue(this.pendingMax); // the exact maximum, and the rest of its slot below it
        if (n > 1) this.h.recordValueWithCount(v, n - 1);
      } else {
        this.h.recordValueWithCount(v, n);
      }
      this.logBuckets[Math.floor(Math.log10(v) * BUCKETS_PER_DECADE)]! += n;
    }
    this.touched.length = 0;
    this.pendingMax = 0;
  }

  get count(): number {
    this.settle();
    return this.h.totalCount;
  }

  summary(): LatencySummaryMs {
    this.settle();
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
    this.settle();
    const out: Array<[number, number]> = [];
    this.logBuckets.forEach((count, i) => {
      if (count > 0) out.push([Math.pow(10, (i + 1) / BUCKETS_PER_DECADE) / 1000, count]);
    });
    return out;
  }

  add(other: LatencyHistogram): void {
    this.settle();
    other.settle();
    this.h.add(other.h);
    for (let i = 0; i < this.logBuckets.length; i++) this.logBuckets[i]! += other.logBuckets[i]!;
  }

  reset(): void {
    for (const i of this.touched) this.pending![i] = 0;
    this.touched.length = 0;
    this.pendingMax = 0;
    this.built?.reset();
    this.logBuckets.fill(0);
  }

  encode(): string {
    this.settle();
    return hdr().encodeIntoCompressedBase64(this.h);
  }

  /** The standard HdrHistogram percentile distribution text (.hgrm), values in ms. */
  hgrm(): string {
    this.settle();
    return this.h.outputPercentileDistribution(5, 1000);
  }

  /**
   * The percentile spectrum: [1/(1-p), latency ms] from p = 0 up to the last recorded value, 20 points per
   * decade of 1/(1-p), for a plot on a log axis where p99 and p99.9 are a decade apart.
   */
  spectrum(): Array<[number, number]> {
    this.settle();
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
    out.h.add(hdr().decodeFromCompressedBase64(s));
    return out;
  }
}

/** The shared clock: milliseconds comparable across worker threads of one process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
