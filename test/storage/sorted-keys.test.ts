// The memory store's ordered key set against a sorted array, through enough adds and deletes to split and join
// its leaves, walked both ways from every kind of starting point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SortedKeys } from '../../src/storage/sorted-keys.js';
import { mulberry32 } from '../../src/util/random.js';

/** A latin1 key string of 1 to 3 bytes from a small alphabet (0x00 and 0xff included): many shared prefixes. */
function randomKey(rand: () => number): string {
  const alphabet = [0x00, 0x01, 0x61, 0x62, 0x7f, 0xfe, 0xff];
  let s = '';
  const n = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < n; i++) s += String.fromCharCode(alphabet[Math.floor(rand() * alphabet.length)]!);
  return s + String(Math.floor(rand() * 40));
}

function modelWalk(model: string[], from: string | undefined, reverse: boolean): string[] {
  if (!reverse) return from === undefined ? model : model.filter((k) => k >= from);
  return (from === undefined ? model : model.filter((k) => k <= from)).slice().reverse();
}

test('SortedKeys: adds, deletes, walks and indexes agree with a sorted array through splits and joins', () => {
  const rand = mulberry32(7);
  const set = new SortedKeys();
  const model = new Set<string>();
  for (let round = 0; round < 6; round++) {
    // Grow (leaves split), then shrink by most of it (leaves empty and join), twice over.
    const adds = round % 2 === 0 ? 6000 : 500;
    for (let i = 0; i < adds; i++) {
      const key = randomKey(rand);
      assert.equal(set.add(key), !model.has(key));
      model.add(key);
    }
    const dels = round % 2 === 0 ? 1500 : 6000;
    for (let i = 0; i < dels; i++) {
      const key = randomKey(rand);
      assert.equal(set.delete(key), model.has(key));
      model.delete(key);
    }
    assert.equal(set.size, model.size);
    const sorted = [...model].sort();
    assert.deepEqual([...set.walk(undefined, false)], sorted);
    assert.deepEqual([...set.walk(undefined, true)], sorted.slice().reverse());
    // at(i): the key at each index, across leaves; none past the end.
    for (let i = 0; i < sorted.length; i += 1 + Math.floor(rand() * 7)) assert.equal(set.at(i), sorted[i], `at(${i})`);
    assert.equal(set.at(sorted.length - 1), sorted[sorted.length - 1]);
    assert.equal(set.at(sorted.length), undefined);
    for (let i = 0; i < 50; i++) {
      // Half the starting points are keys present, half are arbitrary (between keys, before all, after all).
      const from = i % 2 === 0 && sorted.length > 0 ? sorted[Math.floor(rand() * sorted.length)]! : randomKey(rand);
      for (const reverse of [false, true]) {
        assert.deepEqual([...set.walk(from, reverse)], modelWalk(sorted, from, reverse), `walk from ${JSON.stringify(from)} reverse ${reverse}`);
      }
    }
  }
  for (const key of [...model]) assert.equal(set.delete(key), true);
  assert.equal(set.size, 0);
  assert.deepEqual([...set.walk('a', false)], []);
  assert.deepEqual([...set.walk(undefined, true)], []);
  assert.equal(set.delete('a'), false);
});
