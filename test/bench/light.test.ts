// The speed-of-light pipeline (bench/light.ts) that `compare` runs beside the cluster: it must do the work its
// rows claim (every write in a synced log on a quorum, every key applied where asked) and leave nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { speedOfLight } from '../../bench/light.js';

const KEYS = 300;

for (const apply of [true, false]) {
  test(`speed of light ${apply ? 'with' : 'without'} apply: a quorum holds every entry, the state every key; the files go`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'threadraft-light-test-'));
    try {
      const r = await speedOfLight({ dir, inFlight: 8, apply, durationMs: 300, warmupMs: 50, valueSize: 20, keySpace: KEYS });
      assert.ok(r.ops > 0 && r.opsPerSec > 0, 'writes were measured');
      assert.ok(r.latencyMs.p50 > 0 && r.latencyMs.max >= r.latencyMs.p50);
      assert.equal(r.replicas.length, 3);
      const [leader, ...followers] = r.replicas;
      // The preload alone is at least KEYS / 256 entries; the measured writes add more.
      assert.ok(leader!.logEntries > Math.ceil(KEYS / 256));
      for (const f of followers) assert.ok(f.logEntries <= leader!.logEntries);
      const full = r.replicas.filter((x) => x.logEntries === leader!.logEntries);
      assert.ok(full.length >= 2, `a quorum holds every entry: ${JSON.stringify(r.replicas)}`);
      for (const x of full) assert.equal(x.stateKeys, apply ? KEYS : 0);
      assert.deepEqual(readdirSync(dir), [], 'the replicas removed their files');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
