// The fast recording path of LatencyHistogram against hdr-histogram-js fed the same values one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as hdr from 'hdr-histogram-js';
import { LatencyHistogram, fastIndex, fastSlotValue } from '../../src/util/histogram.js';
import { mulberry32 as rng } from '../../src/util/random.js';

const build = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
type Indexed = { countsArrayIndex(v: number): number; valueFromIndex(i: number): number };

test('fastIndex is HdrHistogram\'s slot, and fastSlotValue the lowest value of it', () => {
  const ref = build() as unknown as Indexed;
  const r = rng(7);
  const values = [1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 1_000_000, 2 ** 30, 2 ** 31 - 1];
  for (let i = 0; i < 20_000; i++) values.push(1 + Math.floor(2 ** (r() * 31)) % (2 ** 31 - 1));
  for (const v of values) {
    const i = fastIndex(v);
    assert.equal(i, ref.countsArrayIndex(v), `slot of ${v}`);
    assert.equal(fastSlotValue(i), ref.valueFromIndex(i), `lowest value of slot ${i}`);
    assert.ok(fastSlotValue(i) <= v && fastIndex(fastSlotValue(i)) === i);
  }
});

test('recordMs gives the histogram hdr-histogram-js gives, value by value: counts, percentiles, exact max', () => {
  const r = rng(11);
  const fast = new LatencyHistogram();
  const ref = build();
  const check = (): void => {
    const s = fast.summary();
    const q = (p: number): number => (ref.totalCount === 0 ? 0 : ref.getValueAtPercentile(p) / 1000);
    assert.deepEqual(s, { count: ref.totalCount, mean: ref.totalCount === 0 ? 0 : ref.mean / 1000, p50: q(50), p95: q(95), p99: q(99), p999: q(99.9), max: ref.totalCount === 0 ? 0 : ref.maxValue / 1000 });
    assert.equal(fast.encode(), hdr.encodeIntoCompressedBase64(ref));
  };
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 5_000; i++) {
      const kind = r();
      // microseconds to an hour and beyond (clamped), a few negatives (clock skew: recorded as 1 µs), counts > 1
      const ms = kind < 0.02 ? -r() : kind < 0.04 ? 3_700_000_000 * r() : kind < 0.06 ? 2 ** 31 / 1000 + r() * 1e6 : 10 ** (r() * 5 - 3);
      const count = r() < 0.1 ? 1 + Math.floor(r() * 300) : 1;
      fast.recordMs(ms, count);
      const us = Math.round(ms * 1000);
      ref.recordValueWithCount(us < 1 ? 1 : us > 3_600_000_000 ? 3_600_000_000 : us, count);
    }
    check(); // reads settle the pending counts; recording goes on after them
  }
  const sum = fast.buckets().reduce((a, [, n]) => a + n, 0);
  assert.equal(sum, ref.totalCount, 'every value is in a plot bucket');
});

test('reset forgets pending counts; add and decode see them', () => {
  const a = new LatencyHistogram();
  a.recordMs(1.5);
  a.reset();
  assert.equal(a.count, 0);
  a.recordMs(2);
  a.recordMs(4, 3);
  const b = new LatencyHistogram();
  b.recordMs(8);
  b.add(a);
  assert.equal(b.count, 5);
  assert.equal(b.summary().max, 8);
  const c = LatencyHistogram.decode(a.encode());
  assert.equal(c.count, 4);
  assert.equal(c.summary().p99, a.summary().p99); // (a decoded histogram's max is its slot's highest value)
});
