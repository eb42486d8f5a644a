import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepLargest, MAX_SLOWEST, MAX_TRACE, WriteProfile, type WriteTimes } from '../../src/cluster/profile.js';
import { STAGES } from '../../src/index.js';
import { LatencyHistogram } from '../../src/util/histogram.js';
import { tailAttribution } from '../../bench/tail.js';
import { tailLine } from '../../bench/report/table.js';
import { buildTrace, MAIN_TID, nodeTid, poolTid, type TraceEvent } from '../../bench/trace.js';
import { hgrmFileName, writeReport } from '../../bench/report/write.js';
import { bootstrapMedianCi, median, signTestP } from '../../bench/stats.js';
import { holds, searchRate } from '../../bench/sweep.js';
import { slowestToKeep, steady } from '../../bench/load.js';
import { summarizeCost } from '../../bench/paired-cost.js';
import type { Results, SweepPoint } from '../../bench/report/types.js';

/** A write starting at `t0` with the given stage durations (ms), in STAGES order. */
function write(t0: number, stages: number[]): WriteTimes {
  const t = [t0];
  for (const d of stages) t.push(t[t.length - 1]! + d);
  return t as unknown as WriteTimes;
}

const fast = [0.01, 0.02, 0.03, 0.5, 0.1, 0.05, 0.05]; // 0.76 ms, fsync-bound
const slowByReplication = [0.01, 0.02, 0.03, 0.5, 9, 0.05, 0.05]; // 9.66 ms: replication made it slow

function profileOf(writes: WriteTimes[], keep: number): WriteProfile {
  const p = new WriteProfile();
  p.keepSlowest(keep);
  for (const w of writes) {
    const t = { id: 1, received: w[2], persistStart: w[3], persistEnd: w[4], committed: w[5], applied: w[6] };
    p.record(w[0], w[1], t, w[7]);
    p.recordBatch(w[1], t, w[7], 1); // each write a batch of its own
  }
  return p;
}

test("a stage watcher is told each write's queue and each batch's other stages, as the histograms record them, until it stops", () => {
  const p = new WriteProfile();
  const told: Array<[string, number]> = [];
  const stop = p.watchStages((stage, ms) => told.push([stage, Math.round(ms * 100) / 100]));
  const w = write(100, slowByReplication);
  const t = { id: 1, received: w[2], persistStart: w[3], persistEnd: w[4], committed: w[5], applied: w[6] };
  p.record(w[0], w[1], t, w[7]);
  p.record(w[0] - 0.01, w[1], t, w[7]); // a second write of the batch, queued earlier: only its queue
  p.recordBatch(w[1], t, w[7], 2);
  assert.deepEqual(told, [['queue', 0.01], ['queue', 0.02], ...STAGES.slice(1).map((s, i): [string, number] => [s, slowByReplication[i + 1]!])]);
  stop();
  p.recordBatch(w[1], t, w[7], 1);
  assert.equal(told.length, 8);
});

test('tail attribution names the stage that made the slowest 1 % slow', () => {
  const writes: WriteTimes[] = [];
  for (let i = 0; i < 1000; i++) writes.push(write(i, i % 100 === 7 ? slowByReplication : fast)); // 10 slow writes = 1 %
  const p = profileOf(writes, 64);
  const s = p.summary();
  const t = tailAttribution({ writes: s.total.count, meanTotalMs: s.total.mean, meanMs: Object.fromEntries(STAGES.map((st) => [st, s.stages[st].mean])) }, p.slowest());
  assert.ok(t !== undefined);
  assert.equal(t.writes, 1000);
  const slowest = t.groups[t.groups.length - 1]!;
  assert.equal(slowest.label, 'slowest 1 %');
  assert.equal(slowest.writes, 10);
  assert.ok(Math.abs(slowest.meanMs.replication! - 9) < 1e-9);
  assert.ok(Math.abs(slowest.meanTotalMs - 9.66) < 1e-9);
  assert.equal(t.dominant.replication, 1);
  assert.equal(t.dominant.leaderFsync, 0);
  // Among all writes the fsync is the largest stage; its share shrinks in the tail, replication's grows.
  const all = t.groups[0]!;
  assert.ok(all.meanMs.leaderFsync! > all.meanMs.replication!);
  assert.ok(slowest.meanMs.replication! / slowest.meanTotalMs > 0.9);
  // Around p99: the writes ranked 9..11 from the slowest (p98.9–p99.1): one slow write and two fast ones.
  const p99 = t.groups.find((g) => g.label.startsWith('around p99'));
  assert.ok(p99 !== undefined && p99.writes === 2, JSON.stringify(p99));
  // The terminal's one line on it.
  const line = tailLine({ name: 'w', description: '', ops: 0, errors: 0, durationMs: 1, opsPerSec: 0, latencyMs: { p50: 0, p95: 0, p99: 0, p999: 0, max: 0, mean: 0 }, histogram: [], throughput: [], params: {}, tail: t });
  assert.match(line, /^tail of w: among the slowest 1 % \(10 writes, mean 9\.66 ms\) replication was the largest stage in 100% of them; its share 93% \(all writes: \d+%\)$/);
});

