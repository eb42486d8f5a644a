// The load generator: N clients in flight against a cluster, each awaiting one call at a time.
// Measures per-call latency (HdrHistogram), throughput per interval, and the write path's stages.
import { Cluster, type Consistency } from '../src/index.js';
import { LatencyHistogram, nowMs } from '../src/util/histogram.js';
import { mulberry32 } from '../src/util/random.js';
import { STAGES } from '../src/index.js';
import { MAX_SLOWEST } from '../src/cluster/profile.js';
import { ThreadHealth, type ThreadHealthCounters } from '../src/util/thread-health.js';
import { openLoop, realClock } from './open-loop.js';
import { tailAttribution } from './tail.js';
import type { TraceScenario } from './trace.js';
import type { ScenarioResult, ThreadHealthRow } from './report/types.js';

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
  /** Keys are `${keyPrefix}${i}` (default: keyOf(i), `key-${i}`): a key space of its own beside the preloaded one. */
  keyPrefix?: string;
  seed: number;
  /** Open loop: calls per second, each latency from its intended send time (bench/open-loop.ts). Absent: closed loop. */
  rateOpsPerSec?: number;
  /**
   * Warm up for warmupMs, then on until throughput is steady (at most STEADY_EXTRA_MS more). Default: on
   * when warmupMs is at least 1 s (the standard and full suites; the quick suite stays quick).
   */
  steadyWarmup?: boolean;
  /** --trace: receives this scenario's sample of writes. */
  onTrace?: (t: TraceScenario) => void;
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
  /** Open loop: how late each call was sent after its intended time (included in its latency). */
  sendLag?: LatencyHistogram;
  /** Open loop: calls due but never sent (the generator stopped a whole duration behind). */
  unsent?: number;
}

/**
 * One call of the scenario's mix; returns the operations it did, synchronously for peek() (no promise
 * per call: the read-peek scenario measures a synchronous API) and as a promise otherwise.
 */
function makeCall(cluster: Cluster, spec: LoadSpec, rand: () => number, value: Buffer): () => number | Promise<number> {
  const prefix = spec.keyPrefix;
  const keyAt = prefix === undefined ? keyOf : (i: number): string => `${prefix}${i}`;
  const write = async (k: string): Promise<number> => {
    if (spec.batchSize <= 1) {
      if (spec.ttlMs === undefined) await cluster.put(k, value);
      else await cluster.put(k, value, { ttlMs: Math.max(1, Math.round(spec.ttlMs * (0.5 + rand()))) });
      return 1;
    }
    const ops = [];
    for (let j = 0; j < spec.batchSize; j++) ops.push({ type: 'put' as const, key: keyAt(Math.floor(rand() * spec.keySpace)), value });
    await cluster.batch(ops);
    return spec.batchSize;
  };
  return () => {
    const k = keyAt(Math.floor(rand() * spec.keySpace));
    const isRead = spec.readRatio > 0 && rand() < spec.readRatio;
    if (isRead && spec.peek) {
      cluster.peek(k);
      return 1;
    }
    if (isRead) return cluster.get(k, { consistency: spec.consistency }).then(() => 1);
    return write(k);
  };
}

/**
 * Runs the load for `durationMs` (or until `maxOps`, or until `until(throughput so far)` says so):
 * closed loop (spec.clients callers, each awaiting its call) or, with spec.rateOpsPerSec, open loop.
 */
