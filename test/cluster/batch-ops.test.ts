// batch()'s Redis-shaped ops on real clusters: reads inside the atomic batch, conditional puts, expiry by time and
// condition, counters and appends, and optimistic transactions with revision() + check (what WATCH/MULTI/EXEC,
// MSETNX, FLUSHDB inside MULTI, SET NX GET and GETDEL of the RESP front end are made of).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, ClusterError, ErrorCode } from '../../src/index.js';

const isCode = (code: string) => (e: unknown) => e instanceof ClusterError && e.code === code;

for (const storage of ['lmdb', 'memory'] as const) {
  test(`${storage}: batch ops get, put condition, expire, persist, incr, append, setrange, setbit, bitop, bitfield, rename, copy; per-op outcomes apply the rest`, async () => {
    const c = await Cluster.start({ nodes: 3, storage });
    try {
      // SET k v NX GET: the old value and the conditional write in one entry.
      let r = await c.batch([{ type: 'get', key: 'k' }, { type: 'put', key: 'k', value: 'v1', condition: 'absent' }]);
      assert.deepEqual(r, { ok: true, results: [{ ok: false, current: null }, { ok: true }] });
      r = await c.batch([{ type: 'get', key: 'k' }, { type: 'put', key: 'k', value: 'v2', condition: 'absent' }, { type: 'put', key: 'other', value: 'x', condition: 'present' }, { type: 'put', key: 'side', value: 's' }]);
      assert.deepEqual(r.results, [{ ok: true, current: 'v1' }, { ok: false }, { ok: false }, { ok: true }]);
      assert.equal(r.ok, true, 'a failed condition is the op\'s own outcome, not a rejection');
      assert.equal(await c.get('k'), 'v1');
      assert.equal(await c.get('side'), 's');
      // GETDEL, INCRBY, APPEND in one MULTI-like batch; INCR of a non-integer fails alone.
      r = await c.batch([{ type: 'get', key: 'side' }, { type: 'delete', key: 'side' }, { type: 'incr', key: 'n', by: 5 }, { type: 'incr', key: 'k' }, { type: 'append', key: 'k', value: '+' }]);
      assert.deepEqual(r.results, [{ ok: true, current: 's' }, { ok: true, existed: true }, { ok: true, value: '5' }, { ok: false, error: 'NOT_INTEGER' }, { ok: true, n: 3 }]);
      assert.equal(await c.get('side'), undefined);
      assert.equal(await c.get('k'), 'v1+');
      // EXPIRE with conditions, PEXPIREAT, a past expiry deletes, PERSIST.
      r = await c.batch([
        { type: 'expire', key: 'k', ttlMs: 60_000, condition: 'xx' },
        { type: 'expire', key: 'k', ttlMs: 60_000, condition: 'nx' },
        { type: 'expire', key: 'n', atMs: Date.now() + 120_000 },
        { type: 'expire', key: 'n', ttlMs: 1_000, condition: 'gt' },
      ]);
      assert.deepEqual(r.results.map((x) => x.ok), [false, true, true, false]);
      const ttl = await c.ttl('n');
      assert.ok(ttl !== undefined && ttl > 100_000 && ttl <= 120_000, `ttl ${ttl}`);
      r = await c.batch([{ type: 'persist', key: 'k' }, { type: 'persist', key: 'k' }, { type: 'expire', key: 'n', ttlMs: -1 }]);
      assert.deepEqual(r.results, [{ ok: true }, { ok: false }, { ok: true, deleted: true }], 'an expiry already past deletes, and says so');
      assert.equal(await c.ttl('k'), Infinity);
      assert.equal(await c.get('n'), undefined);
      await assert.rejects(c.batch([{ type: 'expire', key: 'k' }]), isCode(ErrorCode.INVALID_ARGUMENT));
      await assert.rejects(c.batch([{ type: 'expire', key: 'k', ttlMs: 1, atMs: 1 }]), isCode(ErrorCode.INVALID_ARGUMENT));
      await assert.rejects(c.batch([{ type: 'put', key: 'k', value: 'v', condition: 'maybe' as 'absent' }]), isCode(ErrorCode.INVALID_ARGUMENT));
      await assert.rejects(c.batch([{ type: 'check', key: 'k', revision: -1 }]), isCode(ErrorCode.INVALID_ARGUMENT));
      await assert.rejects(c.batch([{ type: 'incr', key: 'k', by: 0.5 }]), isCode(ErrorCode.INVALID_ARGUMENT));
      // SETRANGE: strings stay strings while the bytes are UTF-8; bytes in a gap are zeros; an empty value writes nothing.
      r = await c.batch([{ type: 'setrange', key: 'k', offset: 1, value: 'é' }, { type: 'setrange', key: 'gap', offset: 2, value: 'z' }, { type: 'setrange', key: 'none', offset: 9, value: '' }]);
      assert.deepEqual(r.results, [{ ok: true, n: 3 }, { ok: true, n: 3 }, { ok: true, n: 0 }]);
      assert.equal(await c.get('k'), 'vé');
      assert.equal(await c.get('gap'), '\0\0z', 'zero bytes are UTF-8: a string written stays a string');
      assert.equal(await c.has('none'), false);
      r = await c.batch([{ type: 'setrange', key: 'k', offset: 2, value: 'x' }]);
      assert.deepEqual(await c.get('k'), Buffer.from([0x76, 0xc3, 0x78]), 'half a character: bytes');
      await assert.rejects(c.batch([{ type: 'setrange', key: 'k', offset: -1, value: 'x' }]), isCode(ErrorCode.INVALID_ARGUMENT));
      // SETBIT / BITOP: the bit before; a string stays a string while its bytes are UTF-8; BITOP writes without expiry.
      await c.put('bits', 'a', { ttlMs: 60_000 });
      r = await c.batch([{ type: 'setbit', key: 'bits', offset: 6, bit: 1 }, { type: 'setbit', key: 'bits', offset: 0, bit: 1 }, { type: 'setbit', key: 'fresh', offset: 9, bit: 1 }, { type: 'setbit', key: 'bits', offset: 0, bit: 1 }]);
      // `changed`: the bit flipped, or the key is new or grew (Redis's rule for a keyspace "setbit" event).
      assert.deepEqual(r.results, [{ ok: true, n: 0, changed: true }, { ok: true, n: 0, changed: true }, { ok: true, n: 0, changed: true }, { ok: true, n: 1, changed: false }]);
      assert.deepEqual(await c.get('bits'), Buffer.from([0xe3]), 'not UTF-8 any more: bytes');
      assert.ok(((await c.ttl('bits')) ?? 0) > 50_000, 'setbit keeps the expiry');
      assert.equal(await c.get('fresh'), '\0@');
      r = await c.batch([{ type: 'bitop', key: 'bits', operation: 'not', keys: ['bits'] }, { type: 'bitop', key: 'and', operation: 'and', keys: ['fresh', 'none'] }, { type: 'bitop', key: 'fresh', operation: 'xor', keys: ['none', 'none2'] }]);
      // `absent`: the sources that were not there (Redis's key misses).
      assert.deepEqual(r.results, [{ ok: true, n: 1 }, { ok: true, n: 2, absent: [1] }, { ok: true, n: 0, deleted: true, absent: [0, 1] }]);
      assert.deepEqual(await c.get('bits'), Buffer.from([0x1c]), 'a value read was bytes: bytes');
      assert.equal(await c.ttl('bits'), Infinity, 'bitop writes without expiry');
      assert.equal(await c.get('and'), '\0\0');
      assert.equal(await c.has('fresh'), false, 'nothing to combine: deleted');
      await assert.rejects(c.batch([{ type: 'setbit', key: 'k', offset: 1, bit: 2 as 1 }]), isCode(ErrorCode.INVALID_ARGUMENT));
      await assert.rejects(c.batch([{ type: 'setbit', key: 'k', offset: -1, bit: 1 }]), isCode(ErrorCode.INVALID_ARGUMENT));
      await assert.rejects(c.batch([{ type: 'bitop', key: 'k', operation: 'not', keys: ['a', 'b'] }]), isCode(ErrorCode.INVALID_ARGUMENT));
      await assert.rejects(c.batch([{ type: 'bitop', key: 'k', operation: 'nand' as 'and', keys: ['a'] }]), isCode(ErrorCode.INVALID_ARGUMENT));
      await assert.rejects(c.batch([{ type: 'bitop', key: 'k', operation: 'or', keys: [] }]), isCode(ErrorCode.INVALID_ARGUMENT));
      await c.delete('and');
      // BITFIELD: per field its value as text (64 bits exact), null for an overflow under 'fail'; a read alone writes nothing.
      r = await c.batch([
        { type: 'bitfield', key: 'bf', fields: [{ op: 'incrby', signed: true, bits: 64, offset: 0, value: '9223372036854775807' }, { op: 'incrby', signed: true, bits: 64, offset: 0, value: 1 }, { op: 'set', signed: false, bits: 4, offset: 64, value: 17, overflow: 'fail' }, { op: 'set', signed: false, bits: 4, offset: 64, value: 17, overflow: 'sat' }, { op: 'get', signed: false, bits: 8, offset: 64 }] },
        { type: 'bitfield', key: 'bf-none', fields: [{ op: 'get', signed: true, bits: 3, offset: 7 }] },
      ]);
      assert.deepEqual(r.results, [{ ok: true, values: ['9223372036854775807', '-9223372036854775808', null, '0', '240'], changed: true }, { ok: true, values: ['0'] }]);
      // `changed` as Redis counts it: a field written with other bits (a SET to the value it holds changes nothing).
      r = await c.batch([{ type: 'bitfield', key: 'bf', fields: [{ op: 'set', signed: false, bits: 4, offset: 64, value: 15 }] }, { type: 'bitfield', key: 'bf', fields: [{ op: 'incrby', signed: false, bits: 4, offset: 64, value: 1, overflow: 'fail' }] }, { type: 'bitfield', key: 'bf', fields: [{ op: 'incrby', signed: false, bits: 4, offset: 64, value: 1 }] }]);
      assert.deepEqual(r.results, [{ ok: true, values: ['15'], changed: false }, { ok: true, values: [null], changed: false }, { ok: true, values: ['0'], changed: true }]);
      await c.put('bf', Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0xf0]));
      assert.deepEqual(await c.get('bf'), Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0xf0]));
      assert.equal(await c.has('bf-none'), false);
      for (const fields of [[], [{ op: 'get', signed: false, bits: 64, offset: 0 }], [{ op: 'set', signed: true, bits: 8, offset: 0 }], [{ op: 'incrby', signed: true, bits: 8, offset: 0, value: '9223372036854775808' }], [{ op: 'get', signed: true, bits: 8, offset: -1 }], [{ op: 'get', signed: true, bits: 8, offset: 0, overflow: 'clamp' }], [{ op: 'get', signed: true, bits: 8, offset: 0, value: 1 }]]) {
        await assert.rejects(c.batch([{ type: 'bitfield', key: 'bf', fields: fields as never }]), isCode(ErrorCode.INVALID_ARGUMENT), JSON.stringify(fields));
      }
      // RENAME / RENAMENX / COPY: the value and the expiry go to the other key.
      await c.put('src', 's', { ttlMs: 60_000 });
      r = await c.batch([{ type: 'copy', key: 'src', to: 'gap' }, { type: 'copy', key: 'src', to: 'dup', replace: true }, { type: 'rename', key: 'src', to: 'gap', condition: 'absent' }, { type: 'rename', key: 'src', to: 'moved' }, { type: 'rename', key: 'src', to: 'x' }]);
      assert.deepEqual(r.results, [{ ok: false, existed: true }, { ok: true, existed: true }, { ok: false, existed: true }, { ok: true, existed: true }, { ok: false, existed: false }]);
      assert.deepEqual([await c.get('src'), await c.get('dup'), await c.get('moved')], [undefined, 's', 's']);
      for (const k of ['dup', 'moved']) assert.ok(((await c.ttl(k)) ?? 0) > 50_000, `${k} keeps the expiry`);
      await assert.rejects(c.batch([{ type: 'copy', key: 'dup', to: 'dup' }]), isCode(ErrorCode.INVALID_ARGUMENT));
      await assert.rejects(c.batch([{ type: 'rename', key: 'dup', to: '' }]), isCode(ErrorCode.INVALID_ARGUMENT));
    } finally {
      await c.stop();
    }
  });

  test(`${storage}: revision() + check make optimistic transactions: a concurrent write rejects the whole batch`, async () => {
    const c = await Cluster.start({ nodes: 3, storage });
    try {
      assert.equal(await c.revision('w'), 0);
      await c.put('w', '1');
      const rev = await c.revision('w');
      assert.ok(rev > 0);
      for (const consistency of ['lease', 'stale'] as const) assert.equal(await c.revision('w', { consistency }), rev, consistency);
      // WATCH w; (nothing changes) MULTI; SET w 2; EXEC: applies.
      let r = await c.batch([{ type: 'check', key: 'w', revision: rev }, { type: 'put', key: 'w', value: '2' }]);
      assert.equal(r.ok, true);
      const rev2 = await c.revision('w');
      assert.notEqual(rev2, rev);
      // Someone else writes w (the same value even) between WATCH and EXEC: the batch applies nothing.
      await c.put('w', '2');
      r = await c.batch([{ type: 'check', key: 'w', revision: rev2 }, { type: 'put', key: 'w', value: '3' }, { type: 'put', key: 'x', value: '3' }]);
      assert.equal(r.ok, false);
      assert.equal(await c.get('w'), '2');
      assert.equal(await c.get('x'), undefined);
      // MSETNX: every key absent, or nothing.
      r = await c.batch([{ type: 'check', key: 'm1', revision: 0 }, { type: 'check', key: 'w', revision: 0 }, { type: 'put', key: 'm1', value: 'a' }]);
      assert.equal(r.ok, false);
      assert.equal(await c.get('m1'), undefined);
      r = await c.batch([{ type: 'check', key: 'm1', revision: 0 }, { type: 'check', key: 'm2', revision: 0 }, { type: 'put', key: 'm1', value: 'a' }, { type: 'put', key: 'm2', value: 'b' }]);
      assert.equal(r.ok, true);
      assert.deepEqual(await c.getMany(['m1', 'm2']), ['a', 'b']);
    } finally {
      await c.stop();
    }
  });

  test(`${storage}: records() reads each key's value, revision and expiry together; with check ops, an optimistic transaction over two keys`, async () => {
    const c = await Cluster.start({ nodes: 3, storage });
    try {
      await c.put('a', '10');
      await c.put('b', '5', { ttlMs: 60_000 });
      const [a, b, none] = await c.records(['a', 'b', 'none']);
      assert.deepEqual(a, { value: '10', revision: await c.revision('a'), expiresAt: undefined });
      assert.deepEqual(b, { value: '5', revision: await c.revision('b'), expiresAt: await c.expiresAt('b') });
      assert.ok(b!.revision > 0 && b!.expiresAt! > Date.now());
      assert.equal(none, undefined);
      for (const consistency of ['lease', 'stale'] as const) assert.deepEqual(await c.records(['a', 'b', 'none'], { consistency }), [a, b, none], consistency);
      assert.deepEqual(await c.records([]), []);
      await assert.rejects(c.records('a' as never), isCode(ErrorCode.INVALID_ARGUMENT));
      // Move 3 from a to b: read both, then write both behind a check of each revision read.
      const transfer = async (read: Array<{ value: string; revision: number } | undefined>, during?: () => Promise<unknown>) => {
        const [x, y] = read as Array<{ value: string; revision: number }>;
        await during?.();
        return c.batch([
          { type: 'check', key: 'a', revision: x!.revision }, { type: 'check', key: 'b', revision: y!.revision },
          { type: 'put', key: 'a', value: String(Number(x!.value) - 3) }, { type: 'put', key: 'b', value: String(Number(y!.value) + 3), keepTtl: true },
        ]);
      };
      assert.equal((await transfer(await c.records<string>(['a', 'b']))).ok, true);
      assert.deepEqual(await c.getMany(['a', 'b']), ['7', '8']);
      assert.ok((await c.ttl('b'))! > 0, 'keepTtl kept b\'s expiry');
      // A write of b between the read and the batch: nothing applies.
      assert.equal((await transfer(await c.records<string>(['a', 'b']), () => c.put('b', '100'))).ok, false);
      assert.deepEqual(await c.getMany(['a', 'b']), ['7', '100']);
    } finally {
      await c.stop();
    }
  });

  test(`${storage}: batch msetnx writes all or none where it stands, the rest of the batch applied; clear empties the store for the ops after it; size counts as the batch sees it`, async () => {
    const c = await Cluster.start({ nodes: 3, storage, maxBatchOps: 8 });
    try {
      await c.put('taken', 't', { ttlMs: 60_000 });
      // MULTI; MSETNX taken a b; SET c; MSETNX b c x; MSETNX d e d f; EXEC: the first finds 'taken', the second
      // the 'c' written before it in the batch, the third writes (a key twice: its last value); none rejects the batch.
      let r = await c.batch([
        { type: 'msetnx', entries: [['taken', '1'], ['b', '2']] },
        { type: 'put', key: 'c', value: '3' },
        { type: 'msetnx', entries: [['b', '2'], ['c', 'x']] },
        { type: 'msetnx', entries: [['d', '4'], ['e', '5'], ['d', '6']] },
      ]);
      assert.deepEqual(r, { ok: true, results: [{ ok: false }, { ok: true }, { ok: false }, { ok: true }] });
      assert.deepEqual(await c.getMany(['taken', 'b', 'c', 'd', 'e']), ['t', undefined, '3', '6', '5']);
      assert.equal(await c.ttl('d'), Infinity, 'msetnx writes without expiry');
      // A key deleted earlier in the batch counts as absent.
      r = await c.batch([{ type: 'delete', key: 'taken' }, { type: 'msetnx', entries: [['taken', 'new']] }]);
      assert.deepEqual(r.results, [{ ok: true, existed: true }, { ok: true }]);
      assert.equal(await c.get('taken'), 'new');
      // FLUSHDB inside MULTI: the reads before it see the keys, the writes after it are all that is left.
      // DBSIZE inside MULTI: the live keys as the batch sees them (taken, c, d, e before it).
      r = await c.batch([{ type: 'size' }, { type: 'put', key: 'new', value: 'n' }, { type: 'put', key: 'c', value: 'c2' }, { type: 'delete', key: 'd' }, { type: 'size' }]);
      assert.deepEqual(r.results, [{ ok: true, n: 4 }, { ok: true }, { ok: true }, { ok: true, existed: true }, { ok: true, n: 4 }]);
      r = await c.batch([{ type: 'get', key: 'c' }, { type: 'clear' }, { type: 'size' }, { type: 'get', key: 'c' }, { type: 'msetnx', entries: [['c', 'again']] }, { type: 'put', key: 'z', value: 'zz' }, { type: 'size' }]);
      assert.deepEqual(r.results, [{ ok: true, current: 'c2' }, { ok: true, n: 4 }, { ok: true, n: 0 }, { ok: false, current: null }, { ok: true }, { ok: true }, { ok: true, n: 2 }]);
      assert.equal(await c.size(), 2);
      assert.deepEqual(await c.getMany(['c', 'z', 'd', 'taken']), ['again', 'zz', undefined, undefined]);
      // Entries count toward maxBatchOps; malformed ones are INVALID_ARGUMENT and nothing is written.
      const many = Array.from({ length: 8 }, (_, i): [string, string] => [`k${i}`, 'v']);
      await assert.rejects(c.batch([{ type: 'msetnx', entries: many }, { type: 'put', key: 'p', value: 'v' }]), isCode(ErrorCode.INVALID_ARGUMENT));
      assert.equal((await c.batch([{ type: 'msetnx', entries: many }])).results[0]!.ok, true);
      for (const entries of [[], [['only-key']], [['', 'v']], 'ab', [['k', 7]]]) {
        await assert.rejects(c.batch([{ type: 'msetnx', entries: entries as never }]), isCode(ErrorCode.INVALID_ARGUMENT), JSON.stringify(entries));
      }
      assert.equal(await c.has('p'), false);
    } finally {
      await c.stop();
    }
  });

  test(`${storage}: clear({ prefix }) removes the keys starting with it in one entry, answering how many were live; in a batch the ops after it see them absent`, { timeout: 60_000 }, async () => {
    const c = await Cluster.start({ nodes: 3, storage });
    try {
      await c.batch(['user:1', 'user:2', 'user:20', 'user', 'users:1', 'us', 'v'].map((key) => ({ type: 'put' as const, key, value: key })));
      await c.put('user:3', 'gone', { ttlMs: 1 }); // expired before the clear: not counted
      await c.put(Buffer.from([0xff, 0xff, 1]), 'b');
      await c.put(Buffer.from([0xff, 0xfe]), 'b');
      await new Promise((r) => setTimeout(r, 5));
      const w = c.watch({ prefix: 'us' });
      await w.started;
      assert.equal(await c.clear({ prefix: 'user:2' }), 2, 'user:2 and user:20');
      assert.equal(await c.clear({ prefix: 'user:' }), 1, 'user:1 (user:3 had expired)');
      assert.deepEqual(await c.getMany(['user:1', 'user:2', 'user:20', 'user', 'users:1', 'us', 'v']), [undefined, undefined, undefined, 'user', 'users:1', 'us', 'v']);
      // The watch saw a delete for each key live at its clear, in key order, the events of one clear at one revision
      // (user:3's expiry is purged by whichever entry comes first after it).
      const seen: Array<[string, string, number]> = [];
      for await (const e of w) {
        if (e.type !== 'expire') seen.push([e.type, String(e.key), e.revision]);
        if (seen.length === 3) break;
      }
      assert.deepEqual(seen.map(([t, k]) => `${t} ${k}`), ['delete user:2', 'delete user:20', 'delete user:1']);
      assert.equal(seen[0]![2], seen[1]![2]);
      assert.ok(seen[2]![2] > seen[0]![2]);
      // Bytes, a prefix of 0xff bytes (no key after it), a prefix no key has.
      assert.equal(await c.clear({ prefix: Buffer.from([0xff, 0xff]) }), 1);
      assert.equal(await c.get(Buffer.from([0xff, 0xfe])), 'b');
      assert.equal(await c.clear({ prefix: 'nothing' }), 0);
      // In a batch: reads before it see the keys, the ops after it see them absent, a write after it stays; a size
      // counts what is left.
      const r = await c.batch([
        { type: 'get', key: 'users:1' }, { type: 'clear', prefix: 'us' }, { type: 'get', key: 'users:1' }, { type: 'get', key: 'v' },
        { type: 'put', key: 'us:new', value: 'n' }, { type: 'size' }, { type: 'clear', prefix: 'u' }, { type: 'msetnx', entries: [['user', 'again']] },
      ]);
      assert.deepEqual(r.results, [
        { ok: true, current: 'users:1' }, { ok: true, n: 3 }, { ok: false, current: null }, { ok: true, current: 'v' },
        { ok: true }, { ok: true, n: 3 }, { ok: true, n: 1 }, { ok: true },
      ]);
      assert.deepEqual(await c.scan({}), { items: [['user', 'again'], ['v', 'v'], [Buffer.from([0xff, 0xfe]), 'b']] });
      // '' is every key, as scan's prefix.
      assert.equal(await c.clear({ prefix: '' }), 3);
      assert.equal(await c.size(), 0);
      for (const bad of [{ prefix: 7 }, { prefx: 'a' }, 'a', { prefix: 'x'.repeat(2000) }]) {
        await assert.rejects(c.clear(bad as never), isCode(ErrorCode.INVALID_ARGUMENT), JSON.stringify(bad));
      }
      await assert.rejects(c.batch([{ type: 'clear', prefix: null as never }]), isCode(ErrorCode.INVALID_ARGUMENT));
    } finally {
      await c.stop();
    }
  });
}

