// Cluster.metrics().memory and each node's memory counters: the node threads' and pool threads' own heap and
// external memory, which the main thread's process.memoryUsage() does not see (INFO's used_memory once counted the
// main thread alone: 280 MB while the node threads held the replicated log).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeMemoryBytes } from '../../src/cluster/cluster.js';
import { withCluster } from './helpers.js';

const VALUE_BYTES = 256 * 1024;
const VALUES = 32; // 8 MiB of values: every node's raft log holds them until a snapshot point (10 000 entries)

test('metrics() reports each node thread and pool thread memory, and the log a node holds shows in its own', async () => {
  await withCluster({ nodes: 3, storage: 'lmdb', pool: 'piscina', sync: false }, async (c) => {
    const before = await c.metrics();
    for (const n of before.nodes) {
      assert.equal(n.unavailable, undefined);
      for (const f of ['heapUsedBytes', 'externalBytes', 'poolHeapUsedBytes', 'poolExternalBytes']) {
        assert.ok(Number.isSafeInteger(n.counters[f]) && n.counters[f]! > 0, `node ${n.id} ${f}: ${n.counters[f]}`);
      }
    }
    for (let i = 0; i < VALUES; i++) await c.put(`m${i}`, new Uint8Array(VALUE_BYTES).fill(i));
    const after = await c.metrics();
    const { mainThread, totalBytes } = after.memory;
    assert.equal(totalBytes, after.nodes.reduce((s, n) => s + nodeMemoryBytes(n.counters), mainThread.heapUsedBytes + mainThread.externalBytes));
    // Each node holds the entries in its in-memory raft log (its own thread's external memory), whatever the
    // main thread holds.
    for (const n of after.nodes) {
      const was = before.nodes.find((b) => b.id === n.id)!.counters.externalBytes!;
      const grew = n.counters.externalBytes! - was;
      assert.ok(grew >= (VALUES * VALUE_BYTES) / 2, `node ${n.id}: external memory grew by ${grew} bytes after ${VALUES * VALUE_BYTES} bytes of values`);
    }
  });
});

test('memory counters without a pool: the node thread only', async () => {
  await withCluster({ nodes: 1, storage: 'memory' }, async (c) => {
    const m = await c.metrics();
    const n = m.nodes[0]!;
    assert.ok(n.counters.heapUsedBytes! > 0 && n.counters.externalBytes! >= 0);
    assert.equal(n.counters.poolHeapUsedBytes, undefined);
    assert.equal(m.memory.totalBytes, nodeMemoryBytes(n.counters) + m.memory.mainThread.heapUsedBytes + m.memory.mainThread.externalBytes);
  });
});