async function drive(
  cluster: Cluster,
  spec: LoadSpec,
  durationMs: number,
  maxOps: number,
  report: boolean,
  until?: (throughput: ReadonlyArray<[number, number]>) => boolean,
): Promise<Window & { elapsedMs: number }> {
  const w: Window = { histogram: new LatencyHistogram(), ops: 0, errors: 0, firstError: undefined, throughput: [] };
  const start = nowMs();
  const end = start + durationMs;
  const value = Buffer.alloc(spec.valueSize);
  for (let i = 0; i < value.length; i++) value[i] = (i * 31 + 7) & 0xff;
  let lastTick = start;
  let lastOps = 0;
  let stopped = false;
  const ticker = setInterval(() => {
    const now = nowMs();
    w.throughput.push([(now - start) / 1000, ((w.ops - lastOps) * 1000) / (now - lastTick)]);
    lastTick = now;
    lastOps = w.ops;
    if (until?.(w.throughput)) stopped = true;
    if (report) spec.onProgress?.(w.ops, now - start);
  }, INTERVAL_MS);
  const fail = async (err: unknown): Promise<void> => {
    w.errors++;
    w.firstError ??= String(err);
    await new Promise((r) => setTimeout(r, 5)); // back off instead of spinning on a failing cluster
  };
  const client = async (c: number): Promise<void> => {
    const call = makeCall(cluster, spec, mulberry32(spec.seed * 1009 + c), value);
    while (!stopped && nowMs() < end && (maxOps === 0 || w.ops < maxOps)) {
      const t0 = nowMs();
      try {
        const r = call();
        const n = typeof r === 'number' ? r : await r; // not `w.ops += await call()`: that reads w.ops before the await and loses the other callers' counts
        w.ops += n;
        w.histogram.recordMs(nowMs() - t0);
        if (spec.peek && (w.ops & 1023) === 0) await new Promise((r) => setImmediate(r)); // peek() is synchronous: let timers and replies run
      } catch (err) {
        await fail(err);
      }
    }
  };
  try {
    if (spec.rateOpsPerSec !== undefined) {
      const call = makeCall(cluster, spec, mulberry32(spec.seed * 1009), value);
      w.sendLag = new LatencyHistogram();
      const s = await openLoop(realClock, { ratePerSec: spec.rateOpsPerSec, durationMs, maxInFlight: OPEN_LOOP_MAX_IN_FLIGHT, maxCalls: maxOps, stop: () => stopped }, async () => call(), (ms, ops, lagMs) => {
        w.ops += ops;
        w.histogram.recordMs(ms);
        w.sendLag?.recordMs(lagMs);
      });
      w.errors = s.errors;
      w.firstError = s.firstError;
      w.unsent = s.unsent;
    } else {
      await Promise.all(Array.from({ length: spec.clients }, (_, c) => client(c)));
    }
  } finally {
    clearInterval(ticker);
  }
  const now = nowMs();
  const elapsedMs = now - start;
  if (w.throughput.length === 0 || w.throughput[w.throughput.length - 1]![0] < elapsedMs / 1000 - 0.05) {
    if (now > lastTick) w.throughput.push([(now - start) / 1000, ((w.ops - lastOps) * 1000) / (now - lastTick)]);
  }
  return { ...w, elapsedMs };
}

/** The open loop's bound on calls in flight: far above what a sustained rate needs, low enough to stay bounded. */
export const OPEN_LOOP_MAX_IN_FLIGHT = 16_384;

/** Warm-up ends once three consecutive 0.5 s windows agree within 10 % (after spec.warmupMs, at most this much longer). */
export const STEADY_EXTRA_MS = 2_000;

export function steady(throughput: ReadonlyArray<[number, number]>): boolean {
  if (throughput.length < 3) return false;
  const last = throughput.slice(-3).map(([, v]) => v);
  const hi = Math.max(...last);
  return hi > 0 && Math.min(...last) >= hi * 0.9;
}

/** Trace sample: a write at most every this many ms (and never two overlapping). */
const TRACE_GAP_MS = 10;

/**
 * How many of the slowest writes the profile keeps for a run: the tail attribution (bench/tail.ts) reads the slowest
 * 1.1 %, so twice that of the writes expected at the warm-up's last rate (or the open loop's rate), at least 1,024, at
 * most MAX_SLOWEST (1 % of 1.6 M writes; without a rate to go by). Keeping no more than needed matters: every write
 * slower than the keeper's floor is copied into it, and until session 7 a 1 s run kept 16,384 of them (most of its
 * writes), each retained long enough to burden the coordinator's garbage collector.
 */
export function slowestToKeep(spec: Pick<LoadSpec, 'durationMs' | 'ops' | 'rateOpsPerSec'>, warmThroughput?: ReadonlyArray<[number, number]>): number {
  const rate = spec.rateOpsPerSec ?? warmThroughput?.[warmThroughput.length - 1]?.[1];
  if (rate === undefined || !(rate > 0)) return MAX_SLOWEST;
  let expected = (rate * spec.durationMs) / 1000;
  if (spec.ops > 0) expected = Math.min(expected, spec.ops);
  return Math.min(MAX_SLOWEST, Math.max(1024, Math.ceil(2 * 0.011 * expected)));
}

