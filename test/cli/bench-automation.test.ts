// The benchmark's options and its automation (--threshold, --baseline, the exit code, the time left), on
// synthetic results: no cluster runs here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions, UsageError } from '../../src/cli/options.js';
import { BENCH_OPTIONS, SUITES, toArgs, type Args } from '../../bench/options.js';
import { evaluateThresholds, parseThreshold, THRESHOLD_EXIT_CODE } from '../../bench/thresholds.js';
import { compareWithBaseline, loadBaseline, renderBaseline } from '../../bench/baseline.js';
import { judge } from '../../bench/automation.js';
import { formatLeft, SuiteTimer } from '../../bench/progress.js';
import type { Results, ScenarioResult } from '../../bench/report/types.js';

function args(argv: string[]): Args {
  const r = parseOptions(argv, BENCH_OPTIONS, {});
  if (r.kind !== 'values') throw new Error(`expected values, got ${r.kind}`);
  return toArgs(r.values);
}

function scenario(name: string, opsPerSec: number, p50: number, p99: number, errors = 0): ScenarioResult {
  return {
    name, description: name, ops: opsPerSec * 5, errors, durationMs: 5000, opsPerSec,
    latencyMs: { p50, p95: p99 * 0.8, p99, p999: p99 * 1.5, max: p99 * 2, mean: p50 * 1.1 },
    histogram: [], throughput: [], params: {},
  };
}

function results(scenarios: ScenarioResult[]): Results {
  return {
    version: 1, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', command: 'node dist/bench/cli.js',
    machine: { cpus: 2, cpuModel: 'test', node: 'v20', platform: 'linux x64', memGiB: 4 }, scenarios, notes: [],
  };
}

// ---- scenario names --------------------------------------------------------------------------------

test('--scenarios accepts the names the report shows (write-256), and write-N as the old alias of write-<clients>', () => {
  assert.deepEqual(args(['--scenarios', 'write-256']).scenarios, ['write-256']);
  assert.deepEqual(args(['--scenarios', 'write-N', '--clients', '64']).scenarios, ['write-64']);
  assert.deepEqual(args(['--scenarios', 'write-N,write-256']).scenarios, ['write-256'], 'an alias and its name: run once');
  assert.deepEqual(args(['--scenarios', 'batch-7,watch-fanout-3,read-lease']).scenarios, ['batch-7', 'watch-fanout-3', 'read-lease']);
  assert.deepEqual(args([]).scenarios, SUITES.standard.map((s) => (s === 'write-N' ? 'write-256' : s)));
  assert.deepEqual(args(['--scenarios', 'write-1', '--resp']).scenarios, ['write-1', 'resp']);
  assert.deepEqual(args(['--resp']).scenarios, ['resp'], '--resp alone: only resp');
});

test('--scenarios refuses unknown names and numbers out of their option\'s range', () => {
  const refused = (argv: string[], re: RegExp) => assert.throws(() => args(argv), (e: unknown) => e instanceof UsageError && re.test(e.message));
  refused(['--scenarios', 'write-fast'], /^--scenarios: unknown scenario "write-fast"; known: .*write-N, write-<n>, batch-<n>/);
  refused(['--scenarios', 'write-0'], /^--scenarios: write-0: write-<n>: .* with n in \[1, 65536\]$/);
  refused(['--scenarios', 'batch-2000'], /batch-2000: batch-<n>.* with n in \[1, 1024\]/);
});

test('bench option rules: --clients 1.5, --nodes 8, --warmup -1 are usage errors', () => {
  assert.throws(() => args(['--clients', '1.5']), /--clients must be an integer in \[1, 65536\], got "1.5"/);
  assert.throws(() => args(['--nodes', '8']), /--nodes must be an integer in \[1, 7\]/);
  assert.equal(args(['--nodes', '4']).nodes, 4);
  assert.throws(() => args(['--warmup', '-1']), /--warmup must be a time in \[0s, 600s\]/);
  assert.equal(args(['--duration', '300ms']).durationS, 0.3);
});

// ---- thresholds ------------------------------------------------------------------------------------

