// A worker thread of runBatchParallel (test/sim/batch.ts): runs one range of seeds and posts its totals, or the
// failure of its first failing seed. Run on the main thread (the test runner lists every file under test/), it does nothing.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { runBatch, SeedFailure, type Batch, type WorkerReply } from './batch.js';

if (!isMainThread && parentPort) {
  const port = parentPort;
  runBatch(workerData as Batch).then(
    (totals) => port.postMessage({ ok: true, totals } satisfies WorkerReply),
    (err: unknown) => port.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err), seedFailure: err instanceof SeedFailure } satisfies WorkerReply),
  );
}
