// Damaged environment files. lmdb-js takes the whole process down (SIGSEGV) when LMDB refuses to open a file, so
// the store checks the meta pages first (src/storage/env-header.ts): a damaged log environment is CORRUPT, a
// damaged state environment is rebuilt from its checkpoint and the log. If the check were missing, this file's
// process would die at the first open of a damaged file and its tests would fail with it.
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { envHeaderProblem } from '../../src/storage/env-header.js';
import { open, type Database, type RootDatabase } from 'lmdb';
import { logKey, pack, unpack } from '../../src/storage/codec.js';
import { DATA_FILE, LmdbStore, META, STATE_FILE } from '../../src/storage/lmdb.js';
import { StorageErrorCode } from '../../src/storage/errors.js';
import { cmd, cmdEntry, k, put, rejectsWith, tempDir } from './helpers.js';

const membership = { voters: [1] };

/** A store with five applied puts, closed cleanly; returns the bytes of its log environment. */
function filled(dir: string): Buffer {
  const s = LmdbStore.open({ dir, membership });
  const es = Array.from({ length: 5 }, (_, i) => cmdEntry(i + 1, [cmd(7, i + 1, [put(`k${i + 1}`, `v${i + 1}`)])]));
  s.write({ entries: es, apply: es });
  s.close();
  return readFileSync(join(dir, DATA_FILE));
}

/** The ways a file's start can be wrong, each with the reason expected; `b` is a sound environment's bytes. */
const damages: Array<[string, (b: Buffer) => Buffer, RegExp]> = [
  ['64 KiB of 0xab (its flags have the meta bit)', () => Buffer.alloc(64 * 1024, 0xab), /meta page 0: magic 0xabababab/],
  ['64 KiB of zeros (a file the file system gave back empty)', () => Buffer.alloc(64 * 1024), /meta page 0: not a meta page/],
  ['too short for the first meta page', (b) => b.subarray(0, 100), /meta page 0: the file ends at byte 100/],
  ['cut after the first page', (b) => b.subarray(0, 4096), /meta page 1: the file ends at byte 4096/],
  ['another magic', (b) => { const c = Buffer.from(b); c.writeUInt32LE(0x12345678, 24); return c; }, /meta page 0: magic 0x12345678/],
  ['another data version', (b) => { const c = Buffer.from(b); c.writeUInt32LE(3, 28); return c; }, /meta page 0: LMDB data version 3/],
  ['a page size that is not a power of two', (b) => { const c = Buffer.from(b); c.writeUInt32LE(3000, 48); return c; }, /page size 3000 is not a power of two/],
  ['a second meta page overwritten', (b) => { const c = Buffer.from(b); c.fill(0, 4096, 8192); return c; }, /meta page 1: not a meta page/],
];

test('envHeaderProblem: nothing to say of an absent, an empty or a sound file; a reason for each damage', () => {
  const d = tempDir();
  try {
    const path = join(d.dir, DATA_FILE);
    assert.equal(envHeaderProblem(path), undefined, 'absent: LMDB creates it');
    writeFileSync(path, Buffer.alloc(0));
    assert.equal(envHeaderProblem(path), undefined, 'empty: LMDB creates it');
    const sound = filled(join(d.dir, 'store'));
    writeFileSync(path, sound);
    assert.equal(envHeaderProblem(path), undefined, 'a sound environment');
    for (const [what, damage, reason] of damages) {
      writeFileSync(path, damage(sound));
      assert.match(envHeaderProblem(path) ?? 'no problem found', reason, what);
    }
  } finally {
    d.remove();
  }
});

test('a damaged log environment is CORRUPT, the directory is let go, and the store opens once the file is sound', async () => {
  const d = tempDir();
  try {
    const sound = filled(d.dir);
    const path = join(d.dir, DATA_FILE);
    for (const [what, damage] of damages) {
      writeFileSync(path, damage(sound));
      const err = await rejectsWith(() => LmdbStore.open({ dir: d.dir, membership }), StorageErrorCode.CORRUPT);
      assert.match(err.message, new RegExp(`${DATA_FILE} is damaged`), what);
      assert.equal(err.subject, 'log');
    }
    writeFileSync(path, sound);
    const s = LmdbStore.open({ dir: d.dir, membership });
    try {
      assert.equal(String(s.get(k('k5'))), 'v5', 'nothing lost: the lock was released and the log is whole');
    } finally {
      s.close();
    }
  } finally {
    d.remove();
  }
});

