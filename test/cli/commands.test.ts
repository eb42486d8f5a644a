// The threadraft command as a user runs it: --version and --help at each level, usage errors (exit 2), and two
// tiny benchmarks (--json with a failing --threshold; SIGINT after the first scenario).
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/cli/threadraft.js', import.meta.url));
const PKG = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };

function run(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000, killSignal: 'SIGKILL' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('threadraft --version and every subcommand\'s --version print package.json\'s version', () => {
  for (const args of [['--version'], ['bench', '--version'], ['chaos', '--version'], ['sim', '--version'], ['serve', '--version']]) {
    const r = run(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.equal(r.stdout, `${PKG.version}\n`, args.join(' '));
  }
});

test('threadraft --help lists the commands; each subcommand\'s --help describes its options and exits 0', () => {
  const top = run(['--help']);
  assert.equal(top.code, 0);
  for (const c of ['serve', 'bench', 'chaos', 'sim']) assert.match(top.stdout, new RegExp(`^  ${c} `, 'm'));
  const expect: Record<string, RegExp[]> = {
    bench: [/^threadraft bench: /, /--threshold <expr>/, /--baseline <results.json>/, /--json/, /write-<n>/],
    chaos: [/^threadraft chaos: /, /--nodes <1-7>/, /--history <file>/],
    sim: [/^threadraft sim: /, /--nodes <1-7> .*\[env NODES\]/, /--break/],
    serve: [/^threadraft serve: /, /--port <n>/, /--nodes <1-7>/],
  };
  for (const [c, res] of Object.entries(expect)) {
    const r = run([c, '--help']);
    assert.equal(r.code, 0, c);
    for (const re of res) assert.match(r.stdout, re, c);
  }
});

test('usage errors exit 2 and name the option and what it allows, in every command', () => {
  const cases: Array<[string[], RegExp, Record<string, string>?]> = [
    [['bench', '--clients', '1.5'], /^threadraft bench: --clients must be an integer in \[1, 65536\], got "1.5"/],
    [['bench', '--scenarios', 'write-fast'], /^threadraft bench: --scenarios: unknown scenario "write-fast"/],
    [['bench', '--scenarios', 'write-1', '--threshold', 'write-2.p99<1ms'], /^threadraft bench: --threshold write-2.p99<1ms: this run does not measure write-2 \(it runs write-1\)/],
    [['bench', '--duration', '0'], /^threadraft bench: --duration must be a time in \[0.1s, 86400s\]/],
    [['chaos', '--nodes', '8'], /^threadraft chaos: --nodes must be an integer in \[1, 7\], got "8"/],
    [['chaos', '--clients', '1.5'], /^threadraft chaos: --clients must be an integer in \[1, 65536\]/],
    [['sim', '--nodes', '8'], /^threadraft sim: --nodes must be an integer in \[1, 7\], got "8"/],
    [['sim'], /^threadraft sim: --nodes must be an integer in \[1, 7\], got "9" \(from the environment: NODES=9\)/, { NODES: '9' }],
    [['sim', '--overrides', '{"nope":1}'], /^threadraft sim: --overrides: unknown setting nope/],
    [['sim', '--overrides', '{"maxMsgBytes":"abc"}'], /^threadraft sim: --overrides: maxMsgBytes must be an integer >= 1, got "abc"/],
    [['sim', '--overrides', '{"preVote":5}'], /^threadraft sim: --overrides: preVote must be true or false, got 5/],
    [['sim', '--ops', 'all'], /^threadraft sim: --ops must be one of put, mixed, got "all"/],
    [['sim', '--seeds', '5-2'], /^threadraft sim: --seeds must be a range a-b of seeds with 0 <= a <= b <= 4294967295, got "5-2"/],
    [['sim'], /^threadraft sim: --seeds must be a range a-b .*, got "1-x"/, { SEEDS: '1-x' }],
    [['sim', '--seed', '3', '--seeds', '1-2'], /^threadraft sim: --seed and --seeds: give one seed or a range of them, not both/],
    [['serve', '--nodes', '8'], /^threadraft serve: --nodes must be an integer in \[1, 7\]/],
    [['serve', '--prot', '1'], /^threadraft serve: unknown option --prot; did you mean --port\?/],
    [['serve', '--notify-keyspace-events', 'bogus'], /^threadraft serve: --notify-keyspace-events "bogus": Invalid event class character\. .*\nRun threadraft serve --help for the options\./],
    [['launch'], /^threadraft: unknown command launch; the commands are serve, bench, chaos, sim/],
  ];
  for (const [args, re, env] of cases) {
    const r = run(args, env);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.match(r.stderr, /--help for the options/, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});

test('threadraft sim --seeds sweeps a range on worker threads: the totals, or the first failing seed and its replay command', () => {
  const ok = run(['sim', '--seeds', '3-6', '--steps', '300', '--spares', '1']);
  assert.equal(ok.code, 0, ok.stderr);
  const totals = JSON.parse(ok.stdout) as { seeds: string; ok: boolean; runs: number; elections: number };
  assert.equal(totals.seeds, '3-6');
  assert.equal(totals.ok, true);
  assert.equal(totals.runs, 4);
  assert.ok(totals.elections > 0);
  // A --seed flag wins over SEEDS from the environment: one run, not a sweep.
  const one = run(['sim', '--seed', '4', '--steps', '300'], { SEEDS: '1-2' });
  assert.equal(one.code, 0, one.stderr);
  assert.equal((JSON.parse(one.stdout) as { seed: number }).seed, 4);
  // Seed 16 is one that the double-vote bug fails (test/sim/injected-bug.test.ts); the sweep names it.
  const bad = run(['sim', '--seeds', '14-17', '--steps', '2000', '--break', 'double-vote']);
  assert.equal(bad.code, 1, bad.stderr);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^VIOLATION: seed 16: Election Safety violated/);
  assert.match(bad.stderr, /^replay: SEED=16 NODES=3 STEPS=2000 BREAK=double-vote npm run sim$/m);
});

test('threadraft bench --json: stdout is the results object (as results.json), alone; a failed --threshold exits 3', (t) => {
  const out = tempDir(t);
  const r = run(['bench', '--scenarios', 'write-1', '--storage', 'memory', '--duration', '0.3', '--warmup', '0', '--out', out, '--json', '--threshold', 'write-1.opsPerSec>1e12,write-1.errors<=0']);
  assert.equal(r.code, 3, r.stderr);
  const printed = JSON.parse(r.stdout) as { scenarios: Array<{ name: string }>; thresholds: Array<{ threshold: string; ok: boolean }> };
  assert.deepEqual(printed, JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')));
  assert.deepEqual(printed.scenarios.map((s) => s.name), ['write-1']);
  assert.deepEqual(printed.thresholds.map((x) => [x.threshold, x.ok]), [['write-1.opsPerSec>1e12', false], ['write-1.errors<=0', true]]);
  assert.match(r.stderr, /thresholds: 1 of 2 FAILED/);
  assert.match(r.stderr, /running write-1 \(1\/1, suite ~\d+s left\)/);
  assert.ok(existsSync(join(out, 'report.html')));
});

/**
 * The bin with `args` and TMPDIR `tmp`, in a process group of its own (the bin and the command it runs): killed
 * whole when the test ends, so a failed run never leaves one behind.
 */
function spawnBin(t: TestContext, args: string[], tmp: string): ChildProcessByStdio<null, Readable, Readable> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp }, detached: true });
  t.after(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group has exited
    }
  });
  return child;
}