/** Warm up (until steady), reset the cluster's metrics, then measure. */
export async function runLoad(cluster: Cluster, spec: LoadSpec, params: Record<string, string | number | boolean>): Promise<ScenarioResult> {
  let warm: { throughput: Array<[number, number]>; elapsedMs: number; steady: boolean } | undefined;
  if (spec.warmupMs > 0) {
    const minMs = spec.warmupMs;
    const untilSteady = spec.steadyWarmup ?? minMs >= 1000;
    let wasSteady = false;
    const r = await drive(cluster, spec, untilSteady ? minMs + STEADY_EXTRA_MS : minMs, 0, false, (tp) => {
      const t = tp[tp.length - 1]?.[0] ?? 0;
      wasSteady = untilSteady && t * 1000 >= minMs - 1 && steady(tp);
      return wasSteady;
    });
    warm = { throughput: r.throughput, elapsedMs: r.elapsedMs, steady: wasSteady || !untilSteady };
  }
  await cluster.resetMetrics();
  cluster.profile.keepSlowest(slowestToKeep(spec, warm?.throughput));
  if (spec.onTrace) cluster.profile.keepTrace(TRACE_GAP_MS);
  const mainHealth = new ThreadHealth();
  const w = await drive(cluster, spec, spec.durationMs, spec.ops, true);
  const main = mainHealth.counters();
  mainHealth.stop();
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
    hdr: w.histogram.encode(),
    loop: spec.rateOpsPerSec === undefined ? 'closed' : 'open',
  };
  if (spec.rateOpsPerSec !== undefined) {
    result.rateOpsPerSec = spec.rateOpsPerSec;
    result.params.rateOpsPerSec = spec.rateOpsPerSec;
    const lag = w.sendLag?.summary();
    if (lag && lag.count > 0) {
      result.params.sendLagP50Ms = round3(lag.p50);
      result.params.sendLagP99Ms = round3(lag.p99);
    }
    if (w.unsent) result.params.unsent = w.unsent;
  }
  if (warm !== undefined) {
    const ws = warm.elapsedMs / 1000;
    result.warmupThroughput = warm.throughput.map(([t, v]) => [t - ws, v]);
    result.params.warmupS = Math.round(ws * 100) / 100;
    result.params.warmupSteady = warm.steady;
  }
  result.threads = threadRows(main, m.nodes);
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
    const tail = tailAttribution(
      { writes: m.writeTotal.count, meanTotalMs: m.writeTotal.mean, meanMs: Object.fromEntries(STAGES.map((st) => [st, m.writeStages[st].mean])) },
      cluster.profile.slowest(),
    );
    if (tail) result.tail = tail;
    const follower = m.nodes.filter((n) => n.role !== 'leader').map((n) => n.histograms.followerFsync).find((h) => h && h.count > 0);
    if (follower) result.params.followerFsyncP50Ms = round3(follower.p50);
    const leader = m.nodes.find((n) => n.role === 'leader');
    const rtt = leader?.histograms.appendRoundTrip;
    if (rtt && rtt.count > 0) result.params.appendRoundTripP50Ms = round3(rtt.p50);
  }
  if (spec.onTrace) {
    spec.onTrace({
      scenario: spec.name,
      nodes: m.nodes.length,
      leader: m.leader ?? leader?.id ?? 1,
      pool: params.storage === 'lmdb' && params.pool === 'piscina',
      writes: cluster.profile.traceSample(),
    });
  }
  return result;
}

/** The main thread's health, each node worker's and each storage pool thread's (reported by the node in its metrics counters). */
function threadRows(main: ThreadHealthCounters, nodes: ReadonlyArray<{ id: number; counters: Record<string, number> }>): ThreadHealthRow[] {
  const rows: ThreadHealthRow[] = [{ ...main, thread: 'main' }];
  for (const n of nodes) {
    const c = n.counters;
    if (c.elu === undefined) continue;
    rows.push(withSched({ thread: `node-${n.id}`, elu: c.elu, gcCount: c.gcCount ?? 0, gcPauseMs: c.gcPauseMs ?? 0, gcMaxPauseMs: c.gcMaxPauseMs ?? 0 }, c.cpu, c.waited));
    if (c.poolCpu !== undefined) {
      rows.push(withSched({ thread: `pool-${n.id}`, elu: c.poolCpu, busy: 'cpu', gcCount: c.poolGcCount ?? 0, gcPauseMs: c.poolGcPauseMs ?? 0, gcMaxPauseMs: c.poolGcMaxPauseMs ?? 0 }, c.poolCpu, c.poolWaited));
    }
  }
  return rows;
}

/** A row with its CPU and run-queue shares where the thread could read them (Linux). */
function withSched(row: ThreadHealthRow, cpu: number | undefined, waited: number | undefined): ThreadHealthRow {
  if (cpu !== undefined && waited !== undefined) {
    row.cpu = cpu;
    row.waited = waited;
  }
  return row;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