test('a damaged state environment is rebuilt from the log (no checkpoint yet: the log replays from index 1)', () => {
  const d = tempDir();
  try {
    filled(d.dir);
    const state = join(d.dir, STATE_FILE);
    truncateSync(state, 0);
    writeFileSync(state, Buffer.alloc(64 * 1024));
    const s = LmdbStore.open({ dir: d.dir, membership });
    try {
      assert.equal(s.rebuiltAtOpen, true);
      assert.equal(s.appliedState().lastApplied, undefined, 'an empty state: the host re-applies the committed log');
      assert.deepEqual(s.initialState().entries.map((e) => e.index), [1, 2, 3, 4, 5], 'the whole log is there to replay');
    } finally {
      s.close();
    }
  } finally {
    d.remove();
  }
});

/** The log environment opened as the store opens it, for a test to change records behind its back. */
function rawLog(dir: string): { env: RootDatabase; meta: Database<Buffer, string>; log: Database<Buffer, Buffer>; close: () => Promise<void> } {
  const env = open({ path: join(dir, DATA_FILE), maxDbs: 4, compression: false, encoding: 'binary' });
  const meta = env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary', compression: false });
  const log = env.openDB<Buffer, Buffer>({ name: 'log', keyEncoding: 'binary', encoding: 'binary', compression: false });
  return { env, meta, log, close: () => env.close() };
}

test('a log record damaged inside LMDB\'s pages is CORRUPT where it is read (a node reads its whole log at each start), and so is a hole in the log', async () => {
  const d = tempDir();
  try {
    const s = LmdbStore.open({ dir: d.dir, membership });
    const es = Array.from({ length: 5 }, (_, i) => cmdEntry(i + 1, [cmd(7, i + 1, [put(`k${i + 1}`, `needle-${i + 1}-value`)])]));
    s.write({ entries: es, apply: es });
    s.close();
    // One byte of entry 3's value changed: still a well-formed record and command, so only the checksum sees it.
    const path = join(d.dir, DATA_FILE);
    const sound = readFileSync(path);
    const bytes = Buffer.from(sound);
    let at = bytes.indexOf('needle-3-value');
    assert.ok(at >= 0);
    for (; at >= 0; at = bytes.indexOf('needle-3-value', at + 1)) bytes[at] = 'N'.charCodeAt(0); // every copy LMDB left
    writeFileSync(path, bytes);
    const damaged = LmdbStore.open({ dir: d.dir, membership });
    try {
      for (const read of [() => damaged.initialState(), () => damaged.entries(2, 5)]) {
        const err = await rejectsWith(async () => read(), StorageErrorCode.CORRUPT);
        assert.match(err.message, /log entry 3 is damaged: checksum mismatch/);
        assert.equal(err.subject, 'log');
      }
      assert.deepEqual(damaged.entries(4, 6).map((e) => e.index), [4, 5], 'the records around it are sound');
    } finally {
      damaged.close();
    }

    writeFileSync(path, sound);
    const r = rawLog(d.dir);
    await r.log.remove(logKey(3)); // records a damaged branch page would hide
    await r.close();
    const holed = LmdbStore.open({ dir: d.dir, membership });
    try {
      const err = await rejectsWith(async () => holed.initialState(), StorageErrorCode.CORRUPT);
      assert.match(err.message, /log entries 3 to 3 are missing/);
      await rejectsWith(async () => holed.entries(1, 6), StorageErrorCode.CORRUPT);
    } finally {
      holed.close();
    }
  } finally {
    d.remove();
  }
});

test('log records from before checksums ([term, type, data]) are read below the store\'s checksumsFrom, and CORRUPT from it on', async () => {
  const d = tempDir();
  try {
    filled(d.dir);
    const r = rawLog(d.dir);
    assert.equal(unpack(r.meta.getBinary(META.checksumsFrom)!), 1, 'a new store: every record carries one');
    for (let i = 1; i <= 5; i++) {
      const [term, type, data] = unpack<[number, number, Uint8Array]>(r.log.getBinary(logKey(i))!);
      await r.log.put(logKey(i), pack([term, type, data])); // as an older version wrote them
    }
    await r.meta.put(META.checksumsFrom, pack(6)); // as its first open by this code records
    await r.close();
    const older = LmdbStore.open({ dir: d.dir, membership });
    try {
      assert.deepEqual(older.initialState().entries.map((e) => e.index), [1, 2, 3, 4, 5]);
      const more = [cmdEntry(6, [cmd(7, 6, [put('k6', 'v6')])])];
      older.write({ entries: more, apply: more });
      assert.deepEqual(older.entries(5, 7).map((e) => e.index), [5, 6]);
    } finally {
      older.close();
    }
    const r2 = rawLog(d.dir);
    await r2.meta.put(META.checksumsFrom, pack(5));
    await r2.close();
    const strict = LmdbStore.open({ dir: d.dir, membership });
    try {
      const err = await rejectsWith(async () => strict.initialState(), StorageErrorCode.CORRUPT);
      assert.match(err.message, /log entry 5 is damaged: no checksum/);
    } finally {
      strict.close();
    }
  } finally {
    d.remove();
  }
});