// SIGHUP too: the bin forwards it to the benchmark (before, it ended the bin alone and left the benchmark running).
// SIGINT goes to the whole process group, as a terminal's ^C (and `timeout`) sends it: the benchmark then gets it
// twice, from the group and from the bin, and must still write what it measured (before, the second copy counted as
// "^C again" and it exited writing nothing).
// The three runs go at once (each its own process, directories and output): about 9 s instead of 14.
describe('a signal during a benchmark', { concurrency: 3 }, () => {
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
test(`${signal} during the second scenario: results.json and report.html hold the first, the temp dir is gone, and the exit code is ${code}`, { timeout: 90_000 }, async (t) => {
  const out = tempDir(t);
  const tmp = tempDir(t); // the benchmark's TMPDIR: its cluster directories go there
  const child = spawnBin(t, ['bench', '--scenarios', 'write-1,write-2', '--storage', 'lmdb', '--duration', '2', '--warmup', '0', '--out', out], tmp);
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no second scenario within 30 s: ${stderr}`)), 30_000);
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (/running write-2/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await new Promise((r) => setTimeout(r, 300));
  if (signal === 'SIGINT') process.kill(-child.pid!, signal);
  else child.kill(signal);
  const exitedOrTimeout = Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('no exit within 30 s'), 30_000).unref())]);
  assert.equal(await exitedOrTimeout, code, stderr);
  assert.deepEqual(readdirSync(tmp), [], 'the benchmark removed its temp dir');
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { scenarios: Array<{ name: string }>; interrupted: unknown; notes: string[] };
  assert.deepEqual(results.scenarios.map((s) => s.name), ['write-1']);
  assert.deepEqual(results.interrupted, { signal, during: 'write-2', completed: 1, of: 2 });
  assert.ok(results.notes.some((n) => n.includes(`interrupted by ${signal} during write-2: 1 of 2 scenarios measured`)));
  assert.ok(existsSync(join(out, 'report.html')));
  assert.match(stdout, /wrote .*results.json/);
});
}
});

/** The bin with `args` (spawnBin) whose stdout reader goes away after the first output, as `| head -1` does. */
async function readerGoneAfterFirstLine(t: TestContext, args: string[], tmp: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawnBin(t, args, tmp);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, stderr };
}

test('a benchmark whose stdout reader went away (npm start | head) still writes results.json and report.html, and exits 0', { timeout: 90_000 }, async (t) => {
  const out = tempDir(t);
  const tmp = tempDir(t);
  const { code, stderr } = await readerGoneAfterFirstLine(t, ['bench', '--scenarios', 'write-1', '--storage', 'memory', '--duration', '0.5', '--warmup', '0', '--out', out], tmp);
  assert.equal(code, 0, stderr);
  assert.ok(existsSync(join(out, 'results.json')) && existsSync(join(out, 'report.html')), stderr);
  assert.deepEqual(readdirSync(tmp), []);
});

// Seed 5 logs four nemesis steps in 4 s: the second one's line is written after the reader has gone.
test('threadraft chaos --verbose whose stdout reader went away still finishes: its history written, its cluster directory removed, exit 0', { timeout: 90_000 }, async (t) => {
  const out = tempDir(t);
  const tmp = tempDir(t);
  const history = join(out, 'h.jsonl');
  const { code, stderr } = await readerGoneAfterFirstLine(t, ['chaos', '--duration', '4', '--seed', '5', '--verbose', '--history', history], tmp);
  assert.equal(code, 0, stderr);
  assert.ok(readFileSync(history, 'utf8').split('\n').length > 10, 'the history holds the run');
  assert.deepEqual(readdirSync(tmp), [], 'the chaos run removed its cluster directory');
});

/** Start `args` in a process group of its own with TMPDIR `tmp`; signal it once `tmp` holds a directory (its cluster's), after `delayMs`. */
async function interruptOnceStarted(t: TestContext, args: string[], tmp: string, signal: NodeJS.Signals, delayMs: number): Promise<{ code: number | null | string; stderr: string }> {
  const child = spawnBin(t, args, tmp);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (readdirSync(tmp).length === 0) {
    if (Date.now() > deadline) throw new Error(`no cluster directory within 30 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill(signal);
  const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('no exit within 30 s'), 30_000).unref())]);
  return { code, stderr };
}

