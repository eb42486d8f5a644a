// Cache rules outside the conformance suite: the main-thread reader honours expiry, a format-1 snapshot stream
// still installs, an older LMDB state is indexed at open. (The expiry index has tests of its own: expiry-index.test.ts.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { open } from 'lmdb';
import { pack } from 'msgpackr';
import type { Value } from '../../src/storage/command.js';
import { LmdbStateReader, LmdbStore, STATE_FILE } from '../../src/storage/lmdb.js';
import { MemoryStore } from '../../src/storage/memory.js';
import type { SyncStore } from '../../src/storage/store.js';
import { at } from './cache-cases.js';
import { cmd, k, put, tempDir } from './helpers.js';

const membership = { voters: [1] };
const T0 = 1_700_000_000_000;
const str = (b: Uint8Array): string => Buffer.from(b).toString();

test('LmdbStateReader honours expiry: get, ttl and scan at max(log clock, now); the store counts size', () => {
  const d = tempDir();
  const s = LmdbStore.open({ dir: d.dir, membership });
  const reader = LmdbStateReader.open(d.dir);
  try {
    s.apply([at(1, T0, [cmd(1, 1, [{ t: 'put', key: k('a'), value: 'x', ttlMs: 1000 }, put('b', 'y'), { t: 'put', key: k('c'), value: 'z', ttlMs: 10 }])])]);
    assert.equal(reader.get('a', T0 + 999), 'x');
    assert.equal(reader.get(k('a'), T0 + 1000), undefined);
    assert.equal(reader.get('a'), undefined, 'Date.now() is past T0 + 1 s');
    assert.equal(reader.ttl(k('a'), T0 + 1), 999);
    assert.equal(reader.ttl(k('b'), T0), -1);
    assert.equal(s.size(T0), 3);
    assert.equal(s.size(T0 + 10), 2);
    assert.deepEqual(reader.scan({}).map(([key]) => str(key)), ['b']);
    // The log clock moves past a's expiry: even a reader asked for an earlier time sees it gone.
    s.apply([at(2, T0 + 2000, [])]);
    assert.equal(reader.get('a', T0), undefined);
    assert.equal(reader.ttl(k('b'), T0), -1);
  } finally {
    reader.close();
    s.close();
    d.remove();
  }
});

function formatOneStream(): Uint8Array[] {
  // A stream as stores wrote it before expiries: header without the machine scalars, values tag 0 (string) / 1 (bytes).
  return [
    pack([0, 1, { index: 3, term: 1, membership }]),
    pack([1, Buffer.from('s'), Buffer.from([0, 0x68, 0x69]), Buffer.from('b'), Buffer.from([1, 7, 8])]),
    pack([3, 2, 0]),
  ];
}

test('a format-1 snapshot stream (no clock, tag 0/1 values) installs in both stores', () => {
  const d = tempDir();
  const stores: SyncStore[] = [new MemoryStore({ membership, maxKeys: 2 }), LmdbStore.open({ dir: d.dir, membership, maxKeys: 2 })];
  try {
    for (const s of stores) {
      const sink = s.receiveSnapshot();
      for (const chunk of formatOneStream()) sink.write(chunk);
      sink.install({ index: 3, term: 1, membership });
      assert.equal(s.get(k('s')), 'hi');
      assert.deepEqual([...(s.get(k('b')) as Uint8Array)], [7, 8]);
      assert.deepEqual([s.stats().keys, s.stats().bytes, s.stats().clock], [2, 6, 0]);
      assert.equal(s.ttl(k('s')), -1);
    }
  } finally {
    for (const s of stores) s.close();
    d.remove();
  }
});

