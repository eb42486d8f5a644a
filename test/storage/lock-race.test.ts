// Openers that find the same stale lock at once: exactly one of them takes the directory. Before the `.break`
// turn (src/storage/lock.ts, removeStale), each removed the file it had judged stale, so a late one removed the
// lock another had just taken and both held the directory (about one round in ten of this test).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CLUSTER_LOCK_FILE } from '../../src/storage/lock.js';
import { tempDir } from './helpers.js';

const WORKERS = 6;
const ROUNDS = 400;

// Each worker waits for the round's number in shared memory, then takes the cluster lock (clusters of one process
// exclude each other through it, as processes do); 'release' lets it go.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData.sab);
import(workerData.lockModule).then(({ acquireClusterLock }) => {
  let held;
  parentPort.on('message', (m) => {
    if (m === 'release') {
      held?.release();
      held = undefined;
      parentPort.postMessage('released');
      return;
    }
    while (Atomics.load(flag, 0) !== m) Atomics.wait(flag, 0, m - 1, 5);
    try {
      held = acquireClusterLock(workerData.dir);
      parentPort.postMessage('ok');
    } catch (err) {
      parentPort.postMessage(err.code ?? String(err));
    }
  });
  parentPort.postMessage('ready');
});`;

test('openers racing for one stale cluster lock: exactly one takes it, every round', { timeout: 120_000 }, async () => {
  const d = tempDir('threadraft-lock-race-');
  const sab = new SharedArrayBuffer(4);
  const flag = new Int32Array(sab);
  const lockModule = new URL('../../src/storage/lock.js', import.meta.url).href;
  const workers = Array.from({ length: WORKERS }, () => new Worker(WORKER_CODE, { eval: true, workerData: { sab, dir: d.dir, lockModule } }));
  const next = (w: Worker): Promise<string> =>
    new Promise((resolve, reject) => {
      // Each listener goes when the other fires: one pair per round would pile up (MaxListenersExceededWarning).
      const onMessage = (m: string): void => {
        w.off('error', onError);
        resolve(m);
      };
      const onError = (e: Error): void => {
        w.off('message', onMessage);
        reject(e);
      };
      w.once('message', onMessage);
      w.once('error', onError);
    });
  try {
    await Promise.all(workers.map(next)); // 'ready'
    const owners: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Stale: the parent process is alive, but it did not start at tick 1.
      writeFileSync(join(d.dir, CLUSTER_LOCK_FILE), `${process.ppid} 0 token start=1\n`);
      const answers = workers.map(next);
      for (const w of workers) w.postMessage(round);
      await new Promise((r) => setTimeout(r, 1)); // let every worker reach its wait
      Atomics.store(flag, 0, round);
      Atomics.notify(flag, 0);
      const results = await Promise.all(answers);
      for (const r of results) assert.ok(r === 'ok' || r === 'DIR_LOCKED', `round ${round}: ${r}`);
      owners.push(results.filter((r) => r === 'ok').length);
      const released = workers.map(next);
      for (const w of workers) w.postMessage('release');
      await Promise.all(released);
    }
    const twice = owners.filter((n) => n > 1).length;
    const none = owners.filter((n) => n === 0).length;
    assert.equal(twice, 0, `${twice} of ${ROUNDS} rounds had more than one owner`);
    assert.equal(none, 0, `${none} of ${ROUNDS} rounds had no owner`);
    assert.equal(existsSync(join(d.dir, CLUSTER_LOCK_FILE)), false, 'the owner released it');
    assert.deepEqual(readdirSync(d.dir), [], 'no .break or temporary file is left');
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    d.remove();
  }
});
