// Redis's HyperLogLog as src/storage/hyperloglog.ts writes it: the bytes Redis 7.0 wrote for the same elements, the
// promotion from the sparse to the dense layout, the estimates' error, unions, and the values it refuses. The
// byte-for-byte comparison over random commands against redis-server is in test/resp/hyperloglog.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HLL_SPARSE_MAX_BYTES, isHll, pfadd, pfcount, pfmerge } from '../../src/storage/hyperloglog.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const elements = (prefix: string, n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => bytes(`${prefix}${i}`));

function added(v: Uint8Array | undefined, els: Uint8Array[]): Uint8Array {
  const r = pfadd(v, els);
  assert.ok(typeof r !== 'string', String(r));
  return r.value;
}

function card(values: Array<Uint8Array | undefined>): number {
  const r = pfcount(values);
  assert.ok(!('problem' in r), JSON.stringify(r));
  return r.card;
}

test('PFADD writes the bytes Redis 7.0 wrote for the same elements, and PFCOUNT caches what Redis caches', () => {
  // redis-cli: PFADD kv a b c d hello "" 12345678 123456789abcdefgh; GET kv; PFCOUNT kv (8); GET kv
  const v = added(undefined, ['a', 'b', 'c', 'd', 'hello', '', '12345678', '123456789abcdefgh'].map(bytes));
  const redis = 'HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80G\xa5\x88O\x8a\x84EH\x80Dv\x80C\n\x80EQ\x88HR\x84K\xfb\x80BZ';
  assert.equal(Buffer.from(v).toString('latin1'), redis);
  const r = pfcount([v]);
  assert.ok(!('problem' in r));
  assert.equal(r.card, 8);
  assert.equal(Buffer.from(r.value!).toString('latin1'), 'HYLL\x01\x00\x00\x00\b\x00\x00\x00\x00\x00\x00\x00' + redis.slice(16));
  // With the cache valid, it is read, not computed: a cache that says 7 is answered 7.
  const cached = Buffer.from(r.value!);
  cached[8] = 7;
  assert.deepEqual(pfcount([cached]), { card: 7 });
});

test('a new HLL is sparse, 18 bytes; an unchanged one is not written; an empty PFADD of an absent key creates it', () => {
  const empty = pfadd(undefined, []);
  assert.ok(typeof empty !== 'string');
  assert.equal(Buffer.from(empty.value).toString('latin1'), 'HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff');
  assert.equal(empty.changed, true);
  const v = added(undefined, [bytes('x')]);
  const again = pfadd(v, [bytes('x')]);
  assert.ok(typeof again !== 'string');
  assert.equal(again.changed, false);
  assert.deepEqual(again.value, v);
  assert.equal(card([undefined]), 0);
  assert.equal(card([v]), 1);
});

test('the sparse layout is promoted to the dense one (12304 bytes) past 3000 bytes, and the estimates stay within 2%', () => {
  let v: Uint8Array | undefined;
  let promotedAt: number | undefined;
  for (let n = 0; n < 20_000; n += 100) {
    v = added(v, elements('e', 20_000).slice(n, n + 100));
    if (v[4] === 0 && promotedAt === undefined) promotedAt = n + 100;
    if (v[4] === 1) assert.ok(v.length <= HLL_SPARSE_MAX_BYTES, `a sparse value of ${v.length} bytes`);
  }
  assert.ok(promotedAt !== undefined && promotedAt > 500 && promotedAt < 5000, `promoted at ${promotedAt} elements`);
  assert.equal(v!.length, 12304);
  for (const [prefix, n] of [['s', 100], ['m', 3000], ['l', 50_000]] as const) {
    const got = card([added(undefined, elements(prefix, n))]);
    assert.ok(Math.abs(got - n) <= n * 0.02, `${n} distinct elements estimated ${got}`);
  }
});

test('PFMERGE and a PFCOUNT of several keys count the union; a merge with a dense source is dense', () => {
  const a = added(undefined, elements('u', 1500));
  const b = added(undefined, elements('u', 3000).slice(1000)); // overlaps a on 500 elements
  const union = card([a, b]);
  assert.ok(Math.abs(union - 3000) <= 60, `union of 3000 estimated ${union}`);
  const merged = pfmerge(undefined, [undefined, a, b]);
  assert.ok(merged instanceof Uint8Array);
  assert.equal(card([merged]), union);
  assert.equal(merged[4], b[4]); // dense when b is, sparse otherwise
  const small = added(undefined, [bytes('one')]);
  const dense = added(undefined, elements('d', 20_000));
  const m2 = pfmerge(small, [small, dense]);
  assert.ok(m2 instanceof Uint8Array);
  assert.equal(m2[4], 0);
  assert.equal(card([m2]), card([small, dense]));
});

test('a value that is not an HLL is WRONGTYPE, a broken sparse one INVALIDOBJ, and nothing is returned written', () => {
  for (const s of ['', 'foo', 'HYLL', 'HYLL\x02' + '\x00'.repeat(20), 'HYLL\x00' + '\x00'.repeat(20)]) {
    assert.equal(isHll(bytes(s)), false, JSON.stringify(s));
    assert.equal(pfadd(bytes(s), [bytes('x')]), 'NOT_HLL');
    assert.deepEqual(pfcount([bytes(s)]), { problem: 'NOT_HLL', at: 0 });
    assert.deepEqual(pfmerge(undefined, [undefined, bytes(s)]), { problem: 'NOT_HLL', at: 1 });
  }
  // A sparse value whose opcodes cover one register too few (the first XZERO run one shorter).
  const broken = Buffer.from(added(undefined, []));
  broken[17] = 0xfe;
  assert.equal(isHll(broken), true);
  assert.deepEqual(pfcount([broken]), { problem: 'INVALID_HLL', at: 0 });
  assert.deepEqual(pfcount([undefined, broken, bytes('x')]), { problem: 'INVALID_HLL', at: 1 });
  assert.deepEqual(pfcount([undefined, bytes('x'), broken]), { problem: 'NOT_HLL', at: 1 }); // in order, as Redis
  assert.deepEqual(pfmerge(undefined, [undefined, broken]), { problem: 'INVALID_HLL', at: 1 });
  // PFADD meets the broken part only at the register its runs no longer cover, the last one (an element of it makes
  // a new HLL of 19 bytes: XZERO of 16383, then one VAL). The registers set before stay set, as in Redis's value.
  const last = elements('r', 200_000).find((e) => {
    const r = pfadd(undefined, [e]);
    return typeof r !== 'string' && r.value.length === 19;
  });
  assert.ok(last !== undefined);
  const r = pfadd(broken, [bytes('x'), last]);
  assert.ok(typeof r !== 'string');
  assert.deepEqual([r.broken, r.changed], [true, true]);
  assert.deepEqual(r.value, added(Buffer.from(broken), [bytes('x')]).subarray(0, r.value.length));
});
