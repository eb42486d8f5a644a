// The Keyv store splits getMany, deleteMany and clear into calls the cluster takes: at most maxBatchOps keys and,
// for deletes, maxBatchBytes (with small bounds whole chunks of 256 were refused, and Keyv's clear() swallowed the
// error: the keys stayed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Keyv from 'keyv';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';
import { KeyvThreadraft } from '../../src/keyv.js';

test('getMany, deleteMany and clear stay within maxBatchOps and maxBatchBytes', async () => {
  const cluster = await Cluster.start({ nodes: 1, storage: 'memory', maxBatchOps: 100, maxValueBytes: 1024 });
  try {
    const store = new KeyvThreadraft(cluster);
    const keyv = new Keyv({ store, namespace: 'ns' });
    const errors: unknown[] = [];
    keyv.on('error', (e) => errors.push(e));
    const long = (i: number): string => `${'k'.repeat(500)}${String(i).padStart(4, '0')}`; // 300 deletes of ~515 bytes: over 66,560
    for (let i = 0; i < 300; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => keyv.set(long(i + j), i + j)));
    assert.equal(await cluster.size(), 300);
    const values = await keyv.getMany(Array.from({ length: 300 }, (_, i) => long(i)));
    assert.deepEqual(values, Array.from({ length: 300 }, (_, i) => i));
    assert.equal(await keyv.deleteMany(Array.from({ length: 150 }, (_, i) => long(i))), true);
    assert.equal(await cluster.size(), 150);
    await keyv.clear();
    assert.deepEqual(errors, []);
    assert.equal(await cluster.size(), 0, 'clear() removed every key of the namespace');
  } finally {
    await cluster.stop();
  }
});

test('bad options are INVALID_ARGUMENT when the store is made, not an error event at its first read', async () => {
  const cluster = await Cluster.start({ nodes: 1, storage: 'memory' });
  try {
    const invalid = (says: RegExp) => (e: unknown) => e instanceof ClusterError && e.code === ErrorCode.INVALID_ARGUMENT && says.test(e.message);
    assert.throws(() => new KeyvThreadraft(cluster, { consistency: 'strong' as 'lease' }), invalid(/consistency must be one of linearizable, lease, stale, got "strong"/));
    assert.throws(() => new KeyvThreadraft(cluster, { stopOnDisconnect: 'yes' as unknown as boolean }), invalid(/stopOnDisconnect must be true or false/));
    assert.throws(() => new KeyvThreadraft(cluster, { consistancy: 'lease' } as never), invalid(/unknown option consistancy/));
    assert.throws(() => new KeyvThreadraft(cluster, 'lease' as never), invalid(/options must be an object/));
    const store = new KeyvThreadraft(cluster, { consistency: 'stale', stopOnDisconnect: false });
    assert.equal(store.opts.consistency, 'stale');
  } finally {
    await cluster.stop();
  }
});

test('clear() of a namespace ends while writers keep rewriting more than a page of its keys', async () => {
  // Before, clear() scanned from the start again after each page until none was left: it ended only with the writers.
  const cluster = await Cluster.start({ nodes: 1, storage: 'memory' });
  let stop = false;
  try {
    const store = new KeyvThreadraft(cluster);
    store.namespace = 'ns';
    for (let i = 0; i < 300; i++) await store.set(`ns:cold:${i}`, 'c');
    const HOT = 600;
    const deadline = Date.now() + 20_000; // writers stop here at the latest
    let rewrites = 0;
    const rewrite = Array.from({ length: HOT }, (_, i) => ({ type: 'put' as const, key: `ns:hot:${i}`, value: 'h' }));
    const writer = async (): Promise<void> => {
      while (!stop && Date.now() < deadline) {
        await cluster.batch(rewrite); // every hot key again, in one call
        rewrites++;
      }
    };
    for (let i = 0; i < HOT; i++) await store.set(`ns:hot:${i}`, 'h');
    const writers = [writer(), writer()];
    await store.clear();
    const writing = Date.now() < deadline;
    stop = true;
    await Promise.all(writers);
    assert.ok(writing, `clear() returned only when the writers stopped (${rewrites} rewrites)`);
    const left = await cluster.scan({ prefix: 'ns:' }, { limit: 10_000 });
    assert.deepEqual(left.items.filter(([k]) => String(k).startsWith('ns:cold:')), [], 'every key the writers left alone is gone');
  } finally {
    stop = true;
    await cluster.stop();
  }
});
