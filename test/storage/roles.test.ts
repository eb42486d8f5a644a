// With a storage pool a node opens two stores on one directory: 'all' on its own thread (applies, snapshots,
// checkpoints, and the log while it follows) and 'log' in the pool thread (the synced log while it leads).
// 'state' (the state only) is what the node thread's store was until session 6.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { CHECKPOINT_FILE, DATA_FILE, LmdbStore, STATE_FILE } from '../../src/storage/lmdb.js';
import { Dispatcher } from '../../src/adaptor/dispatch.js';
import { loadStore } from '../../src/storage/open.js';
import { decodeLogId } from '../../src/storage/codec.js';
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

test("a 'log' store does not pin old pages of the state: the state file stays bounded while it is rewritten (a pool thread never yields to lmdb-js's read-snapshot release)", () => {
  const d = tempDir();
  const state = LmdbStore.open({ dir: d.dir, membership, role: 'state' });
  const log = LmdbStore.open({ dir: d.dir, membership, role: 'log' });
  try {
    const big = 'x'.repeat(8000);
    let index = 0;
    // Synchronously, as in a pool thread: no macrotask runs between these writes.
    for (let round = 0; round < 300; round++) {
      const es = Array.from({ length: 4 }, () => {
        index++;
        return cmdEntry(index, [cmd(3, index, [put(`key${index % 8}`, big)])]);
      });
      log.write({ entries: es, apply: [] });
      state.apply(es);
    }
    const bytes = statSync(join(d.dir, STATE_FILE)).size;
    assert.ok(bytes < 8 * 1024 * 1024, `state.mdb is ${bytes} bytes for 8 keys of 8 kB rewritten 1,200 times`);
  } finally {
    log.close();
    state.close();
    d.remove();
  }
});

test("a pool thread's read task does not pin the log: a follower's data.mdb stays bounded while its node thread appends and purges (the pool thread runs 'initial', then nothing)", async () => {
  const d = tempDir();
  // The pool thread's side, through the Dispatcher that runs its tasks; like that thread, this test never yields to
  // lmdb-js's macrotask that would release a read snapshot left open.
  await loadStore('lmdb'); // as the pool thread does before its first task
  const pool = new Dispatcher();
  assert.deepEqual(pool.handle({ op: 'open', params: { kind: 'lmdb', dir: d.dir, membership, role: 'log' } }).reply, { ok: true, v: undefined });
  const node = LmdbStore.open({ dir: d.dir, membership, role: 'all' });
  try {
    assert.equal(pool.handle({ op: 'initial' }).reply.ok, true);
    const big = 'x'.repeat(8000);
    let index = 0;
    // 400 rounds of 4 entries of 8 kB (12.8 MB of log), purged every 20 rounds to 8 entries behind the last.
    for (let round = 1; round <= 400; round++) {
      const es = Array.from({ length: 4 }, () => {
        index++;
        return cmdEntry(index, [cmd(3, index, [put(`key${index % 8}`, big)])]);
      });
      node.write({ entries: es, apply: es, ...(round % 20 === 0 ? { purgeTo: { index: index - 8, term: 1 } } : {}) });
    }
    assert.equal(node.logState().lastPurged?.index, index - 8);
    const bytes = statSync(join(d.dir, DATA_FILE)).size;
    assert.ok(bytes < 4 * 1024 * 1024, `data.mdb is ${bytes} bytes for a log of at most 88 entries of 8 kB`);
  } finally {
    pool.handle({ op: 'close' });
    node.close();
    d.remove();
  }
});

test('an asynchronous checkpoint (a hot copy) covers the applied index it started at, lets the log purge behind it, and a later synchronous one supersedes it', async () => {
  const d = tempDir();
  const state = LmdbStore.open({ dir: d.dir, membership, role: 'state' });
  const log = LmdbStore.open({ dir: d.dir, membership, role: 'log' });
  try {
    const es = [1, 2, 3, 4, 5, 6].map(entry);
    log.write({ entries: es, apply: [] });
    state.apply(es.slice(0, 4));
    const copying = state.checkpointAsync();
    state.apply(es.slice(4)); // applies go on while it copies
    assert.deepEqual(await copying, { index: 4, term: 1 });
    log.write({ entries: [], apply: [], purgeTo: { index: 4, term: 1 } });
    await rejectsWith(() => log.write({ entries: [], apply: [], purgeTo: { index: 6, term: 1 } }), 'INVALID_RANGE');
    // The copy is an LMDB environment of its own, applied at least to the point it recorded.
    const copy = open({ path: join(d.dir, CHECKPOINT_FILE), readOnly: true, compression: false, encoding: 'binary' });
    try {
      const applied = copy.openDB<Buffer, string>({ name: 'meta', encoding: 'binary', compression: false }).getBinary('applied');
      assert.ok(applied !== undefined && decodeLogId(applied).index >= 4, 'the checkpoint holds the applied index');
    } finally {
      await copy.close();
    }
    const superseded = state.checkpointAsync();
    assert.deepEqual(state.checkpoint(), { index: 6, term: 1 });
    assert.deepEqual(await superseded, { index: 6, term: 1 }, 'the later checkpoint stands');
    log.write({ entries: [], apply: [], purgeTo: { index: 6, term: 1 } });
    assert.deepEqual(log.logState().lastPurged, { index: 6, term: 1 });
  } finally {
    log.close();
    state.close();
    d.remove();
  }
});

