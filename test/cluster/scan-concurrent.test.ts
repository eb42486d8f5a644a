// scan() while writes go on (docs/cache.md, "Reads"; docs/resp.md, SCAN): a key present for the whole scan comes
// back exactly once, keys come in order (each page continues after the last key returned), and no key comes twice,
// whatever is written, deleted or expired around them meanwhile. Both storages, both directions, every
// consistency, pages small enough that writes land between them; the same through RESP SCAN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, type Consistency, type ScanRangeInput } from '../../src/index.js';
import { Prng } from '../sim/prng.js';
import { Redis } from 'ioredis';
import { serve } from '../resp/helpers.js';

const STABLE = Array.from({ length: 120 }, (_, i) => `k:${String(i * 10).padStart(4, '0')}`);
/** Keys between and around the stable ones, written and deleted while the scans run. */
const churnKey = (r: Prng): string => `k:${String(r.int(1200)).padStart(4, '0')}${r.chance(0.5) ? 'x' : ''}`;

/** Writes until `done`: puts and deletes of churn keys, short TTLs, rewrites of stable keys (never their removal). */
async function churn(c: Cluster, r: Prng, done: () => boolean): Promise<number> {
  let n = 0;
  while (!done() && n < 20_000) {
    const stable = new Set(STABLE);
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 8; i++) {
      const k = churnKey(r);
      if (stable.has(k)) writes.push(c.put(k, `v${n}`));
      else if (r.chance(0.4)) writes.push(c.delete(k));
      else writes.push(c.put(k, 'c', r.chance(0.3) ? { ttlMs: 1 + r.int(20) } : {}));
      n++;
    }
    await Promise.all(writes);
  }
  return n;
}

function checkScan(keys: string[], expected: string[], reverse: boolean, what: string): void {
  const sorted = [...keys].sort();
  if (reverse) sorted.reverse();
  assert.deepEqual(keys, sorted, `${what}: keys in order`);
  assert.equal(new Set(keys).size, keys.length, `${what}: no key twice`);
  const seen = new Set(keys);
  const missing = expected.filter((k) => !seen.has(k));
  assert.deepEqual(missing, [], `${what}: every key present throughout is returned`);
}

for (const storage of ['memory', 'lmdb'] as const) {
  test(`${storage}: scan pages during writes return each key present throughout exactly once, in order`, { timeout: 120_000 }, async () => {
    const c = await Cluster.start({ nodes: 3, storage });
    try {
      for (const k of STABLE) await c.put(k, 'stable');
      const r = new Prng(7);
      let scanning = true;
      const writer = churn(c, r, () => !scanning);
      // The writer stops, and is waited for, before the cluster does, whatever the scans found.
      const scans = (async () => {
        for (const consistency of ['linearizable', 'lease', 'stale'] as Consistency[]) {
          for (const reverse of [false, true]) {
            for (const range of [{ prefix: 'k:' }, { start: 'k:0005', end: 'k:9' }] as ScanRangeInput[]) {
              const keys: string[] = [];
              let cursor: string | undefined;
              let pages = 0;
              do {
                const page = await c.scan(range, { limit: 7, reverse, consistency, ...(cursor === undefined ? {} : { cursor }) });
                keys.push(...page.items.map(([k]) => k as string));
                cursor = page.cursor;
                pages++;
              } while (cursor !== undefined && pages < 1000);
              const expected = 'prefix' in range ? STABLE : STABLE.filter((k) => k >= 'k:0005' && k < 'k:9');
              checkScan(keys, expected, reverse, `${consistency} ${reverse ? 'reverse' : 'forward'} ${JSON.stringify(range)}`);
            }
          }
        }
      })().finally(() => {
        scanning = false;
      });
      const [scanned, written] = await Promise.allSettled([scans, writer]);
      if (scanned.status === 'rejected') throw scanned.reason;
      if (written.status === 'rejected') throw written.reason;
      assert.ok(written.value > 0, 'writes went on during the scans');
    } finally {
      await c.stop();
    }
  });
}

test('RESP SCAN during writes returns each key present throughout exactly once', { timeout: 120_000 }, async () => {
  const s = await serve();
  const r = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await r.connect();
    for (const k of STABLE) await s.cluster.put(k, 'stable');
    let scanning = true;
    const writer = churn(s.cluster, new Prng(11), () => !scanning);
    const scans = (async () => {
      for (const match of ['*', 'k:*', 'k:0*']) {
        const keys: string[] = [];
        let cursor = '0';
        let calls = 0;
        do {
          const [next, page] = (await r.scan(cursor, 'MATCH', match, 'COUNT', '9')) as [string, string[]];
          keys.push(...page);
          cursor = next;
          calls++;
        } while (cursor !== '0' && calls < 1000);
        const expect = STABLE.filter((k) => match === '*' || match === 'k:*' || k.startsWith('k:0'));
        assert.equal(new Set(keys).size, keys.length, `${match}: no key twice`);
        const seen = new Set(keys);
        assert.deepEqual(expect.filter((k) => !seen.has(k)), [], `${match}: every key present throughout is returned`);
      }
    })().finally(() => {
      scanning = false;
    });
    const [scanned, written] = await Promise.allSettled([scans, writer]);
    if (scanned.status === 'rejected') throw scanned.reason;
    if (written.status === 'rejected') throw written.reason;
    assert.ok(written.value > 0);
  } finally {
    r.disconnect();
    await s.stop();
  }
});