test('an LMDB state written before expiries (tag 0/1 records, no indexes, no counts) is indexed at open, oldest first', () => {
  const d = tempDir();
  const s = LmdbStore.open({ dir: d.dir, membership });
  s.apply([at(1, T0, [cmd(1, 1, [put('a', 'old')])])]);
  s.close();
  // Make it look like an older store: a bare tag-0 record, no machine record, no write-order index.
  const env = open({ path: join(d.dir, STATE_FILE), maxDbs: 16, noSync: true, compression: false, encoding: 'binary' });
  const bin = { keyEncoding: 'binary' as const, encoding: 'binary' as const, compression: false as const };
  env.transactionSync(() => {
    env.openDB({ name: 'kv0', ...bin }).put(Buffer.from('a'), Buffer.from([0, ...Buffer.from('old')]));
    env.openDB({ name: 'lru0', ...bin }).clearSync();
    env.openDB({ name: 'meta', encoding: 'binary', compression: false }).remove('machine');
  });
  env.close();
  const again = LmdbStore.open({ dir: d.dir, membership, maxKeys: 1 });
  try {
    assert.equal(again.get(k('a')), 'old');
    assert.deepEqual([again.stats().keys, again.stats().bytes], [1, 4]);
    again.recordEvents(true);
    const res = again.write({ entries: [], apply: [at(2, T0, [cmd(1, 2, [put('b', 'new')])])] });
    assert.deepEqual(res.events!.map((e) => `${e.type} ${str(e.key)}`), ['put b', 'evict a']);
    const v: Value | undefined = again.get(k('b'));
    assert.equal(v, 'new');
  } finally {
    again.close();
    d.remove();
  }
});

test('the LMDB reader: the reads inside view() come from one committed state, as a multi-key read needs; outside, each get renews to the latest', () => {
  const d = tempDir();
  const s = LmdbStore.open({ dir: d.dir, membership });
  const reader = LmdbStateReader.open(d.dir);
  try {
    let index = 0;
    const both = (v: string): void => void s.apply([at(++index, T0, [cmd(1, index, [put('a', v), put('b', v)])])]);
    both('1');
    const get = (key: string): string | undefined => {
      const v = reader.get(k(key), T0);
      return v === undefined ? undefined : typeof v === 'string' ? v : str(v);
    };
    // An entry that writes both keys commits between the two gets (here on this thread; on a node's thread in a cluster).
    const torn = [get('a'), (both('2'), get('b'))];
    assert.deepEqual(torn, ['1', '2'], 'two plain gets straddle the commit');
    const whole = reader.view(() => [get('a'), (both('3'), get('b'))]);
    assert.deepEqual(whole, ['2', '2'], 'inside view(): the state when it began');
    assert.deepEqual([get('a'), get('b')], ['3', '3'], 'after it, the latest');
  } finally {
    reader.close();
    s.close();
    d.remove();
  }
});

test('revision: 0 when absent or expired, changed by every write of the key (expire and persist included), the same in the LMDB reader', () => {
  const d = tempDir();
  const lmdb = LmdbStore.open({ dir: d.dir, membership });
  const reader = LmdbStateReader.open(d.dir);
  const stores: SyncStore[] = [new MemoryStore({ membership }), lmdb];
  try {
    for (const s of stores) {
      const seen: number[] = [];
      const rev = (key: string, now = T0): number => {
        const r = s.revision(k(key), now);
        if (s === lmdb) assert.equal(reader.revision(k(key), now), r, 'the reader agrees');
        return r;
      };
      assert.equal(rev('a'), 0);
      let index = 0;
      const write = (...ops: Parameters<typeof cmd>[2]): void => void s.apply([at(++index, T0, [cmd(1, index, ops)])]);
      write(put('a', '1'));
      seen.push(rev('a'));
      write(put('a', '1')); // the same value again: a write all the same
      seen.push(rev('a'));
      write({ t: 'expire', key: k('a'), ttlMs: 100 });
      seen.push(rev('a'));
      write({ t: 'persist', key: k('a') });
      seen.push(rev('a'));
      write(put('b', '1')); // another key: a's revision stays
      assert.equal(rev('a'), seen[seen.length - 1]);
      seen.push(rev('b'));
      assert.ok(seen.every((r) => r > 0) && new Set(seen).size === seen.length, `revisions ${seen.join(', ')}`);
      write({ t: 'expire', key: k('b'), ttlMs: 5 });
      assert.ok(rev('b', T0 + 4) > 0);
      assert.equal(rev('b', T0 + 5), 0, 'expired: absent');
      write({ t: 'del', key: k('a') });
      assert.equal(rev('a'), 0);
    }
  } finally {
    reader.close();
    for (const s of stores) s.close();
    d.remove();
  }
});

