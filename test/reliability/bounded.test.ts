// Bounded resources (issue 7 §5): under a flood the coordinator answers BUSY instead of queueing
// without limit, accepted writes all complete, and the heap stays bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMiB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

test('a write flood gets BUSY beyond maxPendingOps, accepted writes complete, and the heap stays bounded', async () => {
  const maxPendingOps = 2000;
  const c = await Cluster.start({ nodes: 3, maxPendingOps });
  try {
    const value = 'x'.repeat(100);
    const heaps: number[] = [];
    let busy = 0;
    let ok = 0;
    for (let wave = 0; wave < 12; wave++) {
      const calls: Promise<void>[] = [];
      for (let i = 0; i < 20_000; i++) calls.push(c.put(`k${(wave * 20_000 + i) % 5000}`, value));
      const settled = await Promise.allSettled(calls);
      for (const s of settled) {
        if (s.status === 'fulfilled') ok++;
        else if (s.reason instanceof ClusterError && s.reason.code === ErrorCode.BUSY) busy++;
        else throw s.reason;
      }
      heaps.push(heapMiB());
    }
    assert.ok(busy > 0, 'the flood was turned away with BUSY');
    assert.ok(ok >= 12 * maxPendingOps, `every wave got at least maxPendingOps writes through (${ok})`);
    const m = await c.metrics();
    assert.equal(m.coordinator.pending, 0, 'nothing left pending');
    const growth = heaps[heaps.length - 1]! - heaps[1]!;
    assert.ok(growth < 32, `heap grew ${growth.toFixed(1)} MiB over 10 waves of 20,000 calls (${heaps.map((h) => h.toFixed(0)).join(', ')})`);
  } finally {
    await c.stop();
  }
});

test('the coordinator lets go of a write batch once its writes resolve: the heap does not grow with the writes of the last requestTimeoutMs', async () => {
  const c = await Cluster.start({ nodes: 3, storage: 'memory' });
  try {
    const value = Buffer.alloc(100, 7);
    const writes = async (n: number): Promise<void> => {
      let next = 0;
      const client = async (): Promise<void> => {
        while (next < n) await c.put(`k${next++ % 5000}`, value);
      };
      await Promise.all(Array.from({ length: 256 }, client));
    };
    await writes(10_000);
    const before = heapMiB();
    await writes(60_000); // well within requestTimeoutMs (10 s) on any machine this suite runs on
    const growth = heapMiB() - before;
    // Holding every batch until requestTimeoutMs kept about 0.6 KB per write: some 35 MiB here.
    assert.ok(growth < 8, `heap grew ${growth.toFixed(1)} MiB over 60,000 resolved writes`);
  } finally {
    await c.stop();
  }
});
