// runLoad on a real (small) cluster: what issue 15 adds to each scenario's result is there and sane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from '../../src/index.js';
import { runLoad, type LoadSpec } from '../../bench/load.js';
import { LatencyHistogram } from '../../src/util/histogram.js';
import { threadSched } from '../../src/util/thread-health.js';
import type { TraceScenario } from '../../bench/trace.js';

const spec = (over: Partial<LoadSpec>): LoadSpec => ({
  name: 't', description: 't', clients: 8, durationMs: 400, ops: 0, warmupMs: 200, valueSize: 16, keySpace: 100,
  readRatio: 0, consistency: 'linearizable', batchSize: 1, seed: 1, steadyWarmup: false, ...over,
});

test('runLoad keeps the whole histogram, thread health of main and every node, tail attribution, a trace sample', { timeout: 60_000 }, async () => {
  const cluster = await Cluster.start({ nodes: 3, storage: 'memory' });
  try {
    const before = await cluster.metrics();
    assert.equal(before.nodes[0]?.counters.elu, undefined, 'thread health starts with the first resetMetrics()');
    const traces: TraceScenario[] = [];
    const r = await runLoad(cluster, spec({ onTrace: (t) => traces.push(t) }), { storage: 'memory', pool: 'piscina' });
    assert.equal(r.loop, 'closed');
    assert.ok(r.ops > 0 && r.errors === 0);
    assert.equal(LatencyHistogram.decode(r.hdr!).summary().count, r.ops);
    assert.deepEqual(r.threads?.map((t) => t.thread).sort(), ['main', 'node-1', 'node-2', 'node-3']);
    for (const t of r.threads ?? []) assert.ok(t.elu > 0 && t.elu <= 1 && t.gcCount >= 0 && t.gcMaxPauseMs <= t.gcPauseMs + 1e-9, JSON.stringify(t));
    if (threadSched() !== undefined) {
      // Linux: each thread's CPU and run-queue shares, read by the thread itself.
      for (const t of r.threads ?? []) assert.ok(t.cpu! > 0 && t.cpu! <= 1 && t.waited! >= 0 && t.waited! < 1, JSON.stringify(t));
    }
    assert.ok(r.tail !== undefined && r.tail.writes === r.ops);
    assert.equal(r.tail.groups[r.tail.groups.length - 1]!.writes, Math.ceil(r.ops / 100));
    assert.ok(Math.abs(Object.values(r.tail.dominant).reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.equal(traces.length, 1);
    assert.equal(traces[0]!.pool, false); // memory storage: no pool thread
    assert.ok(traces[0]!.writes.length > 0);
    assert.ok(r.warmupThroughput !== undefined && r.warmupThroughput.every(([t]) => t <= 0));
    // Open loop: labelled, at the rate asked for.
    const o = await runLoad(cluster, spec({ rateOpsPerSec: 2000 }), {});
    assert.equal(o.loop, 'open');
    assert.equal(o.rateOpsPerSec, 2000);
    assert.ok(o.ops >= 700 && o.ops <= 801, `ops ${o.ops}`); // 0.4 s at 2,000/s
    assert.ok(typeof o.params.sendLagP50Ms === 'number' && typeof o.params.sendLagP99Ms === 'number' && o.params.sendLagP99Ms >= o.params.sendLagP50Ms);
  } finally {
    await cluster.stop();
  }
});