test('tail attribution says so when the bounded keeper holds fewer than 1 %', () => {
  const writes = Array.from({ length: 1000 }, (_, i) => write(i, i % 50 === 0 ? slowByReplication : fast));
  const p = profileOf(writes, 4); // 1 % is 10
  const t = tailAttribution({ writes: 1000, meanTotalMs: 1, meanMs: {} }, p.slowest());
  assert.ok(t?.note?.includes('only the slowest 4'));
  assert.equal(t?.groups.length, 2); // no "around p99" group: not kept
});

test('the slowest-writes keeper keeps exactly the k slowest, slowest first, within 2 k candidates', () => {
  const totals = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5000); // a permutation of 0..4999
  const p = profileOf(totals.map((d, i) => write(i, [0, 0, 0, d / 1000, 0, 0, 0])), 100);
  const kept = p.slowest().map((w) => Math.round((w[7] - w[0]) * 1000));
  assert.deepEqual(kept, Array.from({ length: 100 }, (_, i) => 4999 - i));
  p.reset();
  assert.equal(p.slowest().length, 0);
  assert.throws(() => new WriteProfile().keepSlowest(MAX_SLOWEST + 1), RangeError);
});

test('the keeper holds twice the slowest 1.1 % of the writes a run is expected to make, within [1024, MAX_SLOWEST]', () => {
  const spec = { durationMs: 1000, ops: 0 };
  assert.equal(slowestToKeep(spec, [[0.5, 40_000], [1, 50_000]]), 1100); // 50,000 writes expected: 2 × 550
  assert.equal(slowestToKeep(spec, [[1, 1_000]]), 1024);
  assert.equal(slowestToKeep({ durationMs: 60_000, ops: 0 }, [[1, 50_000]]), MAX_SLOWEST);
  assert.equal(slowestToKeep({ durationMs: 10_000, ops: 100_000 }, [[1, 50_000]]), 2200); // an ops bound caps the run
  assert.equal(slowestToKeep({ ...spec, rateOpsPerSec: 200_000 }), 4400); // the open loop's rate
  assert.equal(slowestToKeep(spec), MAX_SLOWEST); // no warm-up: nothing to go by
  assert.equal(slowestToKeep(spec, []), MAX_SLOWEST);
});

test('keepLargest selects the k largest totals, ties and all, and returns the smallest kept', () => {
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 200; round++) {
    const n = 1 + Math.floor(rnd() * 300);
    const k = 1 + Math.floor(rnd() * n);
    const distinct = 1 + Math.floor(rnd() * 40); // few distinct values: many ties
    const totals = Array.from({ length: n }, () => Math.floor(rnd() * distinct));
    const a = totals.map((d) => [0, 0, 0, 0, 0, 0, 0, d] as const);
    const min = keepLargest(a as unknown as WriteTimes[], k);
    const want = [...totals].sort((x, y) => y - x).slice(0, k);
    assert.deepEqual(a.map((w) => w[7]).sort((x, y) => y - x), want, `n ${n} k ${k}`);
    assert.equal(min, want[k - 1]);
  }
});

