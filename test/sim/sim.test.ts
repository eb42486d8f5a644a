// Deterministic simulation: many seeds of whole-cluster runs under faults; every failure names its seed and replay command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replayCommand, runSimulation, type SimOptions } from './sim.js';

interface Batch {
  nodes: number;
  seeds: [number, number];
  steps: number;
  chaos?: number;
  overrides?: SimOptions['overrides'];
}

async function runBatch(b: Batch): Promise<{ runs: number; elections: number; committed: number; snapshots: number; reads: number }> {
  const totals = { runs: 0, elections: 0, committed: 0, snapshots: 0, reads: 0 };
  for (let seed = b.seeds[0]; seed < b.seeds[1]; seed++) {
    const opts: SimOptions = { seed, nodes: b.nodes, steps: b.steps, ...(b.chaos === undefined ? {} : { chaos: b.chaos }), ...(b.overrides === undefined ? {} : { overrides: b.overrides }) };
    const s = await runSimulation(opts);
    if (!s.ok) assert.fail(`seed ${seed}: ${s.violation?.message ?? 'violation'}\nreplay: ${replayCommand(opts)}`);
    totals.runs++;
    totals.elections += s.elections;
    totals.committed += s.committed;
    totals.snapshots += s.snapshotsInstalled;
    totals.reads += s.readsServed;
  }
  return totals;
}

function assertExercised(t: Awaited<ReturnType<typeof runBatch>>): void {
  // A simulation that never elects, commits, snapshots or reads checks nothing.
  assert.ok(t.elections > t.runs, `too few elections: ${t.elections} in ${t.runs} runs`);
  assert.ok(t.committed > 20 * t.runs, `too few commits: ${t.committed} in ${t.runs} runs`);
  assert.ok(t.snapshots > 0, 'no snapshot was ever installed');
  assert.ok(t.reads > 0, 'no read was ever served');
}

test('Figure 3 safety + liveness after healing: 3-node clusters, 500 seeds × 3000 steps', async () => {
  assertExercised(await runBatch({ nodes: 3, seeds: [1, 501], steps: 3000 }));
});

test('Figure 3 safety + liveness after healing: 5-node clusters, 400 seeds × 3000 steps', async () => {
  assertExercised(await runBatch({ nodes: 5, seeds: [1, 401], steps: 3000 }));
});

test('Figure 3 safety under triple fault rates, one entry per append, no pre-vote/check-quorum: 3 and 5 nodes, 200 seeds each × 2000 steps', async () => {
  const overrides = { maxMsgBytes: 1, preVote: false, checkQuorum: false };
  assertExercised(await runBatch({ nodes: 3, seeds: [1001, 1201], steps: 2000, chaos: 3, overrides }));
  assertExercised(await runBatch({ nodes: 5, seeds: [1001, 1201], steps: 2000, chaos: 3, overrides }));
});

test('a replayed seed reproduces the same run exactly', async () => {
  const a = await runSimulation({ seed: 4242, nodes: 5, steps: 2000 });
  const b = await runSimulation({ seed: 4242, nodes: 5, steps: 2000 });
  assert.deepEqual(a, b);
});