test('a batch msetnx is held to maxKeys and maxBytes as a batch of puts is', async () => {
  const c = await Cluster.start({ nodes: 1, storage: 'memory', maxKeys: 2, maxBytes: 100 });
  try {
    await assert.rejects(c.batch([{ type: 'msetnx', entries: [['a', '1'], ['b', '2'], ['c', '3']] }]), isCode(ErrorCode.INVALID_ARGUMENT));
    await assert.rejects(c.batch([{ type: 'msetnx', entries: [['a', 'x'.repeat(100)]] }]), isCode(ErrorCode.INVALID_ARGUMENT));
    await assert.rejects(c.batch([{ type: 'msetnx', entries: [['a', 'x'.repeat(60)], ['b', 'y'.repeat(60)]] }]), isCode(ErrorCode.INVALID_ARGUMENT));
    assert.equal(await c.size(), 0);
    assert.equal((await c.batch([{ type: 'msetnx', entries: [['a', '1'], ['b', '2']] }])).results[0]!.ok, true);
    assert.deepEqual(await c.getMany(['a', 'b']), ['1', '2']);
  } finally {
    await c.stop();
  }
});

test('every key a batch writes counts toward maxKeys and maxBytes (counters, HLLs, bitop, copy and rename targets), a rename\'s source no more: found by a docs audit', async () => {
  const c = await Cluster.start({ nodes: 1, storage: 'memory', maxKeys: 2, maxBytes: 100 });
  try {
    const refused = [
      [{ type: 'incr', key: 'n1' }, { type: 'incr', key: 'n2' }, { type: 'incr', key: 'n3' }],
      [{ type: 'incrbyfloat', key: 'f1', by: '1' }, { type: 'pfadd', key: 'h1', elements: ['x'] }, { type: 'pfmerge', key: 'h2', keys: ['h1'] }],
      [{ type: 'put', key: 'a', value: '1' }, { type: 'bitop', key: 'b', operation: 'or', keys: ['a'] }, { type: 'copy', key: 'a', to: 'c' }],
      // The copy's target holds the 60 bytes put before it: 120 bytes held.
      [{ type: 'put', key: 'a', value: 'x'.repeat(60) }, { type: 'copy', key: 'a', to: 'b' }],
    ] as const;
    for (const ops of refused) await assert.rejects(c.batch(ops as never), isCode(ErrorCode.INVALID_ARGUMENT), JSON.stringify(ops));
    assert.equal(await c.size(), 0, 'nothing written');
    // A rename's source is gone once it applies: two keys held, not three; a rename onto itself writes nothing.
    const r = await c.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'b', value: '2' }, { type: 'rename', key: 'a', to: 'c' }, { type: 'rename', key: 'c', to: 'c' }]);
    assert.equal(r.ok, true);
    assert.deepEqual(await c.getMany(['a', 'b', 'c']), [undefined, '2', '1']);
    assert.equal((await c.metrics()).nodes[0]!.counters.evictions, 0);
    // Keys the batch deletes or clears after writing them are not held.
    assert.equal((await c.batch([{ type: 'put', key: 'x1', value: '1' }, { type: 'delete', key: 'x1' }, { type: 'put', key: 'x2', value: '2' }, { type: 'clear', prefix: 'x' }, { type: 'put', key: 'x3', value: '3' }, { type: 'delete', key: 'b' }])).ok, true);
    assert.deepEqual(await c.getMany(['x1', 'x2', 'x3', 'b', 'c']), [undefined, undefined, '3', undefined, '1']);
    // A rename or copy to a longer key whose record would not fit maxBytes fails VALUE_TOO_LARGE at apply (it would
    // have been evicted after its entry, every other key first), the rest of the batch applied.
    await c.clear();
    await c.put('k', 'v');
    await c.put('a', 'x'.repeat(96)); // 2 + 97 bytes held
    const moved = await c.batch([{ type: 'rename', key: 'a', to: 'abcdef' }, { type: 'copy', key: 'a', to: 'abcdef' }, { type: 'put', key: 'k', value: 'w' }]);
    assert.deepEqual(moved.results, [{ ok: false, existed: true, error: 'VALUE_TOO_LARGE' }, { ok: false, existed: true, error: 'VALUE_TOO_LARGE' }, { ok: true }]);
    assert.deepEqual(await c.getMany(['k', 'abcdef']), ['w', undefined]);
    assert.equal((await c.get<string>('a'))?.length, 96);
    assert.equal((await c.metrics()).nodes[0]!.counters.evictions, 0);
  } finally {
    await c.stop();
  }
});

