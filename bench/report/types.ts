// The schema of results.json, written by the benchmark CLI and read by the report renderers.
// All latencies are in milliseconds.

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** One stage of the write path's latency profile (ms). */
export interface StageSummary {
  name: string;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export interface ScenarioResult {
  name: string;
  description: string;
  ops: number;
  errors: number;
  durationMs: number;
  opsPerSec: number;
  latencyMs: LatencySummary;
  /** [upper bound ms, count] buckets (log-spaced). */
  histogram: Array<[number, number]>;
  /** [seconds since scenario start, ops/s in that interval]. */
  throughput: Array<[number, number]>;
  /** Latency profile of the write path. */
  stages?: StageSummary[];
  stageSumP50Ms?: number;
  totalP50Ms?: number;
  params: Record<string, string | number | boolean>;
  /** The whole latency histogram (HdrHistogram, µs, compressed base64: hdr-histogram-js decodeFromCompressedBase64). */
  hdr?: string;
  /** Closed loop: each client waits for its call; open loop: calls sent at a fixed rate, latency from the intended send time. */
  loop?: 'closed' | 'open';
  /** Open loop: the rate asked for, calls/s. */
  rateOpsPerSec?: number;
  /** Throughput during the warm-up: [seconds before the measurement (negative), ops/s]. */
  warmupThroughput?: Array<[number, number]>;
  /** Which stages made the slowest writes slow. */
  tail?: TailAttribution;
  /** Event-loop utilization and GC pauses of each thread during the measurement. */
  threads?: ThreadHealthRow[];
}

/** Mean time in each write-path stage (ms) among a group of writes. */
export interface StageGroup {
  label: string;
  writes: number;
  meanTotalMs: number;
  meanMs: Record<string, number>;
}

export interface TailAttribution {
  /** Writes profiled during the measurement. */
  writes: number;
  /** all writes; the writes around p99 (p98.9–p99.1); the slowest 1 %. */
  groups: StageGroup[];
  /** Among the slowest 1 %: the fraction of writes whose largest stage was each stage. */
  dominant: Record<string, number>;
  /** Set when fewer writes than 1 % were kept (the keeper is bounded). */
  note?: string;
}

export interface ThreadHealthRow {
  /** main, node-1, ... */
  thread: string;
  /** Event-loop utilization 0..1; with `busy: 'cpu'`, the thread's CPU time over the wall time instead. */
  elu: number;
  /** 'cpu' for a storage pool thread: its event loop never idles (piscina waits in Atomics.wait), so its CPU share says how busy it was. */
  busy?: 'cpu';
  gcCount: number;
  gcPauseMs: number;
  gcMaxPauseMs: number;
  /** Linux: the thread's CPU time over the wall time, 0..1. */
  cpu?: number;
  /**
   * Linux: the time the thread was runnable but waiting for a CPU (its run queue) over the wall time: what an
   * oversubscribed machine adds to each of its wake-ups (a message, a finished fsync).
   */
  waited?: number;
}

/** One point of a sweep: a short run at one load. */
export interface SweepPoint {
  /** What was varied: calls in flight, batch size, or the offered rate (calls/s). */
  x: number;
  opsPerSec: number;
  errors: number;
  latencyMs: LatencySummary;
  /** Open loop: calls due but never sent (the generator stopped a whole duration behind). */
  unsent?: number;
}

export interface SweepSeries {
  /** The configuration, e.g. "3 nodes, lmdb, piscina". */
  label: string;
  points: SweepPoint[];
}

export interface Sweep {
  name: string;
  description: string;
  /** What `x` of each point is. */
  varied: 'in-flight' | 'batch' | 'rate';
  loop: 'closed' | 'open';
  series: SweepSeries[];
  /** rate sweeps: the p99 bound and the highest rate found within it (0: none). */
  sloP99Ms?: number;
  maxRateWithinSlo?: number;
}

/** A feature's cost: runs with it and without it, interleaved in pairs on one cluster (bench/paired-cost.ts). */
export interface PairedCost {
  /** [ops/s with the feature (stage timing on; puts with a TTL), ops/s without] per pair. */
  pairs: Array<[number, number]>;
  /** Median of the per-pair costs (without − with) / without, %. */
  medianPct: number;
  /** 95 % bootstrap confidence interval of the median, %. */
  ciLowPct: number;
  ciHighPct: number;
  /** Pairs where the feature was slower (sign test: two-sided p-value). */
  slowerPairs: number;
  signTestP: number;
  secondsPerRun: number;
}

export interface CompareRow {
  name: string;
  opsPerSec: number;
  latencyMs: LatencySummary;
  /** ops/s over floorOpsPerSec. */
  ratioToRawLmdb: number;
  /** The floor this row was divided by: the mean of the raw LMDB floors measured just before and after it (absent in results from before session 15). */
  floorOpsPerSec?: number;
  /** ops/s over the median of every floor measured in the run (a steadier reference for rows that do not write to the disk). */
  ratioToMedianFloor?: number;
  /** A row of one write in flight: the raw synced single put's p50, measured right after the row. */
  singlePutP50Ms?: number;
}

export interface Results {
  version: 1;
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string; memGiB: number };
  scenarios: ScenarioResult[];
  compare?: CompareRow[];
  instrumentationCost?: PairedCost;
  /** Puts with a TTL against plain puts (issue 13's target: at most 10 %). */
  ttlCost?: PairedCost;
  /** The piscina pool against inline storage, two clusters side by side (issue 11's target 4: a cost of at most 0). */
  poolCost?: PairedCost;
  /** Latency against throughput: in-flight, batch and rate sweeps. */
  sweeps?: Sweep[];
  notes: string[];
}
