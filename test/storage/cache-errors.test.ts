// The LRU log cache at its bounds, and StorageError as plain data (through the pool: conformance suite).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogCache, openNodeStorage, StorageError } from '../../src/adaptor/index.js';
import { entries, raw } from './helpers.js';

test('the log cache is bounded in entries', () => {
  const c = new LogCache(10, 1 << 30);
  c.filled(entries(1, 25), c.epoch);
  assert.equal(c.size, 10);
  assert.equal(c.range(1, 2), undefined, 'oldest evicted');
  assert.equal(c.range(16, 26)?.length, 10);
});

test('the log cache is bounded in bytes', () => {
  const c = new LogCache(1000, 10 * (100 + 64));
  for (let i = 1; i <= 50; i++) c.filled([raw(i, 1, 100)], c.epoch);
  assert.ok(c.bytes <= 10 * (100 + 64), `holds ${c.bytes} bytes`);
  assert.equal(c.size, 10);
  c.filled([raw(51, 1, 100_000)], c.epoch); // larger than the whole cache: not cached, nothing else lost
  assert.equal(c.size, 10);
});

test('the log cache is filled by reads only, drops a truncated suffix and purged entries, and refuses fills from before a change', () => {
  const c = new LogCache(100, 1 << 20);
  c.appended(entries(1, 3, 1));
  assert.equal(c.size, 0, 'appends are not cached');
  c.filled(entries(1, 10, 1), c.epoch);
  const epoch = c.epoch;
  c.appended([raw(5, 2)]);
  assert.deepEqual(c.range(1, 5)?.map((e) => e.term), [1, 1, 1, 1]);
  assert.equal(c.range(5, 6), undefined, 'the truncated suffix is gone');
  assert.equal(c.range(6, 7), undefined);
  c.filled(entries(6, 10, 1), epoch); // a read that started before the truncation
  assert.equal(c.range(6, 7), undefined);
  c.purged(3);
  assert.equal(c.range(3, 4), undefined);
  assert.equal(c.range(4, 5)?.length, 1);
});

test('StorageError round-trips as plain data (structured clone) and is rebuilt as the same class', () => {
  const e = new StorageError('LOG_PURGED', 'log', 'read', 'index 3 is purged', new Error('inner'));
  const data = structuredClone(e.toJSON());
  const back = StorageError.fromJSON(data);
  assert.ok(back instanceof StorageError);
  assert.deepEqual([back.code, back.subject, back.verb, back.message], ['LOG_PURGED', 'log', 'read', e.message]);
  assert.deepEqual(data.cause, { name: 'Error', message: 'inner' });
  // what happens without toJSON: a plain Error, code lost (why we send data)
  const cloned = structuredClone(e) as Error & { code?: string };
  assert.equal(cloned instanceof StorageError, false);
});

test("memory storage with pool: 'piscina' runs inline (its state lives on the node's thread)", async () => {
  const s = await openNodeStorage({ kind: 'memory', pool: 'piscina', membership: { voters: [1] } });
  await s.write({ entries: entries(1, 3), apply: [] });
  assert.equal((await s.logReader.tryGetLogEntries(1, 4)).length, 3);
  assert.equal((s as unknown as { backend: { mode: string } }).backend.mode, 'inline');
  await s.close();
});
