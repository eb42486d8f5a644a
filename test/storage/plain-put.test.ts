// The apply's plain-put path (runOps on a command of one put with no condition, no kept expiry, no absolute time)
// must do exactly what the general path (runOpsOverlay) does: the same results, records, counts and events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheBounds, emptyMachine, runOps, runOpsOverlay, SessionTable, type ApplyContext, type KvAccess, type RecordMeta } from '../../src/storage/apply.js';
import { keyFromString, keyString, type StoredRecord } from '../../src/storage/codec.js';
import type { Key, Op } from '../../src/storage/command.js';

/** Records in a Map, as plain as a store can be. */
class MapKv implements KvAccess {
  readonly records = new Map<string, StoredRecord & RecordMeta>();
  get(key: Key): StoredRecord | undefined {
    return this.records.get(keyString(key));
  }
  meta(key: Key): RecordMeta | undefined {
    return this.records.get(keyString(key));
  }
  put(key: Key, rec: StoredRecord, _old: RecordMeta | undefined, ks: string | undefined): void {
    const size = typeof rec.value === 'string' ? Buffer.byteLength(rec.value) : rec.value.byteLength;
    this.records.set(ks ?? keyString(key), { ...rec, valueBytes: size });
  }
  del(key: Key): void {
    this.records.delete(keyString(key));
  }
  clear(): void {
    this.records.clear();
  }
  each(fn: (key: Key, rec: StoredRecord) => void): void {
    for (const ks of [...this.records.keys()].sort()) fn(keyFromString(ks), this.records.get(ks)!);
  }
  keysUnder(prefix: Key): Key[] {
    const p = keyString(prefix);
    return [...this.records.keys()].filter((ks) => ks.startsWith(p)).sort().map(keyFromString);
  }
  takeExpired(): Key[] {
    return [];
  }
  live(): number {
    return this.records.size; // no expiry in these commands
  }
  oldest(): Key | undefined {
    return undefined;
  }
  putBlind(): boolean {
    return false;
  }
}

const CLOCK = 1_000_000;

function context(): ApplyContext & { kv: MapKv } {
  const kv = new MapKv();
  const machine = { ...emptyMachine(), clock: CLOCK };
  const ctx = { kv, sessions: new SessionTable(), machine, maxValueBytes: 64, bounds: cacheBounds({}), events: [] };
  // Present, present with an expiry to come, and expired (not purged yet).
  const seed: Array<[string, number | undefined]> = [['a', undefined], ['b', CLOCK + 500], ['c', CLOCK - 1]];
  for (const [k, expiresAt] of seed) runOpsOverlay([{ t: 'put', key: keyFromString(k), value: `old-${k}`, ...(expiresAt === undefined ? {} : { atMs: expiresAt }) }], ctx, 1);
  ctx.events.length = 0;
  return ctx;
}

const key = (s: string): Key => Buffer.from(s);
const CASES: Array<[string, Op]> = [
  ['a new key', { t: 'put', key: key('new'), value: 'v' }],
  ['a present key', { t: 'put', key: key('a'), value: Buffer.from([1, 2, 3]) }],
  ['a key with an expiry (cleared)', { t: 'put', key: key('b'), value: 'v' }],
  ['an expired key (its expiry counted, then the write)', { t: 'put', key: key('c'), value: 'v' }],
  ['with a time-to-live', { t: 'put', key: key('a'), value: 'v', ttlMs: 250 }],
  ['keepTtl false, cond and atMs null', { t: 'put', key: key('b'), value: 'v', keepTtl: false, cond: null, atMs: null } as unknown as Op],
  ['an empty key', { t: 'put', key: key(''), value: 'v' }],
  ['a value over the limit', { t: 'put', key: key('a'), value: 'x'.repeat(65) }],
  ['a time-to-live of 0', { t: 'put', key: key('a'), value: 'v', ttlMs: 0 }],
  ['a fractional time-to-live', { t: 'put', key: key('a'), value: 'v', ttlMs: 1.5 }],
  ['an empty condition', { t: 'put', key: key('a'), value: 'v', cond: '' } as unknown as Op],
  ['a value that is not a value', { t: 'put', key: key('a'), value: 42 } as unknown as Op],
];

for (const [name, op] of CASES) {
  test(`a plain put, ${name}: the same as the general path`, () => {
    const fast = context();
    const general = context();
    const r1 = runOps([op], fast, 7);
    const r2 = runOpsOverlay([op], general, 7);
    assert.deepEqual(r1, r2);
    assert.deepEqual([...fast.kv.records], [...general.kv.records]);
    assert.deepEqual(fast.machine, general.machine);
    assert.deepEqual(fast.events, general.events);
  });
}

test('the plain-put path is the one taken, and a conditional put is not', () => {
  const ctx = context();
  const plain = runOps([{ t: 'put', key: key('a'), value: 'v' }], ctx, 7);
  assert.equal(plain, runOps([{ t: 'put', key: key('d'), value: 'w' }], ctx, 8), 'one shared result array');
  assert.throws(() => (plain as unknown as unknown[]).push({ ok: false }), TypeError, 'and frozen');
  const nx = runOps([{ t: 'put', key: key('a'), value: 'v', cond: 'nx' }], ctx, 9);
  assert.deepEqual(nx, [{ ok: false }]);
});
