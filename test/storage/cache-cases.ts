// Conformance cases for the cache rules (issue 13): the log clock, TTL, the bounded purge, incr, clear,
// eviction, change events and the ttl/scan/size reads. Run by conformance.test.ts against every store and
// bridge with the same assertions, so LMDB and memory are checked to behave identically.
import assert from 'node:assert/strict';
import { pack } from 'msgpackr';
import type { NodeStorage } from '../../src/adaptor/index.js';
import type { Entry } from '../../src/raft/types.js';
import { type ChangeEvent, type Command, type ExpireCond, type Op, stampEntryData, type Value } from '../../src/storage/command.js';
import { CACHE_LIMITS } from '../../src/storage/apply.js';
import { cmd, cmdEntry, del, k, put } from './helpers.js';
import { mulberry32 } from '../../src/util/random.js';
import type { Case } from './suite.js';

/** An entry time in the past: reads without `now` (Date.now()) see its short TTLs as expired. */
const T0 = 1_700_000_000_000;
/** A TTL that outlives any test run from T0 (about 30 years). */
const LONG = 1_000_000_000_000;

/** A Normal entry stamped with `time`, as the leader proposes it. */
export function at(index: number, time: number, cmds: Command[]): Entry {
  return { index, term: 1, type: 0, data: stampEntryData(pack(cmds), time) };
}

let seq = 0;
/** One command of `ops` (a fresh seq each time: exactly-once never gets in the way). */
const c = (...ops: Op[]): Command => cmd(1, ++seq, ops);

const putTtl = (key: string, value: Value, ttlMs: number): Op => ({ t: 'put', key: k(key), value, ttlMs });
const expire = (key: string, ttlMs: number): Op => ({ t: 'expire', key: k(key), ttlMs });
const persist = (key: string): Op => ({ t: 'persist', key: k(key) });
const incr = (key: string, by: number, ttlMs?: number): Op => (ttlMs === undefined ? { t: 'incr', key: k(key), by } : { t: 'incr', key: k(key), by, ttlMs });
const clear = (): Op => ({ t: 'clear' });

async function apply(s: NodeStorage, ...es: Entry[]): Promise<Awaited<ReturnType<NodeStorage['write']>>> {
  return s.write({ entries: [], apply: es });
}

const str = (key: Uint8Array): string => Buffer.from(key).toString();
const summary = (events: ChangeEvent[] | undefined): string[] =>
  (events ?? []).map((e) => `${e.type} ${str(e.key)}${e.value === undefined ? '' : `=${String(e.value)}`} @${e.revision}`);
const keysOf = (pairs: Array<[Uint8Array, Value]>): string[] => pairs.map(([key]) => str(key));

/** The 'ttl rewrites' cases: run against an unbounded and a bounded store. */
async function ttlRewrites(s: NodeStorage): Promise<void> {
  await s.recordEvents(true);
  await apply(s, at(1, T0, [c(putTtl('a', '1', 100), putTtl('b', '1', 100), putTtl('c', '1', 100), put('p', '1'))]));
  // a: a later expiry; b: no expiry; p: a plain key that gains one.
  await apply(s, at(2, T0 + 50, [c(putTtl('a', '2', 1000)), c(put('b', '2')), c(putTtl('p', '2', 100))]));
  const r3 = await apply(s, at(3, T0 + 100, []));
  assert.deepEqual(summary(r3.events), ['expire c @3'], 'only c still expired at T0 + 100');
  assert.deepEqual([await s.get(k('a'), T0 + 100), await s.ttl(k('a'), T0 + 100), await s.ttl(k('b'), T0 + 100)], ['2', 950, -1]);
  let st = await s.stats();
  assert.deepEqual([st.keys, st.expirations, await s.size(T0 + 100)], [3, 1, 3]);
  // More keys expire at once than one entry purges: a TTL put and a plain put land on expired keys still stored.
  const n = CACHE_LIMITS.maxPurgePerEntry + 2;
  const keys = Array.from({ length: n }, (_, i) => `k${String(i).padStart(4, '0')}`);
  await apply(s, at(4, T0 + 100, [c(...keys.map((key) => putTtl(key, 'v', 10)))]));
  const r5 = await apply(s, at(5, T0 + 110, [c(putTtl(keys[n - 1]!, 'w', 10)), c(put(keys[n - 2]!, 'w'))]));
  assert.deepEqual(summary(r5.events).slice(-4), [`expire ${keys[n - 1]} @5`, `put ${keys[n - 1]}=w @5`, `expire ${keys[n - 2]} @5`, `put ${keys[n - 2]}=w @5`]);
  st = await s.stats();
  assert.deepEqual([st.keys, st.expirations, await s.size(T0 + 110)], [5, 1 + n, 5]);
  assert.deepEqual([await s.ttl(k(keys[n - 1]!), T0 + 110), await s.ttl(k(keys[n - 2]!), T0 + 110)], [10, -1]);
  // p: its TTL from entry 2 (T0 + 150) ends; keys[n - 1]'s (T0 + 120) too.
  const r6 = await apply(s, at(6, T0 + 150, []));
  assert.deepEqual(summary(r6.events), [`expire ${keys[n - 1]} @6`, 'expire p @6']);
  st = await s.stats();
  assert.deepEqual([st.keys, await s.size(T0 + 150), await s.get(k('a'), T0 + 150)], [3, 3, '2']);
}