test('parseThreshold: scenario, metric, operator, value; latencies in ms unless a unit says otherwise', () => {
  assert.deepEqual(parseThreshold('write-256.p99<20ms'), { text: 'write-256.p99<20ms', scenario: 'write-256', metric: 'p99', op: '<', value: 20 });
  assert.equal(parseThreshold('write-1.p50 <= 0.5s').value, 500);
  assert.equal(parseThreshold('write-1.p99.9<900us').metric, 'p99.9');
  assert.equal(parseThreshold('write-1.p99.9<900us').value, 0.9);
  assert.equal(parseThreshold('write-1.p999<3').metric, 'p99.9');
  assert.equal(parseThreshold('write-N.ops/s>=30000').metric, 'opsPerSec');
  assert.equal(parseThreshold('resp: threadraft set -c 64.opsPerSec>1000').scenario, 'resp: threadraft set -c 64');
  assert.throws(() => parseThreshold('write-1.p99=3'), /expected <scenario>\.<metric><op><value>/);
  assert.throws(() => parseThreshold('write-1.p98<3'), /unknown metric p98/);
  assert.throws(() => parseThreshold('write-1.opsPerSec>3ms'), /opsPerSec takes no unit/);
  assert.throws(() => parseThreshold('p99<3'), /expected/);
});

test('--threshold: comma-separated and repeatable; aliases resolved; a scenario the run does not measure is a usage error', () => {
  const a = args(['--scenarios', 'write-1,write-N', '--clients', '16', '--threshold', 'write-N.opsPerSec>100,write-1.p99<5ms', '--threshold', 'write-16.errors<=0']);
  assert.deepEqual(a.thresholds.map((t) => [t.scenario, t.metric, t.op, t.value]), [['write-16', 'opsPerSec', '>', 100], ['write-1', 'p99', '<', 5], ['write-16', 'errors', '<=', 0]]);
  assert.throws(() => args(['--scenarios', 'write-1', '--threshold', 'write-256.p99<20ms']), /--threshold write-256.p99<20ms: this run does not measure write-256 \(it runs write-1\)/);
  assert.throws(() => args(['--threshold', 'nope.p99<1']), /--threshold: unknown scenario "nope"/);
  assert.throws(() => args(['--threshold', 'write-1.p99~1']), /--threshold: threshold "write-1.p99~1": expected/);
  // A resp row must be one the run's targets report: a misspelt one is refused now, not failed after the run.
  assert.equal(args(['--resp', '--threshold', 'resp: threadraft SET -c 64.opsPerSec>1000']).thresholds[0]!.scenario, 'resp: threadraft SET -c 64');
  assert.equal(args(['--resp', '--resp-targets', 'redis-replicas', '--threshold', 'resp: redis-replicas SET + WAIT 1 0 -c 64 (resp-load).p99<5ms']).thresholds.length, 1);
  assert.throws(() => args(['--resp', '--threshold', 'resp: bogus.p99<1ms']), /--threshold resp: bogus.p99<1ms: this run does not measure resp: bogus \(its resp rows are 'resp: threadraft SET -c 1', /);
  assert.throws(() => args(['--resp', '--resp-targets', 'threadraft', '--threshold', 'resp: redis-aof SET -c 64.p99<1ms']), /this run does not measure resp: redis-aof SET -c 64/);
  assert.throws(() => args(['--scenarios', 'write-1', '--threshold', 'resp: threadraft SET -c 64.p99<1ms']), /this run does not measure resp: threadraft SET -c 64 \(it runs write-1\)/);
});

test('evaluateThresholds: each bound against its scenario; a scenario not measured fails', () => {
  const r = results([scenario('write-1', 800, 1.2, 6), scenario('write-256', 30_000, 8, 25)]);
  const out = evaluateThresholds(['write-256.p99<20ms', 'write-256.opsPerSec>29000', 'write-1.p50<=1.2', 'read-lease.p50<1'].map((t) => parseThreshold(t)), r);
  assert.deepEqual(out.map((o) => [o.ok, o.actual]), [[false, 25], [true, 30_000], [true, 1.2], [false, undefined]]);
  assert.match(out[0]!.message, /^write-256.p99<20ms: FAILED, write-256 p99 = 25 ms$/);
  assert.match(out[3]!.message, /read-lease was not measured/);
});

// ---- baseline --------------------------------------------------------------------------------------

test('compareWithBaseline: per scenario and metric, fewer ops/s or more latency beyond the tolerance is a regression', () => {
  const base = results([scenario('write-1', 1000, 1, 5), scenario('write-256', 30_000, 8, 20), scenario('read-lease', 100_000, 0.1, 0.5)]);
  const now = results([scenario('write-1', 950, 1.05, 5.4), scenario('write-256', 24_000, 9, 30), scenario('batch-10', 5000, 2, 4)]);
  const c = compareWithBaseline(now, base, '/old/results.json', 10);
  const row = (s: string, m: string) => c.rows.find((r) => r.scenario === s && r.metric === m)!;
  assert.equal(c.rows.length, 6);
  assert.equal(row('write-1', 'opsPerSec').changePct, -5);
  assert.equal(row('write-1', 'opsPerSec').regression, false);
  assert.equal(row('write-1', 'p99').regression, false, '+8 % is within 10 %');
  assert.equal(row('write-256', 'opsPerSec').regression, true, '-20 %');
  assert.equal(row('write-256', 'p50').regression, true, '+12.5 %');
  assert.equal(row('write-256', 'p99').regression, true, '+50 %');
  assert.equal(c.regressions, 3);
  assert.deepEqual(c.onlyNow, ['batch-10']);
  assert.deepEqual(c.onlyBaseline, ['read-lease']);
  const better = compareWithBaseline(base, now, 'x', 10);
  assert.equal(better.rows.filter((r) => r.scenario === 'write-256').every((r) => !r.regression), true, 'improvements are not regressions');
  const text = renderBaseline(c);
  assert.match(text, /write-256 .*-20\.0% !.*\+50\.0% !\s+REGRESSION/);
  assert.match(text, /write-1 .*-5\.0%/);
  assert.match(text, /not in the baseline: batch-10/);
  assert.match(text, /3 regressions beyond 10%/);
});

test('loadBaseline: a results.json of version 1, or an error that says what is wrong', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify(results([scenario('write-1', 1, 1, 1)])));
  assert.equal(loadBaseline(good).scenarios.length, 1);
  writeFileSync(join(dir, 'bad.json'), '{"version":');
  assert.throws(() => loadBaseline(join(dir, 'bad.json')), /bad.json is not JSON/);
  writeFileSync(join(dir, 'v2.json'), '{"version":2,"scenarios":[]}');
  assert.throws(() => loadBaseline(join(dir, 'v2.json')), /not a results.json of version 1/);
  assert.throws(() => loadBaseline(join(dir, 'missing.json')), /cannot read .*missing.json: ENOENT/);
  assert.throws(() => args(['--baseline', join(dir, 'missing.json')]), /Error: --baseline: cannot read/);
  assert.equal(args(['--baseline', good]).baseline?.results.scenarios[0]?.name, 'write-1');
  assert.throws(() => args(['--fail-on-regression']), /--fail-on-regression needs --baseline/);
});

