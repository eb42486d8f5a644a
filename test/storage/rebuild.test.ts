// The state machine environment is written without fsync (the log is the durability point). After an
// unclean stop on an earlier boot (a machine crash) its pages may be lost or torn, so it is rebuilt from
// its last checkpoint and the log after it; after a crash of the process alone (same boot) it is trusted.
// A child process leaves the store unclean; the parent stands for the next boot with THREADRAFT_BOOT_ID.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { LmdbStore, STATE_FILE, bootId } from '../../src/storage/lmdb.js';
import { k, tempDir } from './helpers.js';
import { REBUILD, rebuildEntry } from './rebuild-child.js';

const CHILD = fileURLToPath(new URL('./rebuild-child.js', import.meta.url));

function uncleanChild(dir: string, boot: string): void {
  const r = spawnSync(process.execPath, [CHILD, dir], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, THREADRAFT_BOOT_ID: boot } });
  assert.equal(r.stdout.trim(), 'done', r.stderr);
}

function withBoot<T>(boot: string, fn: () => T): T {
  const before = process.env['THREADRAFT_BOOT_ID'];
  process.env['THREADRAFT_BOOT_ID'] = boot;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env['THREADRAFT_BOOT_ID'];
    else process.env['THREADRAFT_BOOT_ID'] = before;
  }
}

const value = (s: LmdbStore, key: string): string | undefined => {
  const v = s.get(k(key));
  return v === undefined ? undefined : String(v);
};

test('after an unclean stop on another boot, a torn state is replaced by its checkpoint and the log replays the rest', () => {
  const d = tempDir();
  try {
    uncleanChild(d.dir, 'boot-A');
    // The machine crashed: the unsynced state file is garbage now.
    writeFileSync(join(d.dir, STATE_FILE), Buffer.alloc(64 * 1024, 0xab));
    const s = withBoot('boot-B', () => LmdbStore.open({ dir: d.dir, membership: { voters: [1] } }));
    try {
      assert.equal(s.rebuiltAtOpen, true);
      assert.equal(s.appliedState().lastApplied?.index, REBUILD.checkpointAt, 'the checkpoint taken at the purge');
      assert.equal(value(s, `k${REBUILD.checkpointAt}`), `v${REBUILD.checkpointAt}`);
      assert.equal(value(s, 'k8'), undefined, 'applied after the checkpoint: not in it');
      const init = s.initialState();
      assert.equal(init.snapshot?.index, REBUILD.purgeTo);
      assert.deepEqual(init.entries.map((e) => e.index), [6, 7, 8, 9, 10], 'the log from the purge point on');
      // The host re-applies the committed log after the applied index.
      s.apply(Array.from({ length: REBUILD.entries - REBUILD.checkpointAt }, (_, i) => rebuildEntry(REBUILD.checkpointAt + 1 + i)));
      for (let i = 1; i <= REBUILD.entries; i++) assert.equal(value(s, `k${i}`), `v${i}`);
    } finally {
      s.close();
    }
    // Closed cleanly: reopened on yet another boot, nothing is rebuilt.
    const again = withBoot('boot-C', () => LmdbStore.open({ dir: d.dir, membership: { voters: [1] } }));
    try {
      assert.equal(again.rebuiltAtOpen, false);
      assert.equal(again.appliedState().lastApplied?.index, REBUILD.entries);
    } finally {
      again.close();
    }
  } finally {
    d.remove();
  }
});

test('a state whose meta pages are damaged is rebuilt on the same boot too: from its checkpoint and the log after it', () => {
  const d = tempDir();
  try {
    uncleanChild(d.dir, bootId());
    writeFileSync(join(d.dir, STATE_FILE), Buffer.alloc(64 * 1024, 0xab));
    const s = LmdbStore.open({ dir: d.dir, membership: { voters: [1] } });
    try {
      assert.equal(s.rebuiltAtOpen, true);
      assert.equal(s.appliedState().lastApplied?.index, REBUILD.checkpointAt, 'the checkpoint taken at the purge');
      s.apply(Array.from({ length: REBUILD.entries - REBUILD.checkpointAt }, (_, i) => rebuildEntry(REBUILD.checkpointAt + 1 + i)));
      for (let i = 1; i <= REBUILD.entries; i++) assert.equal(value(s, `k${i}`), `v${i}`);
    } finally {
      s.close();
    }
  } finally {
    d.remove();
  }
});

test('after a crash of the process alone (same boot), the state is kept as it was: every commit survived in the page cache', () => {
  const d = tempDir();
  try {
    const boot = bootId();
    uncleanChild(d.dir, boot);
    const s = LmdbStore.open({ dir: d.dir, membership: { voters: [1] } });
    try {
      assert.equal(s.rebuiltAtOpen, false);
      assert.equal(s.appliedState().lastApplied?.index, REBUILD.entries);
      for (let i = 1; i <= REBUILD.entries; i++) assert.equal(value(s, `k${i}`), `v${i}`);
    } finally {
      s.close();
    }
  } finally {
    d.remove();
  }
});
