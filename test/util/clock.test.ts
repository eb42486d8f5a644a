// unixMicros: the wall clock's time in µs (TIME, MONITOR), with the monotonic clock's precision only while that agrees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unixMicros } from '../../src/util/clock.js';

test('unixMicros is within the wall clock millisecond it is read in, µs from the monotonic clock when it agrees', () => {
  for (let i = 0; i < 1000; i++) {
    const before = Date.now();
    const us = unixMicros();
    const after = Date.now();
    assert.ok(Number.isInteger(us) && us >= before * 1000 && us < (after + 1) * 1000, `${us} within [${before}, ${after}]`);
  }
});

test('unixMicros falls back to the wall clock millisecond when the monotonic clock has drifted from it, either way', (t) => {
  const realNow = performance.now.bind(performance);
  for (const driftMs of [1.2, -3.7, 250]) {
    t.mock.method(performance, 'now', () => realNow() + driftMs);
    const before = Date.now();
    const us = unixMicros();
    const after = Date.now();
    t.mock.restoreAll();
    assert.ok(us >= before * 1000 && us <= after * 1000 && us % 1000 === 0, `drift ${driftMs} ms: ${us} is a wall clock ms in [${before}, ${after}]`);
  }
});
