// The CLI wiring of issue 15's flags, end to end on a small cluster: --rate, --trace, the open-loop
// scenario, the .hgrm export, and --slo-p99 with rate-sweep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Results } from '../../bench/report/types.js';

const CLI = fileURLToPath(new URL('../../bench/cli.js', import.meta.url));

test('--rate, --trace, open-loop and rate-sweep through the CLI: results.json, report.html, hgrm/, trace.json', { timeout: 120_000 }, async () => {
  const out = await mkdtemp(join(tmpdir(), 'threadraft-bench2-cli-'));
  try {
    const r = spawnSync(process.execPath, [CLI, '--scenarios', 'write-1,open-loop,rate-sweep', '--nodes', '1', '--storage', 'memory', '--rate', '300', '--slo-p99', '1000', '--suite', 'quick', '--duration', '0.3', '--warmup', '0', '--trace', '--out', out], { encoding: 'utf8', timeout: 110_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as Results;
    assert.deepEqual(results.scenarios.map((s) => [s.name, s.loop, s.rateOpsPerSec]), [['write-1', 'open', 300], ['open-loop', 'open', 300]]);
    assert.ok(results.scenarios.every((s) => typeof s.hdr === 'string' && s.tail !== undefined && (s.threads ?? []).length === 2));
    const sweep = results.sweeps?.find((s) => s.name === 'rate-sweep');
    assert.ok(sweep !== undefined && sweep.sloP99Ms === 1000 && sweep.loop === 'open' && sweep.series[0]!.points.length > 0);
    assert.deepEqual((await readdir(join(out, 'hgrm'))).sort(), ['open-loop.hgrm', 'write-1.hgrm']);
    const trace = JSON.parse(await readFile(join(out, 'trace.json'), 'utf8')) as { traceEvents: Array<{ ph: string; name: string; args?: { name?: string } }> };
    const tracks = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args?.name);
    assert.deepEqual(tracks, ['main', 'node-1 (leader)', 'main', 'node-1 (leader)']); // two scenarios, memory storage: no pool thread
    assert.ok(trace.traceEvents.some((e) => e.ph === 'X' && e.name === 'leaderFsync'));
    const html = await readFile(join(out, 'report.html'), 'utf8');
    assert.match(html, /data-plot="sweep-p99" data-sweep="rate-sweep"/);
    assert.match(html, /open loop, 300\/s/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
