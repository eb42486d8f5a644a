// The free-space check before state transactions (src/storage/space.ts): the state is written through a shared
// map, where a full disk is a SIGBUS, so a transaction is refused with NO_SPACE while less than the reserve is free.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError, StorageErrorCode } from '../../src/storage/errors.js';
import { LmdbStore } from '../../src/storage/lmdb.js';
import { SPACE_AMPLE_BYTES, SPACE_RECHECK_MS, SPACE_RESERVE_BYTES, SPACE_SLOW_RECHECK_MS, SpaceGuard } from '../../src/storage/space.js';
import { cmd, cmdEntry, put, rejectsWith, tempDir } from './helpers.js';

const MiB = 1024 * 1024;

function guard(free: number): { g: SpaceGuard; set(b: number): void; advance(ms: number): void; reads(): number } {
  let bytes = free;
  let now = 1000;
  let reads = 0;
  const g = new SpaceGuard('/some/dir', () => (reads++, bytes), () => now);
  return { g, set: (b) => (bytes = b), advance: (ms) => (now += ms), reads: () => reads };
}

test('SpaceGuard refuses under the reserve with NO_SPACE, and reads the space again before the next transaction', () => {
  const s = guard(SPACE_RESERVE_BYTES - 1);
  assert.throws(() => s.g.check('state-machine', 'apply'), (e: unknown) => e instanceof StorageError && e.code === StorageErrorCode.NO_SPACE && e.subject === 'state-machine' && e.verb === 'apply');
  s.set(SPACE_RESERVE_BYTES);
  s.g.check('state-machine', 'apply'); // space came back: no wait for an interval
  assert.equal(s.reads(), 2);
});

test('SpaceGuard reads the space at most once per interval: 50 ms when short, 1 s when ample', () => {
  const s = guard(SPACE_RESERVE_BYTES + 10 * MiB);
  s.g.check('state-machine', 'apply');
  s.set(0);
  s.advance(SPACE_RECHECK_MS - 1);
  s.g.check('state-machine', 'apply'); // within the interval: not read
  assert.equal(s.reads(), 1);
  s.advance(1);
  assert.throws(() => s.g.check('state-machine', 'apply'), (e: unknown) => e instanceof StorageError && e.code === 'NO_SPACE');
  assert.equal(s.reads(), 2);

  const a = guard(SPACE_AMPLE_BYTES);
  a.g.check('snapshot', 'install');
  a.set(0);
  a.advance(SPACE_SLOW_RECHECK_MS - 1);
  a.g.check('snapshot', 'install');
  assert.equal(a.reads(), 1);
  a.advance(1);
  assert.throws(() => a.g.check('snapshot', 'install'), (e: unknown) => e instanceof StorageError && e.code === 'NO_SPACE');
});

test('SpaceGuard turns a failing statfs into a StorageError', () => {
  const g = new SpaceGuard('/no/such/dir', () => {
    throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
  });
  assert.throws(() => g.check('state-machine', 'apply'), (e: unknown) => e instanceof StorageError && e.code === StorageErrorCode.IO);
});

test('SpaceGuard reads the real file system by default', () => {
  const d = tempDir();
  try {
    new SpaceGuard(d.dir).check('state-machine', 'apply'); // the test machine has more than the reserve free
  } finally {
    d.remove();
  }
});

test('an LMDB store refuses to apply with NO_SPACE, writes nothing, and applies once space is back', async () => {
  const d = tempDir();
  let free = 100 * MiB;
  const s = LmdbStore.open({ dir: d.dir, membership: { voters: [1] }, freeBytes: () => free });
  try {
    s.write({ entries: [cmdEntry(1, [cmd(1, 1, [put('a', '1')])])], apply: [] });
    s.write({ entries: [], apply: [cmdEntry(1, [cmd(1, 1, [put('a', '1')])])] });
    assert.equal(s.get(Buffer.from('a')), '1');
    free = SPACE_RESERVE_BYTES - 1;
    await new Promise((r) => setTimeout(r, SPACE_RECHECK_MS + 10));
    s.write({ entries: [cmdEntry(2, [cmd(1, 2, [put('a', '2')])])], apply: [] });
    await rejectsWith(() => s.write({ entries: [], apply: [cmdEntry(2, [cmd(1, 2, [put('a', '2')])])] }), 'NO_SPACE');
    assert.equal(s.appliedState().lastApplied?.index, 1);
    assert.equal(s.get(Buffer.from('a')), '1');
    free = SPACE_RESERVE_BYTES;
    s.write({ entries: [], apply: [cmdEntry(2, [cmd(1, 2, [put('a', '2')])])] });
    assert.equal(s.appliedState().lastApplied?.index, 2);
    assert.equal(s.get(Buffer.from('a')), '2');
  } finally {
    s.close();
    d.remove();
  }
});