test('threadraft chaos: SIGINT or SIGHUP stops the run, removes its cluster directory and exits 128 + the signal', { timeout: 120_000 }, async (t) => {
  const tmp = tempDir(t);
  const out = tempDir(t);
  for (const [signal, code] of [['SIGINT', 130], ['SIGHUP', 129]] as const) {
    const r = await interruptOnceStarted(t, ['chaos', '--duration', '30', '--history', join(out, 'h.jsonl')], tmp, signal, 1500);
    assert.equal(r.code, code, `${signal}: ${r.stderr}`);
    assert.deepEqual(readdirSync(tmp), [], `${signal}: the chaos run removed its cluster directory`);
  }
  // A history that cannot be written: one line, exit 1, nothing left behind.
  const bad = run(['chaos', '--duration', '1', '--history', join(out, 'no-such-dir', 'h.jsonl')], { TMPDIR: tmp });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^threadraft chaos: ENOENT/);
  assert.deepEqual(readdirSync(tmp), []);
});

test('threadraft serve: SIGTERM or SIGHUP while the cluster starts stops it once started, removes its directory and exits 128 + the signal', { timeout: 120_000 }, async (t) => {
  const tmp = tempDir(t);
  for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    const r = await interruptOnceStarted(t, ['serve', '--port', '0'], tmp, signal, 0);
    assert.equal(r.code, code, `${signal}: ${r.stderr}`);
    assert.deepEqual(readdirSync(tmp), [], `${signal}: serve removed its temporary directory`);
  }
});
