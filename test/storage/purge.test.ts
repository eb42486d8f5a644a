// The log's purge goal (docs/storage.md, "Purging the log"): a purge point that a checkpoint covers is kept in the
// log's meta, and each log transaction, of either store of the directory, removes entries toward it until their
// bytes reach what it appends (at least one entry): lmdb-js's free list then stays short. A point no checkpoint
// covers, and purge(), remove all at once; a purge point with nothing else to write removes a bounded amount.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LmdbStore, PURGE_ALONE_BYTES } from '../../src/storage/lmdb.js';
import type { Entry } from '../../src/raft/types.js';
import { raw, tempDir } from './helpers.js';

const membership = { voters: [1] };
/** Entries of `size` bytes of data: 1 to 5 in term 1, 6 and on in term 2. */
const sized = (index: number, size: number): Entry => raw(index, index <= 5 ? 1 : 2, size);
const KB10 = 10_000;

test('each log transaction purges toward the goal until the bytes it appends are matched (at least one entry); the goal survives a reopen', () => {
  const d = tempDir();
  let s = LmdbStore.open({ dir: d.dir, membership });
  try {
    const first = Array.from({ length: 10 }, (_, i) => sized(i + 1, KB10));
    s.write({ entries: first, apply: first });
    assert.deepEqual(s.checkpoint(), { index: 10, term: 2 });
    const goal = { index: 8, term: 2 };
    // An append of one entry's size: one entry goes.
    s.write({ entries: [sized(11, KB10)], apply: [], purgeTo: goal });
    assert.deepEqual(s.logState().lastPurged, { index: 1, term: 1 });
    // Three entries' size, and no purgeTo: the goal stays; three go, and the point has the removed entry's term.
    s.write({ entries: [sized(12, 3 * KB10)], apply: [] });
    assert.deepEqual(s.logState().lastPurged, { index: 4, term: 1 });
    // A hard state alone appends nothing: one entry still goes.
    s.write({ entries: [], hardState: { term: 2, vote: 1, commit: 10 }, apply: [] });
    assert.deepEqual(s.logState().lastPurged, { index: 5, term: 1 });
    assert.deepEqual(s.entries(6, 7).map((e) => e.index), [6], 'entries past the point are still there');
    // Reopened: the log starts where the purge got to, and the goal is still there.
    s.close();
    s = LmdbStore.open({ dir: d.dir, membership });
    const init = s.initialState();
    assert.deepEqual([init.snapshot?.index, init.snapshot?.term, init.entries[0]?.index], [5, 1, 6]);
    s.write({ entries: [sized(13, 20 * KB10)], apply: [] });
    assert.deepEqual(s.logState().lastPurged, goal, 'a large append reaches the goal and never passes it');
    s.write({ entries: [sized(14, 20 * KB10)], apply: [] });
    assert.deepEqual(s.logState(), { lastPurged: goal, last: { index: 14, term: 2 } });
    // A purge point alone (no entries, no hard state) sets a new goal, and its own transaction removes up to
    // PURGE_ALONE_BYTES toward it: here entries 9 to 13 (about 0.25 MB) go at once.
    const more = [11, 12, 13, 14].map((i) => sized(i, 100));
    s.write({ entries: [], apply: more });
    s.checkpoint();
    s.write({ entries: [], apply: [], purgeTo: { index: 13, term: 2 } });
    assert.deepEqual(s.logState(), { lastPurged: { index: 13, term: 2 }, last: { index: 14, term: 2 } });
  } finally {
    s.close();
    d.remove();
  }
});

test('a purge point alone removes at most PURGE_ALONE_BYTES; the same point again removes more; purge() removes all', () => {
  const d = tempDir();
  const s = LmdbStore.open({ dir: d.dir, membership });
  try {
    const big = Math.ceil(PURGE_ALONE_BYTES / 3); // three of them pass the bound: three go, the fourth stays
    const es = Array.from({ length: 10 }, (_, i) => sized(i + 1, big));
    s.write({ entries: es, apply: es });
    s.checkpoint();
    const to = { index: 9, term: 2 };
    s.write({ entries: [], apply: [], purgeTo: to });
    assert.deepEqual(s.logState().lastPurged, { index: 3, term: 1 });
    s.write({ entries: [], apply: [], purgeTo: to });
    assert.deepEqual(s.logState().lastPurged, { index: 6, term: 2 });
    s.purge(to);
    assert.deepEqual(s.logState(), { lastPurged: to, last: { index: 10, term: 2 } });
  } finally {
    s.close();
    d.remove();
  }
});

test('a purge point that no checkpoint covers: a checkpoint is taken and the log purged to it at once', () => {
  const d = tempDir();
  const s = LmdbStore.open({ dir: d.dir, membership });
  try {
    const es = Array.from({ length: 6 }, (_, i) => sized(i + 1, KB10));
    s.write({ entries: es, apply: es });
    s.write({ entries: [sized(7, 100)], apply: [], purgeTo: { index: 6, term: 2 } });
    assert.deepEqual(s.logState(), { lastPurged: { index: 6, term: 2 }, last: { index: 7, term: 2 } });
    assert.equal(s.initialState().snapshot?.index, 6);
  } finally {
    s.close();
    d.remove();
  }
});

test("the goal set by one store of a directory is pursued by the other's log writes (a node's thread and its pool)", () => {
  const d = tempDir();
  const node = LmdbStore.open({ dir: d.dir, membership });
  const pool = LmdbStore.open({ dir: d.dir, membership, role: 'log' });
  try {
    const es = Array.from({ length: 6 }, (_, i) => sized(i + 1, KB10));
    node.write({ entries: es, apply: es });
    node.checkpoint();
    pool.refreshLog();
    pool.write({ entries: [sized(7, KB10)], apply: [], purgeTo: { index: 5, term: 1 } });
    assert.deepEqual(pool.logState().lastPurged, { index: 1, term: 1 });
    node.refreshLog();
    node.write({ entries: [sized(8, 2 * KB10)], apply: [] });
    assert.deepEqual(node.logState().lastPurged, { index: 3, term: 1 });
    pool.refreshLog();
    pool.write({ entries: [sized(9, 5 * KB10)], apply: [] });
    assert.deepEqual(pool.logState().lastPurged, { index: 5, term: 1 });
  } finally {
    pool.close();
    node.close();
    d.remove();
  }
});