test('a batch op with a field its type does not take is refused, as an unknown option is: a misspelt ttl or condition never writes without it', async () => {
  const c = await Cluster.start({ nodes: 1, storage: 'memory' });
  try {
    const refused = async (op: unknown, field: string): Promise<void> => {
      await assert.rejects(c.batch([{ type: 'put', key: 'ok', value: 'v' }, op as never]), (e: unknown) => isCode(ErrorCode.INVALID_ARGUMENT)(e) && (e as Error).message.includes(`unknown field ${field}`), JSON.stringify(op));
    };
    await refused({ type: 'put', key: 'k', value: 'v', ttl: 5_000 }, 'ttl');
    await refused({ type: 'put', key: 'k', value: 'v', cond: 'nx' }, 'cond'); // the state machine's name, not the API's
    await refused({ type: 'put', key: 'k', value: 'v', nx: true }, 'nx');
    await refused({ type: 'delete', key: 'k', value: 'v' }, 'value');
    await refused({ type: 'cas', key: 'k', expected: null, value: 'v', condition: 'absent' }, 'condition');
    await refused({ type: 'incr', key: 'k', by: 1, ttlMs: 5_000 }, 'ttlMs');
    await refused({ type: 'rename', key: 'k', to: 'j', nx: true }, 'nx');
    await refused({ type: 'msetnx', key: 'k', entries: [['a', '1']] }, 'key');
    await refused({ type: 'size', key: 'k' }, 'key');
    await refused({ type: 'bitfield', key: 'k', fields: [{ op: 'incrby', signed: false, bits: 8, offset: 0, value: 1, overlow: 'sat' }] }, 'overlow');
    assert.equal(await c.size(), 0, 'nothing of a refused batch is written');
    // The fields each type documents are taken; one set to undefined is as absent (JavaScript callers pass them).
    const r = await c.batch([
      { type: 'put', key: 'k', value: 'v', ttlMs: 60_000, condition: 'absent' },
      { type: 'put', key: 'k2', value: 'v', atMs: Date.now() + 60_000, keepTtl: undefined as never },
      { type: 'cas', key: 'k', expected: 'v', value: 'w', keepTtl: true },
      { type: 'expire', key: 'k', atMs: Date.now() + 60_000, condition: 'gt' },
      { type: 'rename', key: 'k2', to: 'k3', condition: 'absent' },
      { type: 'copy', key: 'k3', to: 'k4', replace: false },
      { type: 'bitfield', key: 'b', fields: [{ op: 'incrby', signed: false, bits: 8, offset: 0, value: 1, overflow: 'sat' }] },
    ]);
    assert.equal(r.ok, true);
  } finally {
    await c.stop();
  }
});