test("the log written by the 'all' store while the node follows and by the 'log' store while it leads: refreshLog() keeps each one's mirrors", async () => {
  const d = tempDir();
  const node = LmdbStore.open({ dir: d.dir, membership, role: 'all' });
  const pool = LmdbStore.open({ dir: d.dir, membership, role: 'log' });
  try {
    pool.write({ entries: [1, 2, 3].map(entry), apply: [] }); // leading: through the pool
    node.refreshLog(); // following now: the node thread's store writes next
    node.write({ entries: [entry(4), entry(5)], apply: [] });
    node.apply([1, 2, 3, 4].map(entry));
    // A new leader's entries replace a conflicting suffix (§5.3): 5 with term 2.
    node.write({ entries: [cmdEntry(5, [cmd(3, 50, [put('k50', 'v50')])], 2)], apply: [] });
    assert.deepEqual(node.logState().last, { index: 5, term: 2 });
    // Stale, the pool's store would refuse entry 6 of term 2 (it still sees 3 as its last entry): refreshed, it appends.
    await rejectsWith(() => pool.write({ entries: [cmdEntry(6, [cmd(3, 60, [put('k60', 'v60')])], 2)], apply: [] }), 'INVALID_ENTRIES');
    pool.refreshLog();
    pool.write({ entries: [cmdEntry(6, [cmd(3, 60, [put('k60', 'v60')])], 2)], apply: [] });
    assert.deepEqual(pool.logState(), { lastPurged: undefined, last: { index: 6, term: 2 } });
    assert.deepEqual(pool.entries(5, 7).map((e) => [e.index, e.term]), [[5, 2], [6, 2]]);
    // A purge by one is seen by the other after a refresh.
    assert.deepEqual(node.checkpoint(), { index: 4, term: 1 });
    node.refreshLog();
    node.write({ entries: [], apply: [], purgeTo: { index: 3, term: 1 } });
    pool.refreshLog();
    assert.deepEqual(pool.logState(), { lastPurged: { index: 3, term: 1 }, last: { index: 6, term: 2 } });
  } finally {
    pool.close();
    node.close();
    d.remove();
  }
});

test('copies of the state a crash cut short are removed when the state\'s writer opens: its next checkpoints, numbered from 1 again, do not meet them', async () => {
  const d = tempDir();
  // Copies being made (.tmp), and a replaced checkpoint not yet unlinked (.old: putCheckpoint).
  const stale = [...[1, 2, 3].map((g) => `${CHECKPOINT_FILE}.${g}.tmp`), `${CHECKPOINT_FILE}.2.old`];
  let state = LmdbStore.open({ dir: d.dir, membership, role: 'all' });
  try {
    state.write({ entries: [1, 2].map(entry), apply: [] });
    state.close();
    // A process killed while its checkpoints copied the state (LMDB's copy creates its file with O_EXCL).
    for (const f of stale) writeFileSync(join(d.dir, f), 'a copy cut short');
    const log = LmdbStore.open({ dir: d.dir, membership, role: 'log' });
    log.close();
    assert.deepEqual(stale.filter((f) => readdirSync(d.dir).includes(f)), stale, "the log's writer leaves the state's files alone");
    state = LmdbStore.open({ dir: d.dir, membership, role: 'all' });
    const copies = (): string[] => readdirSync(d.dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.old'));
    assert.deepEqual(copies(), []);
    for (let i = 3; i <= 5; i++) {
      state.write({ entries: [entry(i)], apply: [entry(i - 2)] });
      assert.deepEqual(await state.checkpointAsync(), { index: i - 2, term: 1 });
    }
    // Each checkpoint replaced the one before; the replaced files are unlinked off this thread.
    for (let i = 0; i < 100 && copies().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(copies(), [], 'a replaced checkpoint was left behind');
  } finally {
    state.close();
    d.remove();
  }
});
