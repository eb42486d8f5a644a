// issue 16 item 5: the learner-catchup measurement on a small preload: every timing present and positive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { learnerCatchup } from '../../bench/learner-catchup.js';
import { SUITES } from '../../bench/options.js';

test('learner-catchup: a learner catches up from 2,000 keys under load and is promoted; the figures are there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-lc-test-'));
  try {
    const r = await learnerCatchup({ keys: 2000, valueSize: 100, inFlight: 16, phaseMs: 800, cluster: { dir: join(dir, 'c'), snapshotEveryEntries: 100 }, timeoutMs: 15_000 });
    for (const [name, v] of Object.entries({ preloadMs: r.preloadMs, addLearnerMs: r.addLearnerMs, catchUpMs: r.catchUpMs, promoteMs: r.promoteMs })) {
      assert.ok(Number.isFinite(v) && v > 0, `${name}: ${v}`);
    }
    assert.ok(r.catchUpMs >= r.addLearnerMs, 'caught up no earlier than added');
    assert.equal(r.learnerId, 4);
    assert.ok(r.targetIndex > 0);
    for (const p of [r.before, r.during, r.after]) assert.ok(p.ops > 0 && p.opsPerSec > 0 && p.p50Ms > 0 && p.p99Ms >= p.p50Ms, JSON.stringify(p));
    assert.equal(r.scenario.name, 'learner-catchup');
    assert.equal(r.scenario.ops, r.during.ops);
    for (const k of ['catchUpMs', 'promoteMs', 'addLearnerMs', 'beforeOpsPerSec', 'duringOpsPerSec', 'afterOpsPerSec', 'duringP99Ms']) {
      assert.equal(typeof r.scenario.params[k], 'number', k);
    }
    assert.match(r.note, /caught up .* promoted in/);
    assert.ok((SUITES.standard as readonly string[]).includes('learner-catchup'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