export const cacheCases: Case[] = [
  {
    name: 'ttl: a put with ttlMs expires at its entry time + ttlMs; ttl() counts down; without ttlMs there is no expiry',
    async run({ s }) {
      await apply(s, at(1, T0, [c(putTtl('a', 'x', 1000), put('b', 'y'))]));
      assert.equal(await s.get(k('a'), T0 + 999), 'x');
      assert.equal(await s.get(k('a'), T0 + 1000), undefined);
      assert.equal(await s.get(k('a')), undefined, 'Date.now() is long past T0 + 1 s');
      assert.equal(await s.ttl(k('a'), T0 + 400), 600);
      assert.equal(await s.ttl(k('a'), T0 + 1000), undefined);
      assert.equal(await s.ttl(k('b'), T0), -1);
      assert.equal(await s.ttl(k('nope'), T0), undefined);
      assert.deepEqual([await s.expiresAt(k('a'), T0 + 400), await s.expiresAt(k('a'), T0 + 1000), await s.expiresAt(k('b'), T0), await s.expiresAt(k('nope'), T0)], [T0 + 1000, undefined, -1, undefined], 'expiresAt: absolute, -1 without expiry, undefined when absent or expired');
      assert.equal(await s.get(k('b')), 'y');
      assert.equal((await s.stats()).clock, T0);
    },
  },
  {
    name: 'ttl: reads never go before the log clock (a lagging reader clock still sees the expiry)',
    async run({ s }) {
      await apply(s, at(1, T0, [c(putTtl('a', 'x', 100))]), at(2, T0 + 5000, []));
      assert.equal(await s.get(k('a'), T0), undefined, 'the log clock is at T0 + 5 s');
      assert.equal(await s.ttl(k('a'), T0), undefined);
    },
  },
  {
    name: 'ttl: the log clock only moves forward; unstamped entries (older logs) apply and leave it',
    async run({ s }) {
      await apply(s, at(1, T0 + 1000, [c(put('a', '1'))]), at(2, T0, [c(putTtl('b', '2', 100))]), cmdEntry(3, [c(put('old', 'log'))]));
      assert.equal((await s.stats()).clock, T0 + 1000);
      assert.equal(await s.ttl(k('b'), 0), 100, 'expiresAt = clock (T0 + 1 s) + ttlMs');
      assert.equal(await s.get(k('old')), 'log');
    },
  },
  {
    name: 'ttl: put without ttlMs clears the expiry, keepTtl keeps it; cas takes the same options; expire and persist',
    async run({ s }) {
      await apply(s, at(1, T0, [c(putTtl('a', '1', LONG), putTtl('b', '1', LONG), putTtl('c', '1', LONG), put('d', '1'))]));
      const r = await apply(s, at(2, T0, [
        c(put('a', '2'), { t: 'put', key: k('b'), value: '2', keepTtl: true }, { t: 'cas', key: k('c'), expected: '1', value: '2', keepTtl: true }, { t: 'cas', key: k('d'), expected: '1', value: '2', ttlMs: 500 }),
        c(expire('a', 300), expire('zz', 300)),
        c(persist('b'), persist('d2')),
      ]));
      assert.deepEqual(r.applied[0]!.map((x) => x.results), [[{ ok: true }, { ok: true }, { ok: true }, { ok: true }], [{ ok: true }, { ok: false }], [{ ok: true }, { ok: false }]]);
      assert.equal(await s.ttl(k('a'), T0), 300);
      assert.equal(await s.ttl(k('b'), T0), -1);
      assert.equal(await s.ttl(k('c'), T0), LONG);
      assert.equal(await s.ttl(k('d'), T0), 500);
      const again = await apply(s, at(3, T0, [c(persist('b'))]));
      assert.deepEqual(again.applied[0]![0]!.results, [{ ok: false }], 'persist says whether there was an expiry');
    },
  },
  {
    name: 'ttl: ttlMs must be a positive safe integer (INVALID_COMMAND, nothing applies); keepTtl with ttlMs is contradictory',
    async run({ s }) {
      const bad: Op[] = [
        putTtl('a', 'x', 0), putTtl('a', 'x', -5), putTtl('a', 'x', 1.5), { t: 'put', key: k('a'), value: 'x', ttlMs: 'soon' as unknown as number },
        { t: 'put', key: k('a'), value: 'x', ttlMs: 10, keepTtl: true }, { t: 'expire', key: k('a') } as unknown as Op,
        incr('a', 1.5), incr('a', 1, 0), { t: 'cas', key: k('a'), expected: null, value: 'x', ttlMs: Number.MAX_SAFE_INTEGER + 2 },
      ];
      const r = await apply(s, at(1, T0, bad.map((op) => c(put('other', 'y'), op))));
      for (const res of r.applied[0]!) assert.deepEqual(res.results, [{ ok: false, error: 'INVALID_COMMAND' }, { ok: false, error: 'INVALID_COMMAND' }]);
      assert.equal(await s.get(k('other')), undefined);
    },
  },
  {
    name: 'ttl: an expired key is absent for every op inside apply (cas, del existed, incr, expire, persist, keepTtl), purged or not',
    async run({ s }) {
      // More keys expire at once than one entry purges: the last ones are still stored when the next ops run.
      const n = CACHE_LIMITS.maxPurgePerEntry + 20;
      const keys = Array.from({ length: n }, (_, i) => `k${String(i).padStart(4, '0')}`);
      await apply(s, at(1, T0, [c(...keys.map((key) => putTtl(key, '7', 100)))]));
      const last = keys.slice(-6);
      const r = await apply(s, at(2, T0 + 100, [
        c({ t: 'cas', key: k(last[0]!), expected: null, value: 'new' }),
        c(del(last[1]!)),
        c(incr(last[2]!, 1)),
        c(expire(last[3]!, 1000)),
        c(persist(last[4]!)),
        c({ t: 'put', key: k(last[5]!), value: 'v', keepTtl: true }),
      ]));
      assert.deepEqual(r.applied[0]!.map((x) => x.results[0]), [{ ok: true }, { ok: true, existed: false }, { ok: true, value: '1' }, { ok: false }, { ok: false }, { ok: true }]);
      assert.equal(await s.get(k(last[0]!), T0 + 100), 'new');
      assert.equal(await s.get(k(last[2]!), T0 + 100), '1');
      assert.equal(await s.ttl(k(last[5]!), T0 + 100), -1, 'keepTtl keeps no expiry from an expired key');
    },
  },
  {
    name: 'purge: each entry removes at most maxPurgePerEntry expired keys, in (expiresAt, key) order, emitting expire events',
    async run({ s }) {
      await s.recordEvents(true);
      const max = CACHE_LIMITS.maxPurgePerEntry;
      const keys = Array.from({ length: max + 44 }, (_, i) => `k${String(i).padStart(4, '0')}`);
      // Two expiry times: the later-expiring keys sort first by key but must go last.
      await apply(s, at(1, T0, [c(...keys.map((key, i) => putTtl(key, 'v', i < 100 ? 200 : 100)))]));
      const r2 = await apply(s, at(2, T0 + 200, []));
      const ev = r2.events!;
      assert.equal(ev.length, max);
      assert.ok(ev.every((e) => e.type === 'expire' && e.revision === 2));
      assert.deepEqual(ev.slice(0, 2).map((e) => str(e.key)), ['k0100', 'k0101'], 'expiresAt first, then key bytes');
      let st = await s.stats();
      assert.deepEqual([st.keys, st.expirations], [44, max]);
      assert.equal(await s.size(T0 + 200), 0, 'the rest are absent by rule');
      const r3 = await apply(s, at(3, T0 + 200, []));
      assert.equal(r3.events!.length, 44);
      st = await s.stats();
      assert.deepEqual([st.keys, st.bytes, st.expirations], [0, 0, max + 44]);
    },
  },
  {
    name: 'incr: decimal integers as strings or ASCII bytes (absent = 0), result as a string; NOT_INTEGER fails that op only; ttlMs only on create',
    async run({ s }) {
      const r = await apply(s, at(1, T0, [
        c(incr('n', 5, LONG)),
        c(incr('n', -7, 10)),
        c(put('s', 'abc'), put('b', new Uint8Array([0x31])), put('z', '007'), put('max', String(Number.MAX_SAFE_INTEGER)), put('nb', new Uint8Array([0x31, 0xff]))),
        c(put('side', 'effect'), incr('s', 1)),
        c(incr('nb', 1)),
        c(incr('z', 1)),
        c(incr('max', 1)),
        c(incr('b', 1)),
      ]));
      const res = r.applied[0]!;
      assert.deepEqual(res[0]!.results, [{ ok: true, value: '5' }]);
      assert.deepEqual(res[1]!.results, [{ ok: true, value: '-2' }]);
      assert.deepEqual(res[3]!.results, [{ ok: true }, { ok: false, error: 'NOT_INTEGER' }]);
      for (const i of [4, 5, 6]) assert.deepEqual(res[i]!.results, [{ ok: false, error: 'NOT_INTEGER' }]);
      assert.equal(await s.get(k('side')), 'effect', 'a failed incr writes nothing itself; the other ops of its command apply (Redis MULTI/EXEC)');
      assert.equal(await s.get(k('s')), 'abc');
      assert.equal(await s.get(k('n')), '-2');
      assert.equal(await s.ttl(k('n'), T0), LONG, 'the second ttlMs does not apply to an existing key');
      assert.equal(await s.get(k('max')), String(Number.MAX_SAFE_INTEGER));
      assert.deepEqual(res[7]!.results, [{ ok: true, value: '2' }], 'bytes holding a decimal integer count too (Redis strings are bytes)');
      assert.equal(await s.get(k('b')), '2');
    },
  },
  {
    name: 'ttl: the expiry as the command sees it, at the entry\'s time (ms left and the time); -1 without one; absent (ok false) when missing or expired',
    async run({ s }) {
      const ttl = (key: string): Op => ({ t: 'ttl', key: k(key) });
      await apply(s, at(1, T0, [c(putTtl('e', 'x', 1000), put('p', 'y'), putTtl('gone', 'z', 10))]));
      const r = await apply(s, at(2, T0 + 100, [c(ttl('e'), ttl('p'), ttl('gone'), ttl('none'), { t: 'put', key: k('n'), value: 'v', ttlMs: 50, cond: 'nx' }, ttl('n'), del('e'), ttl('e'))]));
      assert.deepEqual(r.applied[0]![0]!.results, [
        { ok: true, ttlMs: 900, expiresAt: T0 + 1000 },
        { ok: true, ttlMs: -1, expiresAt: -1 },
        { ok: false },
        { ok: false },
        { ok: true },
        { ok: true, ttlMs: 50, expiresAt: T0 + 150 },
        { ok: true, existed: true },
        { ok: false },
      ], 'it sees the writes before it in its command');
      assert.equal(await s.get(k('p'), T0 + 100), 'y', 'a ttl op writes nothing');
    },
  },
  {
    name: 'incr with a 64-bit text by: Redis\'s INCRBY over all 64 bits; NOT_INTEGER past them in the value, OVERFLOW in the result; a number by keeps safe integers',
    async run({ s }) {
      const by = (key: string, step: string): Op => ({ t: 'incr', key: k(key), by: step });
      const r = await apply(s, at(1, T0, [
        c(put('big', '9007199254740993'), by('big', '1'), by('big', '9223372036854775807'), by('big', '-9223372036854775808')),
        c(put('max', '9223372036854775806'), by('max', '1'), by('max', '1'), incr('max', 1)),
        c(put('past', '9223372036854775808'), by('past', '-1'), by('new', '-9223372036854775808')),
      ]));
      const res = r.applied[0]!;
      assert.deepEqual(res[0]!.results, [{ ok: true }, { ok: true, value: '9007199254740994' }, { ok: false, error: 'OVERFLOW' }, { ok: true, value: '-9214364837600034814' }]);
      assert.deepEqual(res[1]!.results, [{ ok: true }, { ok: true, value: '9223372036854775807' }, { ok: false, error: 'OVERFLOW' }, { ok: false, error: 'NOT_INTEGER' }], 'a number by: the value must be a safe integer');
      assert.deepEqual(res[2]!.results, [{ ok: true }, { ok: false, error: 'NOT_INTEGER' }, { ok: true, value: '-9223372036854775808' }]);
      assert.equal(await s.get(k('max'), T0), '9223372036854775807');
      let index = 2;
      for (const bad of ['9223372036854775808', '1.0', '-0', '+1', '01', '']) {
        const x = await apply(s, at(index++, T0, [c(by('big', bad))]));
        assert.equal(x.applied[0]![0]!.results[0]!.error, 'INVALID_COMMAND', bad);
      }
    },
  },
  {
    name: 'incrbyfloat: Redis\'s long double sums of strings or ASCII bytes (absent = 0), result as a string; NOT_FLOAT, NOT_FINITE and VALUE_TOO_LARGE fail that op only; the expiry as incr\'s',
    options: { maxValueBytes: 100 },
    async run({ s }) {
      const f = (key: string, by: string, ttlMs?: number): Op => (ttlMs === undefined ? { t: 'incrbyfloat', key: k(key), by } : { t: 'incrbyfloat', key: k(key), by, ttlMs });
      const r = await apply(s, at(1, T0, [
        c(f('x', '0.1', LONG), f('x', '0.2', 10)),
        c(put('s', 'abc'), put('b', new Uint8Array([0x32, 0x2e, 0x35])), putTtl('t', '1e2', 1000)),
        c(put('side', 'effect'), f('s', '1')),
        c(f('b', '-0.5'), f('t', '0x1p-1'), f('b', 'inf'), f('s', 'inf')),
        c(f('big', '1e200'), put('side2', 'yes')),
        c(f('x', 'x')),
      ]));
      const res = r.applied[0]!;
      assert.deepEqual(res[0]!.results, [{ ok: true, value: '0.1' }, { ok: true, value: '0.3' }]);
      assert.deepEqual(res[2]!.results, [{ ok: true }, { ok: false, error: 'NOT_FLOAT' }]);
      assert.deepEqual(res[3]!.results, [{ ok: true, value: '2' }, { ok: true, value: '100.5' }, { ok: false, error: 'NOT_FINITE' }, { ok: false, error: 'NOT_FLOAT' }]);
      assert.deepEqual(res[4]!.results, [{ ok: false, error: 'VALUE_TOO_LARGE' }, { ok: true }], '201 digits: past maxValueBytes');
      assert.deepEqual(res[5]!.results, [{ ok: false, error: 'NOT_FLOAT' }], 'an increment the state machine cannot read fails that op');
      assert.equal(await s.get(k('x'), T0), '0.3');
      assert.equal(await s.ttl(k('x'), T0), LONG, 'the second ttlMs does not apply to an existing key');
      assert.equal(await s.get(k('b'), T0), '2', 'bytes holding a float count too; the result is a string');
      assert.equal(await s.get(k('t'), T0), '100.5');
      assert.equal(await s.ttl(k('t'), T0), 1000, 'the expiry stays');
      assert.equal(await s.get(k('s'), T0), 'abc');
      assert.equal(await s.get(k('side'), T0), 'effect');
      assert.equal(await s.get(k('big'), T0), undefined);
      const bad = await apply(s, at(2, T0, [c({ t: 'incrbyfloat', key: k('x'), by: 1 } as unknown as Op)]));
      assert.equal(bad.applied[0]![0]!.results[0]!.error, 'INVALID_COMMAND', 'by must be text');
    },
  },
  {
    name: 'clear: removes every key (one delete event per live key, in key order, when recording); ops after it in the command apply',
    async run({ s }) {
      await apply(s, at(1, T0, [c(put('b', '1'), put('a', '2'), putTtl('x', 'gone', 1))]));
      await s.recordEvents(true);
      const r = await apply(s, at(2, T0 + 1, [c(put('c', 'early'), clear(), put('d', 'after'))]));
      assert.deepEqual(summary(r.events), ['expire x @2', 'delete a @2', 'delete b @2', 'put d=after @2'], 'x expired first (the purge runs before the commands)');
      assert.equal(await s.get(k('a')), undefined);
      assert.equal(await s.get(k('c')), undefined);
      assert.equal(await s.get(k('d')), 'after');
      assert.equal(await s.size(), 1);
      const st = await s.stats();
      assert.deepEqual([st.keys, st.bytes], [1, 0], 'an unbounded store counts no bytes');
      // A failed cas after a clear rejects it too.
      const r3 = await apply(s, at(3, T0, [c(clear(), { t: 'cas', key: k('d'), expected: 'wrong', value: 'x' })]));
      assert.deepEqual(r3.applied[0]![0]!.results, [{ ok: false }, { ok: false, current: null }]);
      assert.equal(await s.get(k('d')), 'after');
    },
  },
  {
    name: 'counts: an unbounded store counts its keys exactly (puts over present and new keys, deletes, a TTL among them, a snapshot installed) and no bytes',
    async run(c0) {
      const s = c0.s;
      await apply(s, at(1, T0, [c(put('a', '1'), put('b', '22'), put('c', '333'))]));
      await apply(s, at(2, T0, [c(put('a', 'x')), c(put('d', '4')), c(del('b')), c(put('b', 'again')), c(put('e', '5'))]));
      let st = await s.stats();
      assert.deepEqual([st.keys, st.bytes, await s.size()], [5, 0, 5]);
      // A key with an expiry: puts read what they replace again, until it is gone.
      await apply(s, at(3, T0, [c(putTtl('t', 'v', 10), put('a', 'y'), put('f', '6'))]));
      st = await s.stats();
      assert.deepEqual([st.keys, st.bytes, await s.size(T0)], [7, 0, 7]);
      await apply(s, at(4, T0 + 10, [c(put('g', '7'), put('a', 'z'))]));
      st = await s.stats();
      assert.deepEqual([st.keys, st.expirations, await s.size(T0 + 10)], [7, 1, 7], 't expired and was purged');
      await apply(s, at(5, T0 + 10, [c(put('h', '8')), c(del('h')), c(put('a', 'w'))]));
      assert.deepEqual([(await s.stats()).keys, await s.size(T0 + 10)], [7, 7]);
      const stream = await (await s.stateMachine.getSnapshotBuilder()).buildSnapshot();
      const dst = await c0.other();
      const recv = await dst.stateMachine.beginReceivingSnapshot();
      for await (const chunk of stream.chunks) await recv.write(chunk);
      await dst.stateMachine.installSnapshot(stream.meta, recv);
      st = await dst.stats();
      assert.deepEqual([st.keys, st.bytes], [7, 0], 'installed: counted, no bytes');
      await apply(dst, at(6, T0 + 10, [c(put('a', 'v'), put('i', '9'))]));
      assert.deepEqual([(await dst.stats()).keys, await dst.size(T0 + 10)], [8, 8]);
    },
  },
  {
    name: 'ttl rewrites: a new TTL moves the expiry (the old one passes, the key lives); a plain put clears it; over an expired key its end comes first; counts exact',
    run: ({ s }) => ttlRewrites(s),
  },
  {
    name: 'ttl rewrites in a bounded store (the LMDB store\'s puts read the record they replace there, not blind): the same',
    options: { maxKeys: 1_000_000 },
    run: ({ s }) => ttlRewrites(s),
  },
  {
    name: 'bounds: maxKeys evicts the least recently written keys after each entry (a rewrite makes a key recent), with evict events',
    options: { maxKeys: 3 },
    async run({ s }) {
      await s.recordEvents(true);
      await apply(s, at(1, T0, [c(put('a', '1'), put('b', '1'), put('c', '1'))]));
      const r2 = await apply(s, at(2, T0, [c(put('d', '1'))]));
      assert.deepEqual(summary(r2.events), ['put d=1 @2', 'evict a @2']);
      await apply(s, at(3, T0, [c(put('b', '2'))]));
      const r4 = await apply(s, at(4, T0, [c(put('y', '1'), put('x', '1'))]), at(5, T0, [c(put('c', '3'))]));
      assert.deepEqual(summary(r4.events), ['put y=1 @4', 'put x=1 @4', 'evict c @4', 'evict d @4', 'put c=3 @5', 'evict b @5']);
      assert.deepEqual(keysOf(await s.scan({})), ['c', 'x', 'y']);
      const st = await s.stats();
      assert.deepEqual([st.keys, st.evictions], [3, 4]);
    },
  },
  {
    name: 'bounds: maxBytes counts key + value bytes (UTF-8); a record larger than the bound evicts everything older, then itself',
    options: { maxBytes: 10 },
    async run({ s }) {
      await apply(s, at(1, T0, [c(put('a', '1234'), put('b', new Uint8Array(4)))]));
      assert.equal((await s.stats()).bytes, 10);
      await apply(s, at(2, T0, [c(put('c', 'é'))]));
      assert.deepEqual(keysOf(await s.scan({})), ['b', 'c']);
      assert.equal((await s.stats()).bytes, 8);
      await apply(s, at(3, T0, [c(put('big', 'x'.repeat(20)))]));
      assert.equal(await s.get(k('big')), undefined);
      const st = await s.stats();
      assert.deepEqual([st.keys, st.bytes, st.evictions], [0, 0, 4]);
    },
  },
  {
    name: 'events: off by default (no events field); while on, put/delete/expire in order with the entry index as revision',
    async run({ s }) {
      const r1 = await apply(s, at(1, T0, [c(put('a', '1'), putTtl('t', '1', 50))]));
      assert.equal(r1.events, undefined);
      await s.recordEvents(true);
      const r2 = await apply(s, at(2, T0 + 50, [c(del('a'), del('missing'), put('b', '2'))]), at(3, T0 + 50, [c(put('t', 'x'))]));
      assert.deepEqual(summary(r2.events), ['expire t @2', 'delete a @2', 'put b=2 @2', 'put t=x @3']);
      await s.recordEvents(false);
      assert.equal((await apply(s, at(4, T0, [c(put('c', '1'))]))).events, undefined);
    },
  },
  {
    name: 'scan: prefix, start/end (end exclusive), limit, reverse, after (pagination both ways); expired keys skipped',
    async run({ s }) {
      const keys = ['a', 'ab', 'abc', 'b', 'ba', 'c'];
      await apply(s, at(1, T0, [c(...keys.map((key) => putTtl(key, key.toUpperCase(), LONG)), putTtl('abd', 'gone', 1), { t: 'put', key: new Uint8Array([0xff, 1]), value: 'ff' })]));
      // Keys come back as bytes (a Buffer inline, a Uint8Array from a pool thread).
      assert.deepEqual((await s.scan({ prefix: k('a') })).map(([key, v]) => [str(key), v]), [['a', 'A'], ['ab', 'AB'], ['abc', 'ABC']]);
      assert.deepEqual(keysOf(await s.scan({ prefix: k('ab') }, { reverse: true })), ['abc', 'ab']);
      assert.deepEqual(keysOf(await s.scan({ start: k('ab'), end: k('ba') })), ['ab', 'abc', 'b']);
      assert.deepEqual(keysOf(await s.scan({ start: k('ab'), end: k('ba') }, { reverse: true })), ['b', 'abc', 'ab']);
      assert.deepEqual(keysOf(await s.scan({ end: k('b') })), ['a', 'ab', 'abc']);
      assert.deepEqual(keysOf(await s.scan({ start: k('b') })).slice(0, 3), ['b', 'ba', 'c']);
      assert.equal((await s.scan({ prefix: new Uint8Array([0xff]) })).length, 1, 'a prefix of 0xff has no end key');
      const pages: string[][] = [];
      let after: Uint8Array | undefined;
      for (;;) {
        const page = await s.scan({}, after ? { limit: 3, after } : { limit: 3 });
        if (page.length === 0) break;
        pages.push(keysOf(page));
        after = page[page.length - 1]![0];
      }
      assert.deepEqual(pages, [['a', 'ab', 'abc'], ['b', 'ba', 'c'], [str(new Uint8Array([0xff, 1]))]]);
      assert.deepEqual(keysOf(await s.scan({}, { reverse: true, after: k('b'), limit: 2 })), ['abc', 'ab']);
      assert.deepEqual(await s.scan({}, { limit: 0 }), []);
    },
  },
  {
    name: 'scan: random keys, bounds, cursors and deletes agree with every key filtered and sorted',
    async run({ s }) {
      const rand = mulberry32(11);
      const alphabet = [0x00, 0x61, 0x62, 0xfe, 0xff];
      const key = (): Buffer => Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 4) }, () => alphabet[Math.floor(rand() * alphabet.length)]!));
      const live = new Map<string, Buffer>();
      let index = 0;
      for (let round = 0; round < 4; round++) {
        const ops: Op[] = [];
        for (let i = 0; i < 700; i++) {
          const kb = key();
          if (rand() < 0.3) {
            ops.push({ t: 'del', key: kb });
            live.delete(kb.toString('latin1'));
          } else {
            ops.push({ t: 'put', key: kb, value: kb.toString('hex') });
            live.set(kb.toString('latin1'), kb);
          }
        }
        // A key put to expire at once is never in a scan.
        const gone = key();
        if (!live.has(gone.toString('latin1'))) ops.push({ t: 'put', key: gone, value: 'gone', ttlMs: 1 });
        await apply(s, at(++index, T0, [c(...ops)]));
        const all = [...live.keys()].sort();
        for (let i = 0; i < 40; i++) {
          const reverse = rand() < 0.5;
          const limit = Math.floor(rand() * 30);
          let range: { prefix: Uint8Array } | { start?: Uint8Array; end?: Uint8Array };
          let want: string[];
          if (rand() < 0.4) {
            const p = key().subarray(0, 1 + Math.floor(rand() * 2));
            range = { prefix: p };
            want = all.filter((x) => x.startsWith(p.toString('latin1')));
          } else {
            const a = rand() < 0.8 ? key() : undefined;
            const b = rand() < 0.8 ? key() : undefined;
            range = { ...(a && { start: a }), ...(b && { end: b }) };
            want = all.filter((x) => (a === undefined || x >= a.toString('latin1')) && (b === undefined || x < b.toString('latin1')));
          }
          if (reverse) want.reverse();
          // Page through with `after` from a random first key (present or not), both ways.
          let after: Buffer | undefined = rand() < 0.3 ? key() : undefined;
          if (after !== undefined) {
            const from = after.toString('latin1');
            want = want.filter((x) => (reverse ? x < from : x > from));
          }
          const got: string[] = [];
          for (let pages = 0; pages < 400; pages++) {
            const page = await s.scan(range, after ? { limit: limit || 7, reverse, after } : { limit: limit || 7, reverse });
            for (const [kb, v] of page) {
              assert.equal(v, Buffer.from(kb).toString('hex'));
              got.push(Buffer.from(kb).toString('latin1'));
            }
            if (page.length < (limit || 7)) break;
            after = Buffer.from(page[page.length - 1]![0]);
          }
          assert.deepEqual(got, want, `scan ${JSON.stringify(range)} reverse ${reverse}`);
        }
      }
    },
  },
  {
    name: 'size: live keys at max(log clock, now)',
    async run({ s }) {
      await apply(s, at(1, T0, [c(put('a', '1'), putTtl('b', '1', 100), putTtl('c', '1', 200))]));
      assert.equal(await s.size(T0), 3);
      assert.equal(await s.size(T0 + 100), 2);
      assert.equal(await s.size(T0 + 200), 1);
      assert.equal(await s.size(), 1);
    },
  },
  {
    name: 'snapshot: expiries, the log clock and the write order travel (the receiver evicts and expires as the sender would)',
    async run(c0) {
      await apply(c0.s, at(1, T0, [c(put('old', '1'), putTtl('t', '1', 500), put('mid', '1'))]), at(2, T0 + 100, [c(put('new', '1'))]));
      const stream = await (await c0.s.stateMachine.getSnapshotBuilder()).buildSnapshot();
      const dst = await c0.other({ maxKeys: 3, chunkBytes: 64 });
      const recv = await dst.stateMachine.beginReceivingSnapshot();
      for await (const chunk of stream.chunks) await recv.write(chunk);
      await dst.stateMachine.installSnapshot(stream.meta, recv);
      const st = await dst.stats();
      assert.deepEqual([st.clock, st.keys, st.bytes], [T0 + 100, 4, 14]);
      assert.equal(await dst.ttl(k('t'), 0), 400, 'expiresAt kept, read at the received clock');
      await dst.recordEvents(true);
      const r = await apply(dst, at(3, T0 + 100, [c(put('x', '1'))]));
      assert.deepEqual(summary(r.events), ['put x=1 @3', 'evict old @3', 'evict t @3'], 'the sender\'s write order');
      const r2 = await apply(dst, at(4, T0 + 500, [c(putTtl('y', '1', 1))]));
      assert.deepEqual(summary(r2.events), ['put y=1 @4', 'evict mid @4']);
    },
  },
  {
    name: 'ttl state survives a reopen: expiries, the log clock, the counts and the indexes',
    durable: true,
    options: { maxKeys: 2 },
    async run(c0) {
      await apply(c0.s, at(1, T0, [c(putTtl('a', '1', 1000), put('b', '22'))]), at(2, T0 + 10, []));
      const s = await c0.reopen();
      assert.equal(await s.ttl(k('a'), 0), 990);
      const st = await s.stats();
      assert.deepEqual([st.clock, st.keys, st.bytes], [T0 + 10, 2, 5]);
      await s.recordEvents(true);
      const r = await apply(s, at(3, T0 + 1000, [c(put('c', '1'), put('d', '1'))]));
      assert.deepEqual(summary(r.events), ['expire a @3', 'put c=1 @3', 'put d=1 @3', 'evict b @3']);
    },
  },
  {
    name: 'put cond: nx writes only an absent (or expired) key, xx only a present one; a failed condition writes nothing and the other ops apply',
    async run({ s }) {
      const r = await apply(s, at(1, T0, [
        c({ t: 'put', key: k('a'), value: '1', cond: 'nx' }, { t: 'put', key: k('b'), value: '1', cond: 'xx' }, put('side', 'x')),
        c({ t: 'put', key: k('a'), value: '2', cond: 'nx' }, { t: 'put', key: k('a'), value: '3', cond: 'xx', ttlMs: 10 }),
      ]));
      assert.deepEqual(r.applied[0]![0]!.results, [{ ok: true }, { ok: false }, { ok: true }]);
      assert.deepEqual(r.applied[0]![1]!.results, [{ ok: false }, { ok: true }]);
      assert.equal(await s.get(k('a'), T0), '3');
      assert.equal(await s.get(k('b'), T0), undefined);
      assert.equal(await s.get(k('side'), T0), 'x');
      // 'a' expired at T0 + 10: nx sees it absent.
      const r2 = await apply(s, at(2, T0 + 20, [c({ t: 'put', key: k('a'), value: '4', cond: 'nx' })]));
      assert.deepEqual(r2.applied[0]![0]!.results, [{ ok: true }]);
      assert.equal(await s.get(k('a'), T0 + 20), '4');
    },
  },
  {
    name: 'get op: reads the key as the command sees it (after the ops before it); current null when absent',
    async run({ s }) {
      const r = await apply(s, at(1, T0, [c({ t: 'get', key: k('a') }, put('a', 'v'), { t: 'get', key: k('a') }, del('a'), { t: 'get', key: k('a') })]));
      assert.deepEqual(r.applied[0]![0]!.results, [{ ok: false, current: null }, { ok: true }, { ok: true, current: 'v' }, { ok: true, existed: true }, { ok: false, current: null }]);
    },
  },
  {
    name: 'check: rejects the whole command unless the key\'s revision is the one given (0: absent or expired)',
    async run({ s }) {
      const check = (key: string, rev: number): Op => ({ t: 'check', key: k(key), rev });
      const r = await apply(s, at(1, T0, [
        c(check('a', 0), put('a', '1'), putTtl('t', 'x', 5)),
        c(check('a', 0), put('b', 'no')),
      ]));
      assert.deepEqual(r.applied[0]![0]!.results, [{ ok: true }, { ok: true }, { ok: true }]);
      assert.deepEqual(r.applied[0]![1]!.results, [{ ok: false }, { ok: false }], 'a exists now: rejected');
      assert.equal(await s.get(k('b'), T0), undefined);
      const r2 = await apply(s, at(2, T0 + 10, [c(check('t', 0), put('b', 'yes'))]));
      assert.deepEqual(r2.applied[0]![0]!.results, [{ ok: true }, { ok: true }], 't expired: revision 0');
      assert.equal(await s.get(k('b'), T0 + 10), 'yes');
      const bad = await apply(s, at(3, T0 + 10, [c({ t: 'check', key: k('a'), rev: -1 } as Op)]));
      assert.equal(bad.applied[0]![0]!.results[0]!.error, 'INVALID_COMMAND');
    },
  },
  {
    name: 'expire: atMs, a past expiry deletes, and the conditions nx / xx / gt / lt / xx-lt (no expiry counts as infinite)',
    async run({ s }) {
      const ex = (key: string, o: { ttlMs?: number; atMs?: number; cond?: ExpireCond }): Op => ({ t: 'expire', key: k(key), ...o });
      await apply(s, at(1, T0, [c(put('p', '1'), putTtl('v', '1', 1000), put('gone', '1'), put('gone2', '1'), put('q', '1'))]));
      const r = await apply(s, at(2, T0, [
        c(ex('p', { ttlMs: 500, cond: 'xx' })), // p has no expiry: xx fails
        c(ex('p', { ttlMs: 500, cond: 'gt' })), // gt against infinite: fails
        c(ex('p', { ttlMs: 5000, cond: 'lt' })), // lt against infinite: sets
        c(ex('v', { ttlMs: 500, cond: 'nx' })), // v has one: nx fails
        c(ex('v', { atMs: T0 + 2000, cond: 'gt' })), // later: sets
        c(ex('v', { ttlMs: 3000, cond: 'lt' })), // later than T0 + 2000: fails
        c(ex('gone', { ttlMs: 0 })),
        c(ex('gone2', { atMs: T0 - 1 })),
        c(ex('nope', { ttlMs: 10 })),
        c(ex('q', { ttlMs: 10, cond: 'xx-lt' })), // q has no expiry: xx-lt fails (lt alone would set it)
        c(ex('p', { ttlMs: 5000, cond: 'xx-lt' })), // equal to p's: fails
        c(ex('p', { ttlMs: 4000, cond: 'xx-lt' })), // earlier: sets
      ]));
      assert.deepEqual(r.applied[0]!.map((x) => x.results[0]!.ok), [false, false, true, false, true, false, true, true, false, false, false, true]);
      assert.equal(await s.ttl(k('q'), T0), -1);
      assert.equal(await s.ttl(k('p'), T0), 4000);
      assert.equal(await s.ttl(k('v'), T0), 2000);
      assert.equal(await s.get(k('gone'), T0), undefined);
      assert.equal(await s.get(k('gone2'), T0), undefined);
      let index = 3;
      for (const o of [{}, { ttlMs: 1, atMs: 1 }, { atMs: -1 }, { ttlMs: 1.5 }, { ttlMs: 1, cond: 'zz' }]) {
        const bad = await apply(s, at(index++, T0, [c({ t: 'expire', key: k('p'), ...o } as Op)]));
        assert.equal(bad.applied[0]![0]!.results[0]!.error, 'INVALID_COMMAND', JSON.stringify(o));
      }
    },
  },
  {
    name: 'append: to absent, string and bytes values (keeps the expiry), n is the new length; past the value limit that op fails alone',
    options: { maxValueBytes: 100 },
    async run({ s }) {
      const app = (key: string, value: Value): Op => ({ t: 'append', key: k(key), value });
      const r = await apply(s, at(1, T0, [
        c(app('s', 'ab'), app('s', 'cé'), putTtl('t', 'x', 1000), app('t', 'y'), put('b', new Uint8Array([1])), app('b', new Uint8Array([2])), app('b', 'z')),
        c(app('big', 'x'.repeat(60)), app('big', 'y'.repeat(60)), put('side', '1')),
      ]));
      assert.deepEqual(r.applied[0]![0]!.results.map((x) => x.n), [2, 5, undefined, 2, undefined, 2, 3]);
      assert.equal(await s.get(k('s'), T0), 'abcé');
      assert.equal(await s.get(k('t'), T0), 'xy');
      assert.equal(await s.ttl(k('t'), T0), 1000);
      assert.deepEqual([...(await s.get(k('b'), T0) as Uint8Array)], [1, 2, 0x7a]);
      assert.deepEqual(r.applied[0]![1]!.results, [{ ok: true, n: 60 }, { ok: false, error: 'VALUE_TOO_LARGE' }, { ok: true }]);
      assert.equal((await s.get(k('big'), T0) as string).length, 60);
    },
  },
  {
    name: 'put atMs: expires at that time (with cond too); a time already past deletes the key; not with ttlMs or keepTtl',
    async run({ s }) {
      const r = await apply(s, at(1, T0, [
        c({ t: 'put', key: k('a'), value: '1', atMs: T0 + 500 }),
        c(put('b', 'old'), { t: 'put', key: k('b'), value: 'new', atMs: T0 + 700, cond: 'xx' }),
        c(put('gone', 'x'), { t: 'put', key: k('gone'), value: 'y', atMs: T0 }),
      ]));
      assert.deepEqual(r.applied[0]!.map((x) => x.results.map((o) => o.ok)), [[true], [true, true], [true, true]]);
      assert.equal(await s.ttl(k('a'), T0), 500);
      assert.equal(await s.ttl(k('b'), T0 + 100), 600);
      assert.equal(await s.get(k('b'), T0), 'new');
      assert.equal(await s.get(k('gone'), T0), undefined);
      let index = 2;
      for (const o of [{ atMs: -1 }, { atMs: 1.5 }, { atMs: T0 + 1, ttlMs: 5 }, { atMs: T0 + 1, keepTtl: true }]) {
        const bad = await apply(s, at(index++, T0, [c({ t: 'put', key: k('a'), value: 'v', ...o } as Op)]));
        assert.equal(bad.applied[0]![0]!.results[0]!.error, 'INVALID_COMMAND', JSON.stringify(o));
      }
    },
  },
];
