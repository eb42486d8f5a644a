// The in-memory expiry index (src/storage/expiry-index.ts): the keys it hands out to purge, their order (the same
// on every replica), its count of expired keys, and its memory under TTL churn, checked against a plain model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpiryIndex, MAX_JOURNAL, REBUILD_AT } from '../../src/storage/expiry-index.js';
import { mulberry32 } from '../../src/util/random.js';

/** The model: key → expiry, purged in (expiry, key) order. */
function modelTake(model: Map<string, number>, time: number, limit: number): string[] {
  const due = [...model].filter(([, at]) => at <= time).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out = due.slice(0, limit).map(([k]) => k);
  for (const k of out) model.delete(k);
  return out;
}

test('take hands out due keys in (expiry, key) order, at most `limit`, and leaves the rest for next time', () => {
  const x = new ExpiryIndex();
  x.add('b', 10);
  x.add('a', 10);
  x.add('c', 5);
  x.add('d', 20);
  assert.deepEqual(x.take(4, 10), []);
  assert.deepEqual(x.take(10, 2), ['c', 'a']);
  assert.equal(x.countExpired(10), 1);
  assert.deepEqual(x.take(10, 2), ['b']);
  assert.equal(x.size, 1);
  x.remove('d', 20);
  assert.deepEqual(x.take(100, 10), []);
  assert.equal(x.size, 0);
});

test('random adds, rewrites, removals and takes agree with a plain model (order and mean expiry included), settled at random moments', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const rand = mulberry32(seed);
    const x = new ExpiryIndex();
    const model = new Map<string, number>();
    let time = 0;
    for (let step = 0; step < 3000; step++) {
      const key = `k${Math.floor(rand() * 200)}`;
      const r = rand();
      if (r < 0.5) {
        const old = model.get(key);
        const at = time + 1 + Math.floor(rand() * 50);
        // A blind put (set), refused over an expired key not yet taken, or a write that read the record it replaces.
        const tryBlind = rand() < 0.5;
        const blind = tryBlind && x.set(key, at, time);
        if (tryBlind) assert.equal(blind, old === undefined || old > time, 'set() refuses only an expired key');
        if (!blind) {
          if (old !== undefined) x.remove(key, old);
          x.add(key, at);
        }
        model.set(key, at);
      } else if (r < 0.55) {
        const old = model.get(key);
        if (old === undefined || old > time) {
          assert.ok(x.set(key, undefined, time)); // a put without a TTL over the key
          model.delete(key);
        }
      } else if (r < 0.65) {
        const old = model.get(key);
        if (old !== undefined) {
          x.remove(key, old);
          model.delete(key);
        }
      } else if (r < 0.9) {
        time += Math.floor(rand() * 5);
        const limit = 1 + Math.floor(rand() * 8);
        assert.deepEqual(x.take(time, limit), modelTake(model, time, limit), `seed ${seed} step ${step}`);
      } else {
        const t = time + Math.floor(rand() * 30);
        assert.equal(x.countExpired(t), [...model.values()].filter((at) => at <= t).length);
      }
      // Moves are journaled until a read needs them or settle() is called (the node does, while its log write syncs).
      const u = rand();
      if (u < 0.1) x.settle();
      else if (u < 0.2) assert.equal(x.size, model.size);
      assert.equal(x.expiryOf(key), model.get(key), 'a key\'s expiry is known at once, settled or not');
      const mean = model.size === 0 ? undefined : [...model.values()].reduce((a, b) => a + b, 0) / model.size;
      assert.ok(mean === undefined ? x.meanExpiry() === undefined : Math.abs(x.meanExpiry()! - mean) < 1e-6, `mean expiry ${x.meanExpiry()} vs ${mean}`);
    }
    assert.equal(x.size, model.size);
    assert.equal(x.countExpired(Infinity), model.size);
  }
});

test('memory stays bounded when the same keys are rewritten with ever later expiries', () => {
  const x = new ExpiryIndex();
  const at = new Map<string, number>();
  for (let i = 0; i < 100_000; i++) {
    const key = `k${i % 100}`;
    const old = at.get(key);
    if (old !== undefined) x.remove(key, old);
    x.add(key, 1_000_000 + i); // a new expiry each time: every older one is emptied, and never due
    at.set(key, 1_000_000 + i);
  }
  x.settle();
  const held = (x as unknown as { byTime: Map<number, unknown> }).byTime.size;
  const heap = (x as unknown as { heap: { size: number } }).heap.size;
  // Each group left behind holds one stale place; settle() rebuilds once the places pass REBUILD_AT.
  const most = REBUILD_AT.perKey * 100 + REBUILD_AT.plus;
  assert.ok(held >= 100 && held <= most, `${held} expiries held for 100 keys`);
  assert.ok(heap === held, `${heap} heap items for ${held} expiries`);
  assert.equal(x.size, 100);
  assert.equal(x.countExpired(1_000_000 + 100_000), 100);
  assert.equal(x.take(1_000_000 + 100_000, 1000).length, 100);
  assert.equal((x as unknown as { byTime: Map<number, unknown> }).byTime.size, 0);
});

test('places left stale in their groups stay bounded without a take, and are never handed out', () => {
  // A rewrite leaves the key's place in its old group (one group per entry: the leader stamps one time on it).
  const x = new ExpiryIndex();
  const live = new Map<string, number>();
  let most = 0;
  for (let entry = 0; entry < 2000; entry++) {
    for (let j = 0; j < 50; j++) {
      const key = `k${(entry * 7 + j * 13) % 500}`;
      assert.ok(x.set(key, 10_000 + entry, 0));
      live.set(key, 10_000 + entry);
    }
    if (entry % 10 === 9) x.settle(); // the node settles while its log write syncs
    const inGroups = [...(x as unknown as { byTime: Map<number, unknown> }).byTime.values()].reduce((n: number, g) => n + (Array.isArray(g) ? g.length : 1), 0);
    most = Math.max(most, inGroups);
  }
  assert.ok(most <= REBUILD_AT.perKey * 500 + REBUILD_AT.plus + MAX_JOURNAL, `${most} places held in groups for 500 live keys`);
  assert.ok(most > REBUILD_AT.perKey * 500, 'the groups held stale places (the test exercises them)');
  const due = [...live].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
  assert.deepEqual(x.take(10_000 + 1000, 100_000), due.filter((k) => live.get(k)! <= 10_000 + 1000));
  assert.deepEqual(x.take(Infinity, 100_000), due.filter((k) => live.get(k)! > 10_000 + 1000));
  assert.equal(x.size, 0);
});

test('moves wait in the journal while nothing is due, and the journal is bounded without any settle()', () => {
  const x = new ExpiryIndex();
  x.add('a', 100);
  x.add('b', 200);
  assert.deepEqual(x.take(50, 10), []); // nothing due: the moves stay journaled
  assert.equal(x.unsettled, 2);
  x.remove('a', 100);
  x.add('a', 150);
  assert.deepEqual(x.take(160, 10), ['a']); // a journaled add that is due: settled first
  assert.equal(x.unsettled, 0);
  for (let i = 0; i < 3 * MAX_JOURNAL; i++) {
    x.remove('b', 200 + i);
    x.add('b', 201 + i);
    assert.ok(x.unsettled <= MAX_JOURNAL);
  }
  assert.equal(x.size, 1);
  assert.deepEqual(x.take(200 + 3 * MAX_JOURNAL, 10), ['b']);
});