test('batch incr with a 64-bit text by: Redis\'s 64-bit counters (OVERFLOW past them); incr() keeps safe integers', async () => {
  const c = await Cluster.start({ nodes: 1, storage: 'memory' });
  try {
    let r = await c.batch([{ type: 'incr', key: 'id', by: '9223372036854775806' }, { type: 'incr', key: 'id', by: '1' }, { type: 'incr', key: 'id', by: '1' }]);
    assert.deepEqual(r.results, [{ ok: true, value: '9223372036854775806' }, { ok: true, value: '9223372036854775807' }, { ok: false, error: 'OVERFLOW' }]);
    await assert.rejects(c.incr('id'), isCode(ErrorCode.NOT_INTEGER), 'past the safe integers for incr()');
    r = await c.batch([{ type: 'incr', key: 'id', by: '-9223372036854775807' }]);
    assert.deepEqual(r.results, [{ ok: true, value: '0' }]);
    for (const by of ['9223372036854775808', '1.5', '-0', ' 1']) {
      await assert.rejects(c.batch([{ type: 'incr', key: 'id', by }]), isCode(ErrorCode.INVALID_ARGUMENT), by);
    }
    // A ttl op reads the expiry as the batch sees it, at the batch's time.
    const before = Date.now();
    r = await c.batch([{ type: 'put', key: 't', value: 'v', ttlMs: 60_000 }, { type: 'ttl', key: 't' }, { type: 'ttl', key: 'id' }, { type: 'ttl', key: 'none' }]);
    const t = r.results[1]!;
    assert.deepEqual([t.ok, t.ttlMs], [true, 60_000], 'the put and the read share the entry\'s time');
    assert.ok(t.expiresAt! >= before + 60_000 && t.expiresAt! <= Date.now() + 60_000);
    assert.deepEqual(r.results.slice(2), [{ ok: true, ttlMs: -1, expiresAt: -1 }, { ok: false }]);
    // Alone in its batch too (the leader packs a lone plain { ok: true } result as a flag: fields beyond ok must survive).
    r = await c.batch([{ type: 'ttl', key: 'id' }]);
    assert.deepEqual(r.results, [{ ok: true, ttlMs: -1, expiresAt: -1 }]);
  } finally {
    await c.stop();
  }
});
