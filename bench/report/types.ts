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
}

export interface CompareRow {
  name: string;
  opsPerSec: number;
  latencyMs: LatencySummary;
  ratioToRawLmdb: number;
}

export interface Results {
  version: 1;
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string; memGiB: number };
  scenarios: ScenarioResult[];
  compare?: CompareRow[];
  instrumentationOverhead?: { onOpsPerSec: number; offOpsPerSec: number; costPct: number };
  notes: string[];
}
