// Where a leader writes its log (src/node/host.ts, LeaderWriteChoice): on its own thread while no proposal waits
// behind such a write, through the pool while proposals arrive during its writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LeaderWriteChoice } from '../../src/node/host.js';
import { DATA_FILE } from '../../src/storage/lmdb.js';
import { key, waitFor, withCluster } from './helpers.js';

test('the choice: inline until a proposal sent before an inline write ended is handled after it; back after quiet pool writes', () => {
  const c = new LeaderWriteChoice();
  assert.equal(c.inline, true);
  c.wroteInline(10);
  c.proposed(11, 12, false); // sent after the write: it did not wait
  assert.equal(c.inline, true);
  c.wroteInline(20);
  c.proposed(19.5, 20.1, false); // sent while the thread was writing: it waited
  assert.equal(c.inline, false);
  // Pool writes during which proposals arrive keep the pool; QUIET_POOL_WRITES quiet ones in a row end it.
  c.proposed(25, 25.1, true);
  c.wrotePooled(25, 0); // a proposal at 25.1 arrived during the write that started at 25
  assert.equal(c.inline, false);
  let t = 30;
  for (let i = 1; i < LeaderWriteChoice.QUIET_POOL_WRITES; i++) {
    c.wrotePooled(t, 0);
    t += 1;
    assert.equal(c.inline, false, `after ${i} quiet writes`);
  }
  c.wrotePooled(t, 1); // quiet, but another pool write is still in flight: stay (writes stay in order)
  assert.equal(c.inline, false);
  c.wrotePooled(t + 1, 0);
  assert.equal(c.inline, true);
  // A proposal while pool writes are in flight never switches on its own; reset() starts a new term inline.
  c.wroteInline(50);
  c.proposed(49, 51, true);
  assert.equal(c.inline, true);
  c.proposed(49, 51, false);
  assert.equal(c.inline, false);
  c.reset();
  assert.equal(c.inline, true);
});

test('a 3-node LMDB cluster: one write at a time goes inline on the leader; a stream of batches moves it to the pool and back', async () => {
  await withCluster({ nodes: 3, storage: 'lmdb', pool: 'piscina' }, async (c) => {
    const leaderCounters = async (): Promise<Record<string, number>> => {
      const m = await c.metrics();
      return m.nodes.find((n) => n.role === 'leader')!.counters;
    };
    const sequential = async (from: number, n: number): Promise<void> => {
      for (let i = from; i < from + n; i++) await c.put(key(i), `v${i}`);
    };
    await sequential(0, 60);
    const a = await leaderCounters();
    assert.ok(a.logWritesInline! >= 40, `sequential writes inline on the leader: ${JSON.stringify(a)}`);
    // A stream: a batch every turn, so that proposals arrive while the leader's writes sync.
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 3000; i++) {
      writes.push(c.put(key(1000 + i), `w${i}`));
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(writes);
    const b = await leaderCounters();
    assert.ok(b.logWritesPooled! > a.logWritesPooled!, `a stream of proposals uses the pool: ${JSON.stringify(b)}`);
    await sequential(60, 60);
    const d = await leaderCounters();
    assert.ok(d.logWritesInline! - b.logWritesInline! >= 40, `back inline once the stream ended: ${JSON.stringify(d)}`);
    // Every write is there, on the leader and (stale reads) on every node.
    for (const i of [0, 59, 60, 119]) assert.equal(await c.get(key(i)), `v${i}`);
    for (let i = 0; i < 3000; i += 499) assert.equal(await c.get(key(1000 + i)), `w${i}`);
    const m = await c.metrics();
    for (const n of m.nodes) await waitFor(`node ${n.id} applied the stream`, async () => String(await c.get(key(1000 + 2999), { consistency: 'stale', node: n.id })) === 'w2999' || undefined);
  });
});

test("a 3-node LMDB cluster with a pool: every node's log file stays bounded while the log is purged (a follower's pool thread pinned no read snapshot)", async () => {
  await withCluster({ nodes: 3, storage: 'lmdb', pool: 'piscina', snapshotEveryEntries: 20 }, async (c, dir) => {
    // 480 puts of 60 kB, two at a time: about 29 MB through each node's log, which holds about two snapshot
    // intervals (40 entries, at most 5 MB). Before the fix the followers' pool threads kept the read snapshot of
    // their 'initial' task, no page freed since was reused, and their data.mdb grew by all of it.
    const value = 'v'.repeat(60_000);
    for (let i = 0; i < 480; i += 2) await Promise.all([c.put(key(i % 10), value), c.put(key((i + 1) % 10), value)]);
    await c.put(key(99), 'last');
    for (const n of (await c.metrics()).nodes) {
      await waitFor(`node ${n.id} applied the writes`, async () => String(await c.get(key(99), { consistency: 'stale', node: n.id })) === 'last' || undefined);
    }
    const sizes = (await c.status()).map((s) => ({ id: s.id, bytes: statSync(join(dir, `node-${s.id}`, DATA_FILE)).size }));
    for (const s of sizes) assert.ok(s.bytes < 12 * 1024 * 1024, `node ${s.id}'s data.mdb: ${JSON.stringify(sizes)}`);
  });
});
