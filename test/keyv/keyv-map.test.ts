// Differential test: Keyv over the threadraft store against Keyv over its default in-memory Map, the same seeded
// random calls (get, get raw, set with and without a ttl, delete, has, their Many forms, clear), every result
// compared. Keyv's own suite (keyv.test.ts) checks the store's contract; this checks that a Keyv user sees what
// the Map store would show them, return values included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual, inspect } from 'node:util';
import Keyv from 'keyv';
import { Cluster } from '../../src/index.js';
import { KeyvThreadraft } from '../../src/keyv.js';
import { Prng } from '../sim/prng.js';

const KEYS = ['a', 'b', 'c:d', 'é'];
const VALUES: unknown[] = ['x', 1, 0, '', { a: [1, 2] }, null, true, [1], 'long'.repeat(10), -5.5, { d: new Date(0) }];

test('Keyv over the store answers as Keyv over a Map', async () => {
  const cluster = await Cluster.start({ nodes: 1, storage: 'memory' });
  try {
    const map = new Keyv({ namespace: 'ns' });
    const ours = new Keyv({ store: new KeyvThreadraft(cluster), namespace: 'ns' });
    const r = new Prng(7);
    const pick = <T>(xs: readonly T[]): T => xs[r.int(xs.length)]!;
    for (let i = 0; i < 400; i++) {
      // TTLs past the cluster's longest expiry (100 years) too: Keyv's Map keeps such keys.
      const [k, k2, v, v2, ttl] = [pick(KEYS), pick(KEYS), pick(VALUES), pick(VALUES), pick([100_000, 50_000, Infinity, 1e15])];
      const call = pick(['get', 'raw', 'set', 'set', 'setTtl', 'delete', 'has', 'getMany', 'setMany', 'deleteMany', 'hasMany', 'clear'] as const);
      const run = async (kv: Keyv): Promise<unknown> => {
        switch (call) {
          case 'get': return kv.get(k);
          case 'raw': {
            const d = await kv.get(k, { raw: true });
            return d && { value: d.value, expires: typeof d.expires === 'number' ? 'a time' : d.expires };
          }
          case 'set': return kv.set(k, v);
          case 'setTtl': return kv.set(k, v, ttl);
          case 'delete': return kv.delete(k);
          case 'has': return kv.has(k);
          case 'getMany': return kv.getMany([k, k2, 'absent']);
          case 'setMany': return kv.setMany([{ key: k, value: v }, { key: k2, value: v2, ttl }]);
          case 'deleteMany': return kv.delete(i % 7 === 0 ? [] : [k, k2]);
          case 'hasMany': return kv.has([k, 'absent']);
          case 'clear': return i % 50 === 0 ? kv.clear() : kv.get(k);
        }
      };
      const [expected, actual] = [await run(map), await run(ours)];
      assert.ok(isDeepStrictEqual(actual, expected), `call ${i}: ${call} ${k} ${k2} ${inspect(v)}\n  Map:        ${inspect(expected, { depth: 4 })}\n  threadraft: ${inspect(actual, { depth: 4 })}`);
    }
  } finally {
    await cluster.stop();
  }
});