test('LMDB: the in-memory expiry index is rebuilt at open: keys expire, are counted and purged after a reopen', () => {
  const d = tempDir();
  try {
    let s = LmdbStore.open({ dir: d.dir, membership });
    s.apply([at(1, T0, [cmd(1, 1, [{ t: 'put', key: k('a'), value: 'x', ttlMs: 100 }, { t: 'put', key: k('b'), value: 'y', ttlMs: 200 }, put('c', 'z')])])]);
    s.close();
    s = LmdbStore.open({ dir: d.dir, membership });
    try {
      assert.equal(s.size(T0), 3);
      assert.equal(s.size(T0 + 150), 2, 'a expired: counted through the rebuilt index');
      s.apply([at(2, T0 + 250, [])]);
      assert.equal(s.stats().keys, 1, 'a and b purged by the next entry');
      assert.equal(s.stats().expirations, 2);
    } finally {
      s.close();
    }
  } finally {
    d.remove();
  }
});

test('randomKey: the first live key from index floor(r * keys), in key order, wrapping; each key alike; none when empty', () => {
  const d = tempDir();
  const lmdb = LmdbStore.open({ dir: d.dir, membership });
  const reader = LmdbStateReader.open(d.dir);
  const memory = new MemoryStore({ membership });
  try {
    const views: Array<[string, Pick<SyncStore, 'randomKey' | 'apply'> | LmdbStateReader]> = [['memory', memory], ['lmdb', lmdb], ['reader', reader]];
    for (const [name, v] of views) assert.equal(v.randomKey(0.5, T0), undefined, `${name}: no key`);
    // Keys k0..k9 (k3, k4 and k9 expire at T0 + 10), written in an order other than the keys' own.
    const ops = [7, 2, 9, 0, 4, 5, 1, 8, 3, 6].map((i) => ({ t: 'put' as const, key: k(`k${i}`), value: 'v', ...([3, 4, 9].includes(i) ? { ttlMs: 10 } : {}) }));
    for (const s of [memory, lmdb]) s.apply([at(1, T0, [cmd(1, 1, ops)])]);
    for (const [name, v] of views) {
      const picks = Array.from({ length: 10 }, (_, i) => str(v.randomKey(i / 10 + 0.05, T0)!));
      assert.deepEqual(picks, ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9'], `${name}: index floor(r * 10), each key once`);
      // At T0 + 10, k3 and k4 have expired: their indexes give k5; k9's wraps around to k0.
      const later = Array.from({ length: 10 }, (_, i) => str(v.randomKey(i / 10 + 0.05, T0 + 10)!));
      assert.deepEqual(later, ['k0', 'k1', 'k2', 'k5', 'k5', 'k5', 'k6', 'k7', 'k8', 'k0'], `${name}: expired keys skipped`);
      assert.equal(str(v.randomKey(0.9999999, T0 + 10)!), 'k0');
    }
    // Every key expired: none.
    for (const s of [memory, lmdb]) s.apply([at(2, T0, [cmd(1, 2, [0, 1, 2, 5, 6, 7, 8].map((i) => ({ t: 'expire' as const, key: k(`k${i}`), ttlMs: 5 })))])]);
    for (const [name, v] of views) assert.equal(v.randomKey(0.3, T0 + 10), undefined, `${name}: every key expired`);
  } finally {
    reader.close();
    lmdb.close();
    memory.close();
    d.remove();
  }
});