test('judge: thresholds and (with --fail-on-regression) regressions set exit code 3; results carry both', () => {
  const now = results([scenario('write-256', 24_000, 9, 30)]);
  const base = { path: '/old/results.json', results: results([scenario('write-256', 30_000, 8, 20)]) };
  const pass = judge(now, { baseline: base, tolerancePct: 10, failOnRegression: false, thresholds: [parseThreshold('write-256.p99<40ms')] });
  assert.equal(pass.exitCode, 0);
  assert.equal(pass.results.baseline?.regressions, 3);
  assert.deepEqual(pass.results.thresholds?.map((t) => t.ok), [true]);
  assert.match(pass.text, /thresholds: all held/);
  const regress = judge(now, { baseline: base, tolerancePct: 10, failOnRegression: true, thresholds: [] });
  assert.equal(regress.exitCode, THRESHOLD_EXIT_CODE);
  const fail = judge(now, { baseline: undefined, tolerancePct: 10, failOnRegression: false, thresholds: [parseThreshold('write-256.p99<20ms')] });
  assert.equal(fail.exitCode, THRESHOLD_EXIT_CODE);
  assert.match(fail.text, /thresholds: 1 of 1 FAILED\n {2}write-256.p99<20ms: FAILED, write-256 p99 = 30 ms/);
  assert.equal(fail.results.baseline, undefined);
  assert.equal('thresholds' in now, false, 'the input is not modified');
});

// ---- time left -------------------------------------------------------------------------------------

test('SuiteTimer: the time left is what is left of the current scenario plus the later ones, scaled by how the done ones went', () => {
  let now = 0;
  const timer = new SuiteTimer([10_000, 20_000, 30_000], () => now);
  assert.equal(timer.leftMs(), 60_000);
  timer.begin(0);
  now = 4_000;
  assert.equal(timer.leftMs(), 6_000 + 50_000);
  now = 20_000; // the first took 20 s instead of 10: the rest is scaled by 2
  timer.begin(1);
  assert.equal(timer.leftMs(), 40_000 + 60_000);
  now = 70_000; // overran its scaled estimate: nothing left of it, the later one stays
  assert.equal(timer.leftMs(), 60_000);
  timer.begin(2);
  assert.ok(timer.leftMs() <= 30_000 * 3);
  assert.throws(() => timer.begin(3), /scenario 3 of 3/);
  assert.equal(formatLeft(5_400), '5s');
  assert.equal(formatLeft(125_000), '2m05s');
  assert.equal(formatLeft(3_725_000), '1h02m');
});
