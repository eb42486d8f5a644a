// A batch of simulation seeds and what its runs exercised: run here (runBatch) or split over worker threads
// (runBatchParallel, test/sim/batch-worker.ts), which gives the same totals and names the same failing seed.
import { Worker } from 'node:worker_threads';
import { replayCommand, runSimulation, type SimOptions } from './sim.js';

export interface Batch {
  nodes: number;
  seeds: [number, number];
  steps: number;
  chaos?: number;
  spares?: number;
  ops?: SimOptions['ops'];
  overrides?: SimOptions['overrides'];
  /** A safety rule broken on purpose (the harness's own tests). */
  testBreak?: SimOptions['testBreak'];
}

export type Totals = Record<'runs' | 'elections' | 'committed' | 'acknowledged' | 'snapshots' | 'reads' | 'leaseReads' | 'nonDisruption', number> & {
  faults: Record<string, number>;
  membership: Record<'addLearner' | 'promote' | 'remove' | 'retired', number>;
};

function emptyTotals(): Totals {
  return {
    runs: 0, elections: 0, committed: 0, acknowledged: 0, snapshots: 0, reads: 0, leaseReads: 0, nonDisruption: 0, faults: {},
    membership: { addLearner: 0, promote: 0, remove: 0, retired: 0 },
  };
}

/** A seed's run failed: the seed, the violation and the command that replays it. */
export class SeedFailure extends Error {}

/** Runs the batch's seeds in order on this thread; throws a SeedFailure at the first seed that fails. */
export async function runBatch(b: Batch): Promise<Totals> {
  const t = emptyTotals();
  for (let seed = b.seeds[0]; seed < b.seeds[1]; seed++) {
    const opts: SimOptions = {
      seed, nodes: b.nodes, steps: b.steps,
      ...(b.chaos === undefined ? {} : { chaos: b.chaos }), ...(b.spares === undefined ? {} : { spares: b.spares }), ...(b.ops === undefined ? {} : { ops: b.ops }), ...(b.overrides === undefined ? {} : { overrides: b.overrides }),
      ...(b.testBreak === undefined ? {} : { testBreak: b.testBreak }),
    };
    const s = await runSimulation(opts);
    if (!s.ok) throw new SeedFailure(`seed ${seed}: ${s.violation?.message ?? 'violation'}\nreplay: ${replayCommand(opts)}`);
    t.runs++;
    t.elections += s.elections;
    t.committed += s.committed;
    t.acknowledged += s.acknowledged;
    t.snapshots += s.snapshotsInstalled;
    t.reads += s.readsServed;
    t.leaseReads += s.leaseReadsServed;
    if (s.nonDisruption === 'checked') t.nonDisruption++;
    for (const [k, v] of Object.entries(s.faults)) t.faults[k] = (t.faults[k] ?? 0) + v;
    for (const k of ['addLearner', 'promote', 'remove', 'retired'] as const) t.membership[k] += s.membership[k];
  }
  return t;
}

function addTotals(a: Totals, b: Totals): Totals {
  const t = emptyTotals();
  for (const k of ['runs', 'elections', 'committed', 'acknowledged', 'snapshots', 'reads', 'leaseReads', 'nonDisruption'] as const) t[k] = a[k] + b[k];
  for (const src of [a.faults, b.faults]) for (const [k, v] of Object.entries(src)) t.faults[k] = (t.faults[k] ?? 0) + v;
  for (const k of ['addLearner', 'promote', 'remove', 'retired'] as const) t.membership[k] = a.membership[k] + b.membership[k];
  return t;
}

/** What a batch worker posts: its totals, or the failure of its first failing seed. */
export type WorkerReply = { ok: true; totals: Totals } | { ok: false; message: string; seedFailure: boolean };

const WORKER_URL = new URL('./batch-worker.js', import.meta.url);

function runInWorker(b: Batch): { done: Promise<Totals>; stop(): Promise<number> } {
  const w = new Worker(WORKER_URL, { workerData: b });
  const done = new Promise<Totals>((resolve, reject) => {
    w.once('message', (r: WorkerReply) => (r.ok ? resolve(r.totals) : reject(r.seedFailure ? new SeedFailure(r.message) : new Error(r.message))));
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`simulation worker exited (code ${code}) before it reported`)));
  });
  return { done, stop: () => w.terminate() };
}

/**
 * The batch's seeds split in two halves, each on a worker thread of its own (the simulation is CPU work and
 * deterministic per seed: two cores halve the wall time, the totals are the same). A failure names its seed; when
 * both halves fail, the lower half's (the lower seed) is reported. A failure of the lower half ends the batch at
 * once (nothing the upper half finds could be reported instead); one of the upper half waits for the lower half.
 */
export async function runBatchParallel(b: Batch): Promise<Totals> {
  const [from, to] = b.seeds;
  if (to - from < 2) return runBatch(b);
  const mid = from + Math.ceil((to - from) / 2);
  const lower = runInWorker({ ...b, seeds: [from, mid] });
  const upper = runInWorker({ ...b, seeds: [mid, to] });
  upper.done.catch(() => undefined); // awaited after the lower half; its failure must not go unhandled meanwhile
  try {
    const low = await lower.done;
    return addTotals(low, await upper.done);
  } finally {
    await Promise.all([lower.stop(), upper.stop()]);
  }
}
