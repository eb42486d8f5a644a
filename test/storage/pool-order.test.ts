// The host keeps several Ready writes in flight on the pool (asynchronous storage writes): the pool must run
// tasks in the order they were submitted, or a later append overtakes an earlier one (a log gap, a node dead).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openNodeStorage } from '../../src/adaptor/index.js';
import { entries, tempDir } from './helpers.js';

test('pool writes submitted without waiting run in submission order (log appends never overtake each other)', async () => {
  const d = tempDir();
  const s = await openNodeStorage({ kind: 'lmdb', pool: 'piscina', dir: d.dir, membership: { voters: [1] } });
  try {
    for (let round = 0; round < 20; round++) {
      const base = round * 50;
      const pending: Promise<unknown>[] = [];
      for (let i = 1; i <= 50; i++) {
        pending.push(s.write({ entries: entries(base + i, base + i), apply: [] }));
        // Reads in between, as the host's snapshot and read tasks are: the queue holds mixed tasks.
        if (i % 7 === 0) pending.push(s.logReader.getLogState());
      }
      await Promise.all(pending);
    }
    assert.deepEqual((await s.logReader.getLogState()).last, { index: 1000, term: 1 });
  } finally {
    await s.close();
    d.remove();
  }
});
