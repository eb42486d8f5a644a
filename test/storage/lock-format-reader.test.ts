// Bad input at open (a directory another live process holds, an unknown format version), stale lock
// takeover, and the main-thread reader seeing writes committed on another thread at once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { test } from 'node:test';
import { open } from 'lmdb';
import { pack } from 'msgpackr';
import { openNodeStorage } from '../../src/adaptor/index.js';
import { DATA_FILE, LmdbStateReader, LmdbStore } from '../../src/storage/lmdb.js';
import { acquireClusterLock, CLUSTER_LOCK_FILE, LOCK_FILE } from '../../src/storage/lock.js';
import { cmd, cmdEntry, k, put, rejectsWith, tempDir } from './helpers.js';

const LOCK_CHILD = fileURLToPath(new URL('./lock-child.js', import.meta.url));
const membership = { voters: [1] };

function holdDir(dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOCK_CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve(child);
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`lock child exited early (${String(code)})`)));
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

test('a directory held by another live process is DIR_LOCKED; once that process is dead its stale lock is taken over', { timeout: 30_000 }, async () => {
  const d = tempDir();
  const child = await holdDir(d.dir);
  try {
    assert.match(readFileSync(join(d.dir, LOCK_FILE), 'utf8').trim(), new RegExp(`^${child.pid} start=\\d+$`));
    for (const pool of ['inline', 'piscina'] as const) {
      const err = await rejectsWith(openNodeStorage({ kind: 'lmdb', pool, dir: d.dir, membership }), 'DIR_LOCKED');
      assert.equal(err.subject, 'store');
      assert.equal(err.verb, 'open');
    }
    await rejectsWith(() => LmdbStateReader.open(d.dir), 'DIR_LOCKED');
  } finally {
    await kill(child);
  }
  const s = await openNodeStorage({ kind: 'lmdb', pool: 'inline', dir: d.dir, membership });
  assert.match(readFileSync(join(d.dir, LOCK_FILE), 'utf8').trim(), new RegExp(`^${process.pid} start=\\d+$`));
  await s.close();
  assert.equal(existsSync(join(d.dir, LOCK_FILE)), false, 'closing the owner removes the lock file');
  d.remove();
});

test('a lock whose pid now names another process (it started at another time: a container\'s pid 1 after a restart) is stale and taken over', async () => {
  const d = tempDir();
  try {
    // The parent (a live process) and this process itself, each with a start time they do not have.
    for (const pid of [process.ppid, process.pid]) {
      writeFileSync(join(d.dir, LOCK_FILE), `${pid} start=1\n`);
      const s = await openNodeStorage({ kind: 'lmdb', pool: 'inline', dir: d.dir, membership });
      assert.match(readFileSync(join(d.dir, LOCK_FILE), 'utf8').trim(), new RegExp(`^${process.pid} start=\\d+$`));
      await s.close();
      writeFileSync(join(d.dir, CLUSTER_LOCK_FILE), `${pid} 0 token start=1\n`);
      acquireClusterLock(d.dir).release();
      assert.equal(existsSync(join(d.dir, CLUSTER_LOCK_FILE)), false);
    }
    // Without a start time (a file of an earlier version), a live pid still holds it.
    writeFileSync(join(d.dir, CLUSTER_LOCK_FILE), `${process.ppid} 0 token\n`);
    assert.throws(() => acquireClusterLock(d.dir), /DIR_LOCKED: .* is in use by live process/);
    writeFileSync(join(d.dir, LOCK_FILE), `${process.ppid}\n`);
    await rejectsWith(openNodeStorage({ kind: 'lmdb', pool: 'inline', dir: d.dir, membership }), 'DIR_LOCKED');
  } finally {
    d.remove();
  }
});