test('the trace sample never holds two writes that overlap in time', () => {
  const p = new WriteProfile();
  p.keepTrace(0);
  // 256 writes in flight: each starts every 0.01 ms and lasts 2.56 ms.
  for (let i = 0; i < 10_000; i++) {
    const w = write(i * 0.01, [0.1, 0.1, 0.1, 2, 0.1, 0.06, 0.1]);
    p.record(w[0], w[1], { id: i, received: w[2], persistStart: w[3], persistEnd: w[4], committed: w[5], applied: w[6] }, w[7]);
  }
  const ws = p.traceSample();
  assert.ok(ws.length > 10);
  for (let i = 1; i < ws.length; i++) assert.ok(ws[i]![0] >= ws[i - 1]![7], `sample ${i} overlaps the previous one`);
  // Bounded: one write after another, never overlapping, stops at MAX_TRACE.
  const q = new WriteProfile();
  q.keepTrace(0);
  for (let i = 0; i < MAX_TRACE + 500; i++) q.record(i, i, { id: i, received: i, persistStart: i, persistEnd: i, committed: i, applied: i }, i + 0.5);
  assert.equal(q.traceSample().length, MAX_TRACE);
  q.reset();
  assert.equal(q.traceSample().length, 0);
});

// ---- trace format ------------------------------------------------------------------------------

test('trace: valid Chrome trace-event JSON, a track per thread, complete events that nest on each track', () => {
  const writes = [write(1000, fast), write(1002, slowByReplication), write(1020, fast)];
  const trace = JSON.parse(JSON.stringify(buildTrace([{ scenario: 'write-256', nodes: 3, leader: 2, pool: true, writes }, { scenario: 'inline', nodes: 3, leader: 1, pool: false, writes: [write(2000, fast)] }], 900)));
  assert.equal(trace.displayTimeUnit, 'ms');
  const ev = trace.traceEvents as TraceEvent[];
  assert.ok(Array.isArray(ev));
  for (const e of ev) {
    assert.ok(typeof e.name === 'string' && (e.ph === 'X' || e.ph === 'M') && Number.isInteger(e.pid) && Number.isInteger(e.tid), JSON.stringify(e));
    if (e.ph === 'X') assert.ok(typeof e.ts === 'number' && typeof e.dur === 'number' && e.dur >= 0 && e.ts >= 0, JSON.stringify(e));
  }
  const names = (pid: number): string[] => ev.filter((e) => e.pid === pid && e.ph === 'M' && e.name === 'thread_name').map((e) => String(e.args?.name));
  assert.deepEqual(names(1), ['main', 'node-1', 'pool-1', 'node-2 (leader)', 'pool-2', 'node-3', 'pool-3']);
  assert.deepEqual(names(2), ['main', 'node-1 (leader)', 'node-2', 'node-3']); // inline: no pool threads
  assert.equal(ev.find((e) => e.ph === 'M' && e.name === 'process_name' && e.pid === 1)?.args?.name, 'write-256');
  // Where each stage ran: the fsync on the leader's pool thread, queue and reply on main, the rest on the leader.
  const first = ev.filter((e) => e.pid === 1 && e.ph === 'X' && e.ts! >= 100_000 && e.ts! < 101_000);
  const on = (name: string): number | undefined => first.find((e) => e.name === name)?.tid;
  assert.equal(on('queue'), MAIN_TID);
  assert.equal(on('reply'), MAIN_TID);
  assert.equal(on('leaderFsync'), poolTid(2));
  assert.equal(on('apply'), nodeTid(2));
  assert.equal(ev.find((e) => e.pid === 2 && e.name === 'leaderFsync')?.tid, nodeTid(1));
  // ts in µs from the origin: the first write starts 100 ms after it.
  assert.equal(first.find((e) => e.name === 'queue')?.ts, 100_000);
  // On every track, events either nest or are disjoint (what Perfetto requires of complete events).
  const tracks = new Map<string, TraceEvent[]>();
  for (const e of ev.filter((x) => x.ph === 'X')) tracks.set(`${e.pid}/${e.tid}`, [...(tracks.get(`${e.pid}/${e.tid}`) ?? []), e]);
  for (const [key, es] of tracks) {
    for (const a of es) {
      for (const b of es) {
        if (a === b) continue;
        const [a0, a1, b0, b1] = [a.ts!, a.ts! + a.dur!, b.ts!, b.ts! + b.dur!];
        const disjoint = a1 <= b0 + 1e-6 || b1 <= a0 + 1e-6;
        const nested = (a0 <= b0 && b1 <= a1 + 1e-6) || (b0 <= a0 && a1 <= b1 + 1e-6);
        assert.ok(disjoint || nested, `${key}: ${a.name} and ${b.name} overlap without nesting`);
      }
    }
  }
});

// ---- .hgrm export ------------------------------------------------------------------------------

