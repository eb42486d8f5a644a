// The cluster on real worker threads and real LMDB (issue 5 §6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';
import { key, waitFor, withCluster, withTempDir } from './helpers.js';

test('the seed test: a write on the cluster can be read back', async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    await c.put('hello', 'world');
    assert.equal(await c.get('hello'), 'world');
    assert.equal(await c.get('absent'), undefined);
  });
});

test('values keep their type; delete, cas and atomic batches behave as documented', async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    await c.put('s', 'text');
    await c.put(Buffer.from('b'), new Uint8Array([1, 2, 3]));
    assert.equal(await c.get('s'), 'text');
    assert.deepEqual(new Uint8Array((await c.get('b')) as Uint8Array), new Uint8Array([1, 2, 3]));
    assert.equal(await c.delete('s'), true);
    assert.equal(await c.delete('s'), false);
    assert.deepEqual(await c.cas('c', null, 'v1'), { ok: true, current: 'v1' });
    assert.deepEqual(await c.cas('c', 'wrong', 'v2'), { ok: false, current: 'v1' });
    const bad = await c.batch([
      { type: 'put', key: 'x', value: '1' },
      { type: 'cas', key: 'c', expected: 'nope', value: 'v3' },
    ]);
    assert.equal(bad.ok, false);
    assert.equal(await c.get('x'), undefined, 'a failed cas leaves the whole batch unapplied');
    const good = await c.batch([
      { type: 'put', key: 'x', value: '1' },
      { type: 'cas', key: 'c', expected: 'v1', value: 'v3' },
      { type: 'delete', key: 'b' },
    ]);
    assert.equal(good.ok, true);
    assert.equal(await c.get('x'), '1');
    assert.equal(await c.get('c'), 'v3');
    assert.equal(await c.get('b'), undefined);
    assert.equal(await c.get('x', { consistency: 'lease' }), '1');
    assert.equal(c.peek('x', c.leader()!), '1', 'peek() reads the leader synchronously');
    assert.equal(c.peek('never-written'), undefined);
    await waitFor('stale read on every node', async () => {
      for (const m of c.members()) if ((await c.get('x', { consistency: 'stale', node: m.id })) !== '1') return undefined;
      return true;
    });
  });
});

test('1,000 concurrent writes are all read back with linearizable reads', async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    const n = 1000;
    await Promise.all(Array.from({ length: n }, (_, i) => c.put(key(i), `v${i}`)));
    const values = await Promise.all(Array.from({ length: n }, (_, i) => c.get(key(i))));
    values.forEach((v, i) => assert.equal(v, `v${i}`));
    const m = await c.metrics();
    assert.ok(m.coordinator.batchesSent < n, `writes were batched (${m.coordinator.batchesSent} batches for ${n} writes)`);
  });
});

test('invalid arguments are rejected with INVALID_ARGUMENT and calls after stop() with CLUSTER_STOPPED', async () => {
  const c = await Cluster.start({ nodes: 1, storage: 'memory' });
  const invalid = async (p: () => Promise<unknown>): Promise<void> => {
    await assert.rejects(p, (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.INVALID_ARGUMENT);
  };
  try {
    await invalid(() => c.put('', 'v'));
    await invalid(() => c.put(42 as unknown as string, 'v'));
    await invalid(() => c.put('k'.repeat(1025), 'v'));
    await invalid(() => c.put('k', 7 as unknown as string));
    await invalid(() => c.put('k', Buffer.alloc(1024 * 1024 + 1)));
    // The largest value under the largest key fits in a batch (maxBatchBytes was 1 MiB, as the value, and refused it).
    const longest = 'k'.repeat(1024);
    await c.put(longest, Buffer.alloc(1024 * 1024, 7));
    assert.equal(((await c.get(longest)) as Uint8Array).byteLength, 1024 * 1024);
    assert.equal(c.options.maxBatchBytes, 1024 * 1024 + 64 * 1024);
    await c.delete(longest);
    await invalid(() => c.get('k', { consistency: 'eventual' as 'stale' }));
    await invalid(() => c.batch([]));
    assert.equal(await c.get('k'), undefined, 'nothing was written');
  } finally {
    await c.stop();
  }
  await assert.rejects(() => c.put('k', 'v'), (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.CLUSTER_STOPPED);
  await assert.rejects(() => c.get('k'), (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.CLUSTER_STOPPED);
  await assert.rejects(() => Cluster.start({ nodes: 9 }), (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.INVALID_ARGUMENT);
  await assert.rejects(() => Cluster.start({ storage: 'memory', maxBatchBytes: 1024 * 1024 }), (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.INVALID_ARGUMENT && /maxBatchBytes must be at least maxValueBytes \+ 1048 \(1049624\)/.test(e.message));
});

test('stop() called again while stopping returns the same promise (it used to resolve at once, before the nodes were down)', async () => {
  const c = await Cluster.start({ nodes: 3 });
  const first = c.stop();
  const second = c.stop();
  assert.equal(second, first);
  await second;
  assert.equal(c.isStopped, true);
  assert.equal(c.stop(), first, 'and after it resolved');
});

test('memory storage and the inline pool run the same API', async () => {
  for (const opts of [{ storage: 'memory' as const }, { pool: 'inline' as const }]) {
    await withCluster({ nodes: 3, ...opts }, async (c) => {
      await Promise.all(Array.from({ length: 100 }, (_, i) => c.put(key(i), `v${i}`)));
      assert.equal(await c.get(key(42)), 'v42');
      assert.equal(await c.get(key(43), { consistency: 'stale', node: c.leader()! }), 'v43');
    });
  }
});

test('kill the leader: a new leader within two election timeouts, and no acknowledged write lost', async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    const acked = new Map<string, string>();
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.put(key(i), `a${i}`).then(() => acked.set(key(i), `a${i}`))));
    const readAll = async (get: (k: string) => Promise<unknown>): Promise<Map<string, unknown>> => {
      const seen = new Map<string, unknown>();
      for (const k of acked.keys()) seen.set(k, await get(k));
      return seen;
    };
    const old = c.leader()!;
    const t = c.options.timing;
    const electionMs = t.electionTimeoutMaxTicks * t.tickMs;
    const killedAt = Date.now();
    await c.crash(old);
    const next = await c.waitForLeader(2 * electionMs + 1000);
    const elapsed = Date.now() - killedAt;
    assert.notEqual(next, old);
    assert.ok(elapsed <= 2 * electionMs, `new leader after ${elapsed} ms (two election timeouts: ${2 * electionMs} ms)`);
    assert.deepEqual(await readAll((k) => c.get(k)), acked, 'every acknowledged write, read through the new leader');
    await c.put('after', 'yes');
    assert.equal(await c.get('after'), 'yes');
    // The killed leader, restarted from its directory, holds every acknowledged write too.
    await c.restart(old);
    await waitFor(`node ${old} caught up`, async () => (await c.get('after', { consistency: 'stale', node: old })) === 'yes' || undefined);
    assert.deepEqual(await readAll((k) => c.get(k, { consistency: 'stale', node: old })), acked, `every acknowledged write on the restarted node ${old}`);
  });
});

