// Tripwire (src/util/tripwire.ts): calls raced against a rejection to come settle as their own promise does, are
// let go of once settled (a race against a promise pending for a node's life kept every result), and reject when it trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Tripwire } from '../../src/util/tripwire.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('a raced call settles as its own promise; a trip rejects the calls in flight and every later one', async () => {
  const w = new Tripwire();
  assert.equal(await w.race(Promise.resolve(7)), 7);
  await assert.rejects(w.race(Promise.reject(new Error('own'))), /own/);
  assert.equal(w.size, 0);
  const pending = w.race(new Promise<number>(() => undefined));
  assert.equal(w.size, 1);
  w.trip(new Error('down'));
  w.trip(new Error('second'));
  await assert.rejects(pending, /^Error: down$/);
  await assert.rejects(w.race(Promise.resolve(1)), /^Error: down$/);
  assert.equal(w.size, 0);
});

/** 100 results raced and settled; weak references to them. */
async function raceMany(w: Tripwire): Promise<Array<WeakRef<object>>> {
  const refs: Array<WeakRef<object>> = [];
  for (let i = 0; i < 100; i++) {
    const result = { histogram: 'x'.repeat(1000) + String(i) };
    refs.push(new WeakRef(result));
    assert.equal(await w.race(Promise.resolve(result)), result);
  }
  return refs;
}

test('a settled call\'s result is not kept while the wire waits', async () => {
  const w = new Tripwire();
  const refs = await raceMany(w);
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0, 'every result collected');
  assert.equal(w.size, 0);
});