test('threads of one process share the directory: node store, pool thread and main-thread reader together', async () => {
  const d = tempDir();
  const s = await openNodeStorage({ kind: 'lmdb', pool: 'piscina', dir: d.dir, membership });
  const r = LmdbStateReader.open(d.dir);
  const inline = LmdbStore.open({ dir: d.dir, membership });
  try {
    const e = cmdEntry(1, [cmd(1, 1, [put('shared', 'yes')])]);
    await s.write({ entries: [e], apply: [e] });
    assert.equal(r.get(k('shared')), 'yes');
    assert.equal(r.appliedIndex(), 1);
  } finally {
    inline.close();
    r.close();
    await s.close();
    d.remove();
  }
});

test('an unknown format version is FORMAT_VERSION and the directory is left unlocked', async () => {
  const d = tempDir();
  (await openNodeStorage({ kind: 'lmdb', pool: 'inline', dir: d.dir, membership })).close();
  const env = open({ path: join(d.dir, DATA_FILE), maxDbs: 8 });
  const meta = env.openDB({ name: 'meta', encoding: 'binary' });
  await meta.put('format', pack(99));
  await env.close();
  for (const pool of ['inline', 'piscina'] as const) {
    const err = await rejectsWith(openNodeStorage({ kind: 'lmdb', pool, dir: d.dir, membership }), 'FORMAT_VERSION');
    assert.equal(err.verb, 'open');
  }
  await rejectsWith(() => LmdbStateReader.open(d.dir), 'FORMAT_VERSION');
  assert.equal(existsSync(join(d.dir, LOCK_FILE)), false);
  d.remove();
});

test('the main-thread reader sees a write committed on another thread immediately, in the same event-loop turn', { timeout: 30_000 }, async () => {
  const d = tempDir();
  const storageUrl = new URL('../../src/storage/lmdb.js', import.meta.url).href;
  const sab = new SharedArrayBuffer(8);
  const flags = new Int32Array(sab); // [0]: requests sent, [1]: writes committed
  // A writer thread that commits one synced write per request and signals through shared memory.
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     import(workerData.storageUrl).then(({ LmdbStore }) => import(workerData.msgpackrUrl).then(({ pack }) => {
       const s = LmdbStore.open({ dir: workerData.dir, membership: { voters: [1] } });
       const f = new Int32Array(workerData.sab);
       for (let i = 1; i <= workerData.n; i++) {
         while (Atomics.load(f, 0) < i) Atomics.wait(f, 0, i - 1, 50);
         const data = pack([{ client: 1, seq: i, floor: 0, ops: [{ t: 'put', key: Buffer.from('x'), value: 'v' + i }] }]);
         s.write({ entries: [], apply: [{ index: i, term: 1, type: 0, data }] });
         Atomics.store(f, 1, i); Atomics.notify(f, 1);
       }
       s.close();
     }));`,
    { eval: true, workerData: { dir: d.dir, sab, n: 50, storageUrl, msgpackrUrl: import.meta.resolve('msgpackr') } },
  );
  // Wait until the worker's store exists, then open the reader (the same process: shared lock).
  const exited = new Promise<void>((resolve, reject) => {
    worker.on('exit', () => resolve());
    worker.on('error', reject);
  });
  for (let i = 0; i < 200 && !existsSync(join(d.dir, LOCK_FILE)); i++) await new Promise((r) => setTimeout(r, 10));
  const r = LmdbStateReader.open(d.dir);
  try {
    for (let i = 1; i <= 50; i++) {
      r.get(k('x')); // pins this thread's read transaction in this turn
      Atomics.store(flags, 0, i);
      Atomics.notify(flags, 0);
      while (Atomics.load(flags, 1) < i) Atomics.wait(flags, 1, i - 1, 50); // synchronous: no event-loop turn
      assert.equal(r.get(k('x')), `v${i}`);
      assert.equal(r.appliedIndex(), i);
    }
  } finally {
    Atomics.store(flags, 0, 1_000_000); // release the writer if an assertion failed midway
    Atomics.notify(flags, 0);
    await exited;
    r.close();
    d.remove();
  }
});
