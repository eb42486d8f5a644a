// The command batch an entry holds (codec.ts: encodeBatch, decodeCommands): the short form of plain puts, the
// maps of every other op, the maps of entries written before it, and malformed batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack } from 'msgpackr';
import { decodeCommands, encodeBatch, unpack } from '../../src/storage/codec.js';
import type { Command, Op } from '../../src/storage/command.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { LmdbStore } from '../../src/storage/lmdb.js';
import { k, tempDir } from './helpers.js';

const OPS: Op[][] = [
  [{ t: 'put', key: k('a'), value: 'string value' }],
  [{ t: 'put', key: k('b'), value: Buffer.from([0, 1, 2, 255]) }],
  [{ t: 'put', key: k('c'), value: 'with a ttl', ttlMs: 5000 }],
  [{ t: 'put', key: k('d'), value: 'nx', cond: 'nx' }],
  [{ t: 'put', key: k('a'), value: 'keep', keepTtl: true }],
  [{ t: 'put', key: k('e'), value: 'at', atMs: 9_999_999_999_999 }],
  [{ t: 'del', key: k('b') }, { t: 'put', key: k('f'), value: 'two ops' }],
  [{ t: 'cas', key: k('a'), expected: 'keep', value: 'swapped' }],
  [{ t: 'incr', key: k('n'), by: 5 }],
  [{ t: 'append', key: k('a'), value: '+' }],
  [{ t: 'expire', key: k('a'), ttlMs: 100_000, cond: 'nx' }],
  [{ t: 'put', key: k('g'), value: 'x', ttlMs: 1.5 }], // invalid: rejected on apply, the same in both forms
  [{ t: 'put', key: k(''), value: 'empty key' }], // invalid too
];

const writes = OPS.map((ops, i) => ({ seq: 10 + i, ops }));

test('encodeBatch: plain puts (with at most a ttl) go as arrays, every other op as its map; decodeCommands gives the commands back', () => {
  const bytes = encodeBatch(7, 10, writes);
  const wire = unpack<unknown[]>(bytes);
  assert.deepEqual(wire.slice(0, 3), [7, 10, 10]);
  assert.ok(Array.isArray((wire[3] as unknown[])[0]), 'a plain put is [key, value]');
  assert.equal(((wire[7] as unknown[])[0] as unknown[]).length, 3, 'a put with a ttl is [key, value, ttlMs]');
  assert.ok(!Array.isArray((wire[9] as unknown[])[0]), 'a put with a condition is its map');
  const cmds = decodeCommands(bytes)!;
  assert.equal(cmds.length, OPS.length);
  cmds.forEach((c, i) => {
    assert.equal(c.client, 7);
    assert.equal(c.floor, 10);
    assert.equal(c.seq, 10 + i);
    assert.deepEqual(c.ops.map(normal), OPS[i]!.map(normal));
  });
});

test('decodeCommands reads the maps entries held before the batch form', () => {
  const old: Command[] = writes.map((w) => ({ client: 7, seq: w.seq, floor: 10, ops: w.ops }));
  const cmds = decodeCommands(pack(old))!;
  assert.deepEqual(cmds.map((c) => ({ ...c, ops: c.ops.map(normal) })), old.map((c) => ({ ...c, ops: c.ops.map(normal) })));
  assert.deepEqual(decodeCommands(pack([])), []);
});

test('decodeCommands refuses what is not a batch', () => {
  for (const bad of [
    pack({ client: 1 }),
    pack([1.5, 0, 1, []]), // client not an integer
    pack([1, 0, 1]), // a seq without its ops
    pack([1, 0, 'x', []]), // seq not an integer
    pack([1, 0, 1, 'ops']), // ops not an array
    pack([{ client: 1, seq: 1, floor: 0, ops: 'no' }]), // an old batch with a bad command
    Buffer.from([0xc1]), // not msgpack
  ]) {
    assert.equal(decodeCommands(bad), undefined, `refused: ${Buffer.from(bad).toString('hex')}`);
  }
});

test('a batch applies the same in both forms, in both stores; a short put of the wrong length fails as a malformed op', () => {
  const d = tempDir();
  const stores = [new MemoryStore({ membership: { voters: [1] } }), new MemoryStore({ membership: { voters: [1] } }), LmdbStore.open({ dir: d.dir, membership: { voters: [1] } })];
  try {
    const old = pack(writes.map((w) => ({ client: 7, seq: w.seq, floor: 10, ops: w.ops })));
    const forms = [old, encodeBatch(7, 10, writes), encodeBatch(7, 10, writes)];
    const results = stores.map((s, i) => s.apply([{ index: 1, term: 1, type: 0, data: forms[i]! }]));
    assert.deepEqual(results[1], results[0]);
    assert.deepEqual(results[2], results[0]);
    const okCount = results[0]![0]!.filter((r) => r.results.every((x) => x.ok)).length;
    assert.ok(okCount >= 8 && okCount < OPS.length, `some ops succeed, the invalid ones fail (${okCount})`);
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'n']) {
      assert.deepEqual(stores[1]!.get(k(key)), stores[0]!.get(k(key)), key);
      assert.deepEqual(stores[2]!.get(k(key)), stores[0]!.get(k(key)), key);
    }
    const malformed = pack([7, 10, 100, [[k('z')]], 101, [[k('z'), 'v', 1, 2]], 102, [[k('z'), 'v']]]);
    const r = stores[0]!.apply([{ index: 2, term: 1, type: 0, data: malformed }])[0]!;
    assert.deepEqual(r.map((c) => c.results[0]?.error ?? (c.results[0]?.ok ? 'ok' : 'failed')), ['INVALID_KEY', 'INVALID_KEY', 'ok']);
  } finally {
    for (const s of stores) s.close();
    d.remove();
  }
});

/** An op without the fields that are absent, so that a decoded short put compares equal to the op it came from. */
function normal(op: Op): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(op)) if (v !== undefined) out[key] = v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
  return out;
}