test('writeReport exports each scenario histogram as hgrm/<scenario>.hgrm (percentile distribution, ms)', async () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.recordMs(i / 100); // 0.01 .. 10 ms
  const results: Results = {
    version: 1, startedAt: 's', finishedAt: 'f', command: 'c', machine: { cpus: 2, cpuModel: 'x', node: 'v20', platform: 'linux', memGiB: 1 }, notes: [],
    scenarios: [
      { name: 'write-256', description: '', ops: 1000, errors: 0, durationMs: 1000, opsPerSec: 1000, latencyMs: { p50: 5, p95: 9.5, p99: 9.9, p999: 10, max: 10, mean: 5 }, histogram: h.buckets(), throughput: [], params: {}, hdr: h.encode() },
      { name: 'compare: a/b <c>', description: '', ops: 0, errors: 0, durationMs: 1, opsPerSec: 0, latencyMs: { p50: 0, p95: 0, p99: 0, p999: 0, max: 0, mean: 0 }, histogram: [], throughput: [], params: {} },
    ],
  };
  const dir = await mkdtemp(join(tmpdir(), 'threadraft-hgrm-'));
  try {
    const paths = await writeReport(dir, results);
    assert.deepEqual(paths.hgrmPaths, [join(dir, 'hgrm', 'write-256.hgrm')]);
    assert.deepEqual(await readdir(join(dir, 'hgrm')), ['write-256.hgrm']);
    const text = await readFile(join(dir, 'hgrm', 'write-256.hgrm'), 'utf8');
    assert.match(text.split('\n')[0] ?? '', /^\s*Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/);
    assert.match(text, /#\[Max\s+=\s+10\.0\d*, Total count\s+=\s+1000\]/);
    const rows = text.split('\n').filter((l) => /^\s+\d/.test(l)).map((l) => l.trim().split(/\s+/).map(Number));
    const p50 = rows.find((r) => r[1]! >= 0.5);
    assert.ok(p50 && Math.abs(p50[0]! - 5) < 0.01, `p50 row ${p50}`);
    // The encoded histogram in results.json decodes to the same distribution.
    const back = JSON.parse(await readFile(paths.jsonPath, 'utf8')) as Results;
    assert.equal(LatencyHistogram.decode(back.scenarios[0]!.hdr!).summary().count, 1000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(hgrmFileName('compare: a/b <c>'), 'compare-a-b-c.hgrm');
});

test('percentile spectrum: x = 1/(1-p) from 1 to the count, latency rising to the max', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 10_000; i++) h.recordMs(i / 1000);
  const pts = h.spectrum();
  assert.equal(pts[0]![0], 1);
  assert.equal(pts[pts.length - 1]![0], 10_000);
  for (let i = 1; i < pts.length; i++) assert.ok(pts[i]![0] >= pts[i - 1]![0] && pts[i]![1] >= pts[i - 1]![1]);
  const at = (x: number): number => pts.find(([px]) => Math.abs(px - x) / x < 1e-6)![1];
  assert.ok(Math.abs(at(100) - 9.9) < 0.02, `p99 ${at(100)}`); // p99 of 1..10 ms
  assert.ok(Math.abs(at(1000) - 9.99) < 0.02, `p99.9 ${at(1000)}`);
  assert.deepEqual(new LatencyHistogram().spectrum(), []);
});

// ---- statistics, search, warm-up ---------------------------------------------------------------

test('median, bootstrap interval of the median, sign test', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  const xs = [1.2, -0.5, 2.1, 0.8, 1.9, 3.3, -1.0, 0.4, 1.1, 2.6];
  const [lo, hi] = bootstrapMedianCi(xs);
  assert.ok(lo <= median(xs) && median(xs) <= hi && lo < hi);
  assert.deepEqual(bootstrapMedianCi(xs), [lo, hi]); // seeded: reproducible
  assert.equal(signTestP(10, 10), 2 / 1024);
  assert.equal(signTestP(5, 10), 1);
  assert.ok(Math.abs(signTestP(8, 10) - 0.109375) < 1e-12);
  const c = summarizeCost([[95, 100], [99, 100], [101, 100]], 1);
  assert.equal(c.medianPct, 1);
  assert.equal(c.slowerPairs, 2);
});

