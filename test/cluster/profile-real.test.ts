// The per-stage write breakdown (src/cluster/profile.ts, metrics().writeStages) on a real 3-node LMDB
// cluster: milestones come from two threads (coordinator and leader), so this checks that they share
// one clock and are taken in order, which made-up data in test/report cannot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STAGES } from '../../src/index.js';
import { key, withCluster } from './helpers.js';

test('real cluster: every stage has samples; per write, each stage is >= 0 and the stages add up to its total', { timeout: 60_000 }, async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    await c.put('warm', 'up');
    await c.resetMetrics();
    const sequential = 20;
    const concurrent = 200;
    c.profile.keepSamplesForTest(10_000);
    const outer: number[] = [];
    for (let i = 0; i < sequential; i++) {
      const t0 = performance.now();
      await c.put(key(i), `v${i}`);
      outer.push(performance.now() - t0);
    }
    await Promise.all(Array.from({ length: concurrent }, (_, i) => c.put(key(sequential + i), 'x')));

    const m = await c.metrics();
    const n = sequential + concurrent;
    assert.equal(m.writeTotal.count, n, 'every write was profiled once');
    for (const s of STAGES) {
      assert.equal(m.writeStages[s].count, n, `stage ${s} has a sample per write`);
      assert.ok(Number.isFinite(m.writeStages[s].p50) && m.writeStages[s].max > 0, `stage ${s}: ${JSON.stringify(m.writeStages[s])}`);
    }
    assert.ok(m.writeStages.leaderFsync.max > 0 && m.writeStages.replication.max > 0);

    const samples = c.profile.samplesForTest();
    assert.equal(samples.length, n);
    const eps = 1e-6;
    samples.forEach((w, i) => {
      let sum = 0;
      for (const s of STAGES) {
        const v = w.stagesMs[s];
        assert.ok(v >= -eps, `write ${i}: stage ${s} is ${v} ms (milestones out of order or on different clocks): ${JSON.stringify(w)}`);
        sum += v;
      }
      assert.ok(Math.abs(sum - w.totalMs) < 1e-3, `write ${i}: stages sum to ${sum} ms, total ${w.totalMs} ms`);
      assert.ok(w.totalMs > 0);
    });
    // A sequential write's total lies within what its caller saw around the call.
    for (let i = 0; i < sequential; i++) {
      const w = samples[i]!;
      assert.ok(w.totalMs <= outer[i]! + 1e-3, `write ${i}: profiled total ${w.totalMs} ms > ${outer[i]} ms seen by the caller`);
    }
  });
});

test('setInstrument() switches stage timing on a running cluster: off profiles nothing, on again profiles every write', { timeout: 60_000 }, async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    await c.put('warm', 'up');
    await c.setInstrument(false);
    await c.resetMetrics();
    await Promise.all(Array.from({ length: 100 }, (_, i) => c.put(key(i), 'off')));
    let m = await c.metrics();
    assert.equal(m.writeTotal.count, 0, 'no write profiled while off');
    assert.equal(m.writeStages.leaderFsync.count, 0);

    await c.setInstrument(true);
    await Promise.all(Array.from({ length: 100 }, (_, i) => c.put(key(i), 'on')));
    m = await c.metrics();
    assert.equal(m.writeTotal.count, 100, 'every write profiled once on again');
    for (const s of STAGES) assert.equal(m.writeStages[s].count, 100, `stage ${s}`);

    // A bad argument is refused with a stable code.
    await assert.rejects(c.setInstrument('yes' as unknown as boolean), { code: 'INVALID_ARGUMENT' });
  });
});
