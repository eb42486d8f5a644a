// With a storage pool a node opens two stores on one directory: 'state' on its own thread (applies,
// snapshots, checkpoints) and 'log' in the pool thread (the synced log). Each environment has one writer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LmdbStore } from '../../src/storage/lmdb.js';
import { cmd, cmdEntry, k, put, rejectsWith, tempDir } from './helpers.js';

const membership = { voters: [1] };
const entry = (i: number): ReturnType<typeof cmdEntry> => cmdEntry(i, [cmd(3, i, [put(`k${i}`, `v${i}`)])]);

test("a 'state' and a 'log' store share a directory: each writes its own environment only, and a purge needs the state's checkpoint", async () => {
  const d = tempDir();
  const state = LmdbStore.open({ dir: d.dir, membership, role: 'state' });
  const log = LmdbStore.open({ dir: d.dir, membership, role: 'log' });
  try {
    const es = [1, 2, 3, 4].map(entry);
    log.write({ entries: es, apply: [] });
    await rejectsWith(() => log.write({ entries: [], apply: es }), 'IO'); // the log's writer does not apply
    await rejectsWith(() => state.write({ entries: [entry(5)], apply: [] }), 'IO'); // the state's writer does not append
    state.apply(es.slice(0, 3));
    assert.equal(String(state.get(k('k3'))), 'v3');
    // Applied to 3, but no checkpoint yet: the log may not be purged.
    await rejectsWith(() => log.write({ entries: [], apply: [], purgeTo: { index: 2, term: 1 } }), 'INVALID_RANGE');
    assert.deepEqual(state.checkpoint(), { index: 3, term: 1 });
    log.write({ entries: [], apply: [], purgeTo: { index: 2, term: 1 } });
    await rejectsWith(() => log.write({ entries: [], apply: [], purgeTo: { index: 4, term: 1 } }), 'INVALID_RANGE'); // past the applied index
    assert.deepEqual(log.logState(), { lastPurged: { index: 2, term: 1 }, last: { index: 4, term: 1 } });
    assert.equal(log.initialState().applied, 3, "the log store reads the state's applied index");
  } finally {
    log.close();
    state.close();
    d.remove();
  }
});