/** A fake cluster for the rate search: it delivers every rate, with the p99 `p99Of` gives; `tried` lists the rates asked. */
function fakeCluster(p99Of: (rate: number) => number): [(rate: number) => Promise<SweepPoint>, number[]] {
  const tried: number[] = [];
  const measure = async (rate: number): Promise<SweepPoint> => {
    tried.push(rate);
    const p99 = p99Of(rate);
    return { x: rate, opsPerSec: rate, errors: 0, latencyMs: { p50: 0.5, p95: p99, p99, p999: p99, max: p99, mean: 0.6 } };
  };
  return [measure, tried];
}

test('rate search: doubles until p99 breaks the bound twice in a row after a rate held, then bisects; bounded steps', async () => {
  // A fake cluster whose p99 is 20 ms at 1,000/s (one write per entry, no batching yet), 1 ms from 2,000/s up
  // to 20,000/s, and 50 ms beyond.
  const [measure, tried] = fakeCluster((rate) => (rate <= 1000 ? 20 : rate <= 20_000 ? 1 : 50));
  const r = await searchRate(measure, 10, { start: 1000, maxSteps: 9, maxBisect: 3, deadline: Infinity, now: () => 0 });
  assert.deepEqual(tried.slice(0, 7), [1000, 2000, 4000, 8000, 16000, 32000, 64000]);
  assert.equal(tried.length, 10); // 7 doublings (the low-rate failure does not stop them) + 3 bisections
  assert.ok(r.best >= 16_000 && r.best <= 20_000, `best ${r.best}`);
  assert.deepEqual(r.points.map((p) => p.x), [...tried].sort((a, b) => a - b));
  // A rate not delivered (the cluster fell behind) does not hold either.
  assert.equal(holds({ x: 1, opsPerSec: 800, errors: 0, latencyMs: { p50: 1, p95: 1, p99: 1, p999: 1, max: 1, mean: 1 } }, 1000, 10), false);
  // Failures below the first rate that held do not end the doubling (each write its own fsync: a p99 tail).
  const [lowTail, tried2] = fakeCluster((rate) => (rate <= 2000 ? 12 : rate <= 20_000 ? 5 : 50));
  const r2 = await searchRate(lowTail, 10, { start: 1000, maxSteps: 9, maxBisect: 3, deadline: Infinity, now: () => 0 });
  assert.deepEqual(tried2.slice(0, 7), [1000, 2000, 4000, 8000, 16000, 32000, 64000]);
  assert.ok(r2.best >= 16_000 && r2.best <= 20_000, `best ${r2.best}`);
  // No rate holds at all: the doubling runs to maxSteps, and nothing is reported as held.
  const [never] = fakeCluster(() => 20);
  const r3 = await searchRate(never, 10, { start: 1000, maxSteps: 9, maxBisect: 3, deadline: Infinity, now: () => 0 });
  assert.equal(r3.points.length, 9 + 3); // 9 doublings, then bisection below the first failure
  assert.equal(r3.best, 0);
  // A deadline already past: no step at all.
  assert.deepEqual(await searchRate(measure, 10, { start: 1000, maxSteps: 9, maxBisect: 3, deadline: 0, now: () => 1 }), { points: [], best: 0 });
});

test('warm-up is steady once three 0.5 s windows agree within 10 %', () => {
  assert.equal(steady([[0.5, 440], [1, 520], [1.5, 600]]), false); // still climbing
  assert.equal(steady([[0.5, 800], [1, 830], [1.5, 790]]), true);
  assert.equal(steady([[0.5, 800], [1, 830]]), false);
  assert.equal(steady([[0.5, 0], [1, 0], [1.5, 0]]), false);
});

test('a batch records its shared stages once with the count of its writes: the same histograms as one record per write', () => {
  const t = { id: 7, received: 10.2, persistStart: 10.5, persistEnd: 11.1, committed: 11.6, applied: 11.9 };
  const perWrite = new WriteProfile();
  const perBatch = new WriteProfile();
  const enqueued = [9.0, 9.5, 9.9];
  for (const e of enqueued) {
    perWrite.record(e, 10, t, 12);
    perWrite.recordBatch(10, t, 12, 1);
    perBatch.record(e, 10, t, 12);
  }
  perBatch.recordBatch(10, t, 12, enqueued.length);
  const a = perWrite.summary();
  const b = perBatch.summary();
  for (const s of STAGES) assert.deepEqual(b.stages[s], a.stages[s], s);
  assert.deepEqual(b.total, a.total);
  assert.equal(b.stages.leaderFsync.count, 3);
});
