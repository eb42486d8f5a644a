// bench/overload.ts (docs/benchmarks.md item 29) runs and prints its figures; a bad option is a usage error (exit 2).
// A short run with few callers: this checks the script, not the cluster's speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../bench/overload.js', import.meta.url));

test('overload: a short run acknowledges calls, prints its figures, and leaves no directory behind', () => {
  const base = mkdtempSync(join(tmpdir(), 'threadraft-overload-test-'));
  try {
    const r = spawnSync(process.execPath, [SCRIPT, '--callers', '16', '--ops', '2', '--value-bytes', '1000', '--keys', '50', '--duration', '1', '--window-mib', '1', '--dir', base], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const calls = Number(/acknowledged (\d+) calls/.exec(r.stdout)?.[1]);
    assert.ok(calls > 0, r.stdout);
    assert.match(r.stdout, /failed 0\n/);
    assert.match(r.stdout, /latency ms p50 \d+ p99 \d+ max \d+/);
    assert.match(r.stdout, /sends per write \d+\.\d\d \(\d+ sent again\); terms \d+\/\d+\/\d+/);
    assert.deepEqual(readdirSync(base), [], 'the run removes its cluster directory');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('overload: an option out of range is a usage error', () => {
  const r = spawnSync(process.execPath, [SCRIPT, '--callers', '0'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--callers 1\.\.100000/);
});