test('crash and restart each node in turn, then restart the whole cluster from its directories', async () => {
  await withTempDir(async (dir) => {
    let c = await Cluster.start({ dir, nodes: 3 });
    let written = 0;
    try {
      for (const id of [1, 2, 3]) {
        await Promise.all(Array.from({ length: 100 }, () => c.put(key(written), `v${written++}`)));
        await c.crash(id);
        await Promise.all(Array.from({ length: 100 }, () => c.put(key(written), `v${written++}`)));
        await c.restart(id);
        await waitFor(`node ${id} caught up`, async () => {
          const s = await c.status();
          const me = s.find((x) => x.id === id)!;
          const lead = s.find((x) => x.role === 'leader');
          return lead && me.applied !== undefined && me.applied >= (lead.commit ?? Infinity) ? true : undefined;
        });
      }
    } finally {
      await c.stop();
    }
    c = await Cluster.start({ dir, nodes: 3 });
    try {
      for (let i = 0; i < written; i++) assert.equal(await c.get(key(i)), `v${i}`);
      for (const m of c.members()) assert.equal(await c.get(key(written - 1), { consistency: 'stale', node: m.id }), `v${written - 1}`);
    } finally {
      await c.stop();
    }
  });
});

test('partition the leader away: the minority side commits no writes, the majority side does', async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    await c.put('before', '1');
    const old = c.leader()!;
    const others = c.members().map((m) => m.id).filter((id) => id !== old);
    const before = (await c.status()).find((s) => s.id === old)!.commit!;
    await c.partition([old], others);
    await c.put('during', '2'); // retried by the coordinator until the majority side has a leader
    const newLeader = c.leader()!;
    assert.ok(others.includes(newLeader), 'the majority elected a leader of its own');
    const statuses = await c.status();
    const minority = statuses.find((s) => s.id === old)!;
    const majority = statuses.find((s) => s.id === newLeader)!;
    assert.equal(minority.commit, before, 'the isolated old leader committed nothing');
    assert.ok(majority.commit! > before, 'the majority committed the write');
    assert.equal(await c.get('during', { consistency: 'stale', node: old }), undefined);
    await c.heal();
    await waitFor('the old leader catches up after heal', async () => (await c.get('during', { consistency: 'stale', node: old })) === '2' || undefined);
  });
});

test('a restarted node takes snapshot points at terms its log really has (regression: it died compacting at term 0)', async () => {
  await withCluster({ nodes: 3, snapshotEveryEntries: 5 }, async (c) => {
    for (let i = 0; i < 30; i++) await c.put(key(i), `v${i}`);
    const follower = c.members().map((m) => m.id).find((id) => id !== c.leader())!;
    await c.crash(follower);
    await c.restart(follower);
    // Quiet heartbeats first: Readies that write nothing, the case where the node had no term for its applied index.
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 30; i < 60; i++) await c.put(key(i), `v${i}`);
    await waitFor('the restarted node applied every write', async () => (await c.get(key(59), { consistency: 'stale', node: follower })) === 'v59' || undefined);
    const s = (await c.status()).find((x) => x.id === follower)!;
    assert.ok(s.alive, `node ${follower} is alive (${s.error ?? ''})`);
    assert.ok((s.snapshotIndex ?? 0) > 30, `it took snapshot points after the restart (snapshot index ${s.snapshotIndex})`);
  });
});
