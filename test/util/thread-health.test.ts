// Thread health's scheduler figures (Linux /proc/thread-self/schedstat): the parse, the shares, and live threads
// that must wait for a CPU because there are more busy threads than cores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseSchedstat, schedShares, threadSched } from '../../src/util/thread-health.js';

test('parseSchedstat reads the run and wait times; schedShares divides their growth by the wall time', () => {
  assert.deepEqual(parseSchedstat('123456789 987654 42\n'), { runNs: 123456789, waitNs: 987654 });
  assert.equal(parseSchedstat(''), undefined);
  assert.equal(parseSchedstat('x y z'), undefined);
  const sh = schedShares({ runNs: 1e9, waitNs: 5e8 }, { runNs: 1.5e9, waitNs: 7.5e8 }, 1000);
  assert.deepEqual(sh, { cpu: 0.5, waited: 0.25 });
  assert.equal(schedShares(undefined, { runNs: 0, waitNs: 0 }, 10), undefined);
  assert.equal(schedShares({ runNs: 0, waitNs: 0 }, { runNs: 0, waitNs: 0 }, 0), undefined);
  assert.equal(schedShares({ runNs: 0, waitNs: 0 }, { runNs: 3e6, waitNs: 0 }, 1)?.cpu, 1, 'capped at 1 (clock skew)');
});

// Each worker spins for 300 ms and reports its own shares, through the functions ThreadHealth uses.
const MODULE = new URL('../../src/util/thread-health.js', import.meta.url).href;
const SPIN = `
const { parentPort } = require('node:worker_threads');
import(${JSON.stringify(MODULE)}).then(({ threadSched, schedShares }) => {
  const s0 = threadSched(); const t0 = performance.now();
  while (performance.now() - t0 < 300) {}
  parentPort.postMessage(schedShares(s0, threadSched(), performance.now() - t0));
});
`;

test('threads that outnumber the cores wait for a CPU, and the shares say so', { skip: threadSched() === undefined ? 'no /proc/thread-self/schedstat here' : false }, async () => {
  const n = availableParallelism() + 1;
  const workers = Array.from({ length: n }, () => new Worker(SPIN, { eval: true }));
  try {
    const shares = await Promise.all(workers.map((w) => new Promise<{ cpu: number; waited: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    })));
    for (const s of shares) assert.ok(s.cpu > 0 && s.cpu <= 1.05 && s.waited >= 0, JSON.stringify(s));
    // n spinning threads on n - 1 cores: together they wait at least about one thread's worth of the time.
    const waited = shares.reduce((a, s) => a + s.waited, 0);
    assert.ok(waited > 0.3, `run-queue waits summed over ${n} spinning threads: ${waited.toFixed(2)} of the run`);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});
