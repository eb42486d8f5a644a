// The load generator: N clients in flight against a cluster, each awaiting one call at a time.
// Measures per-call latency (HdrHistogram), throughput per interval, and the write path's stages.
import { Cluster, type Consistency } from '../src/index.js';
import { LatencyHistogram, nowMs } from '../src/util/histogram.js';
import { mulberry32 } from '../src/util/random.js';
import type { ScenarioResult } from './report/types.js';

export interface LoadSpec {
  name: string;
  description: string;
  /** Calls in flight. */
  clients: number;
  durationMs: number;
  /** Stop after this many operations (0: no limit). */
  ops: number;
  warmupMs: number;
  valueSize: number;
  keySpace: number;
  /** Fraction of calls that are reads. */
  readRatio: number;
  consistency: Consistency;
  /** Stale reads through the synchronous peek() instead of get(). */
  peek?: boolean;
  /** Operations per write call: 1 = put(), more = batch() of that many puts. */
  batchSize: number;
  /** Puts carry a time-to-live drawn in [ttlMs / 2, 3 ttlMs / 2) (cache scenarios); none when absent. */
  ttlMs?: number;
  seed: number;
  /** Called about every 250 ms with the operations done so far. */
  onProgress?: (opsDone: number, elapsedMs: number) => void;
}

const INTERVAL_MS = 500;

export function keyOf(i: number): string {
  return `key-${i}`;
}

/** Write every key of the key space once, so that reads find values. */
export async function preload(cluster: Cluster, keySpace: number, valueSize: number): Promise<void> {
  const value = Buffer.alloc(valueSize, 7);
  const perCall = 256;
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < keySpace; i += perCall) {
    const ops = [];
    for (let j = i; j < Math.min(keySpace, i + perCall); j++) ops.push({ type: 'put' as const, key: keyOf(j), value });
    calls.push(cluster.batch(ops));
    if (calls.length >= 64) await Promise.all(calls.splice(0));
  }
  await Promise.all(calls);
}

interface Window {
  histogram: LatencyHistogram;
  ops: number;
  errors: number;
  firstError: string | undefined;
  throughput: Array<[number, number]>;
}

async function drive(cluster: Cluster, spec: LoadSpec, durationMs: number, maxOps: number, report: boolean): Promise<Window & { elapsedMs: number }> {
  const w: Window = { histogram: new LatencyHistogram(), ops: 0, errors: 0, firstError: undefined, throughput: [] };
  const start = nowMs();
  const end = start + durationMs;
  const value = Buffer.alloc(spec.valueSize);
  for (let i = 0; i < value.length; i++) value[i] = (i * 31 + 7) & 0xff;
  let lastTick = start;
  let lastOps = 0;
  const ticker = setInterval(() => {
    const now = nowMs();
    w.throughput.push([(now - start) / 1000, ((w.ops - lastOps) * 1000) / (now - lastTick)]);
    lastTick = now;
    lastOps = w.ops;
    if (report) spec.onProgress?.(w.ops, now - start);
  }, INTERVAL_MS);
  const client = async (c: number): Promise<void> => {
    const rand = mulberry32(spec.seed * 1009 + c);
    while (nowMs() < end && (maxOps === 0 || w.ops < maxOps)) {
      const k = keyOf(Math.floor(rand() * spec.keySpace));
      const isRead = spec.readRatio > 0 && rand() < spec.readRatio;
      const t0 = nowMs();
      try {
        if (isRead && spec.peek) {
          cluster.peek(k);
          w.ops++;
          if ((w.ops & 1023) === 0) await new Promise((r) => setImmediate(r)); // let timers and replies run
        } else if (isRead) {
          await cluster.get(k, { consistency: spec.consistency });
          w.ops++;
        } else if (spec.batchSize <= 1) {
          if (spec.ttlMs === undefined) await cluster.put(k, value);
          else await cluster.put(k, value, { ttlMs: Math.max(1, Math.round(spec.ttlMs * (0.5 + rand()))) });
          w.ops++;
        } else {
          const ops = [];
          for (let j = 0; j < spec.batchSize; j++) ops.push({ type: 'put' as const, key: keyOf(Math.floor(rand() * spec.keySpace)), value });
          await cluster.batch(ops);
          w.ops += spec.batchSize;
        }
        w.histogram.recordMs(nowMs() - t0);
      } catch (err) {
        w.errors++;
        w.firstError ??= String(err);
        await new Promise((r) => setTimeout(r, 5)); // back off instead of spinning on a failing cluster
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.clients }, (_, c) => client(c)));
  } finally {
    clearInterval(ticker);
  }
  const elapsedMs = nowMs() - start;
  if (w.throughput.length === 0 || w.throughput[w.throughput.length - 1]![0] < elapsedMs / 1000 - 0.05) {
    const now = nowMs();
    if (now > lastTick) w.throughput.push([(now - start) / 1000, ((w.ops - lastOps) * 1000) / (now - lastTick)]);
  }
  return { ...w, elapsedMs };
}

/** Warm up, reset the cluster's metrics, then measure. */
export async function runLoad(cluster: Cluster, spec: LoadSpec, params: Record<string, string | number | boolean>): Promise<ScenarioResult> {
  if (spec.warmupMs > 0) await drive(cluster, spec, spec.warmupMs, 0, false);
  await cluster.resetMetrics();
  const w = await drive(cluster, spec, spec.durationMs, spec.ops, true);
  const m = await cluster.metrics();
  const lat = w.histogram.summary();
  const result: ScenarioResult = {
    name: spec.name,
    description: spec.description,
    ops: w.ops,
    errors: w.errors,
    durationMs: w.elapsedMs,
    opsPerSec: (w.ops * 1000) / w.elapsedMs,
    latencyMs: { p50: lat.p50, p95: lat.p95, p99: lat.p99, p999: lat.p999, max: lat.max, mean: lat.mean },
    histogram: w.histogram.buckets(),
    throughput: w.throughput,
    params: { ...params, clients: spec.clients, valueSize: spec.valueSize, keySpace: spec.keySpace, readRatio: spec.readRatio, consistency: spec.consistency, batchSize: spec.batchSize },
  };
  if (w.firstError !== undefined) result.params.firstError = w.firstError;
  if (spec.ttlMs !== undefined) result.params.ttlMs = spec.ttlMs;
  // The cache's own work during the scenario, on the leader: keys held at the end, evictions and expirations.
  const leader = m.nodes.find((n) => n.role === 'leader') ?? m.nodes[0];
  if (leader && (leader.counters.evictions || leader.counters.expirations)) {
    result.params.keysHeld = leader.counters.keys ?? 0;
    result.params.evictions = leader.counters.evictions ?? 0;
    result.params.expirations = leader.counters.expirations ?? 0;
  }
  if (spec.readRatio < 1 && m.writeTotal.count > 0) {
    result.stages = Object.entries(m.writeStages).map(([name, s]) => ({ name, p50: s.p50, p95: s.p95, p99: s.p99, mean: s.mean }));
    result.stageSumP50Ms = m.stageSumP50Ms;
    result.totalP50Ms = m.writeTotal.p50;
    const follower = m.nodes.filter((n) => n.role !== 'leader').map((n) => n.histograms.followerFsync).find((h) => h && h.count > 0);
    if (follower) result.params.followerFsyncP50Ms = round3(follower.p50);
    const leader = m.nodes.find((n) => n.role === 'leader');
    const rtt = leader?.histograms.appendRoundTrip;
    if (rtt && rtt.count > 0) result.params.appendRoundTripP50Ms = round3(rtt.p50);
  }
  return result;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
