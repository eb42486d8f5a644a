// `npm run mutate` (issue #12 item 5): measures whether the tests would notice a broken rule. For each mutation
// (mutations.ts) it copies dist/ to .tmp/mutants/<name>/dist, applies the one replacement there, runs the raft unit
// tests and the simulation (which drives the real NodeHost) against the copy, one file at a time until one fails
// (host mutants then also dist/test/cluster/), and records caught (a test failed or timed out) or survived. One mutant at a time. A measurement: exit 0 with survivors, 1 if a mutation
// is stale (its `find` is missing or ambiguous) or the unmutated copy fails its tests.
// Registers no tests and does nothing unless executed directly. Node 20's `node --test dist/test/` collects every
// .js file under a directory named test and runs it as `node <file>` with NODE_TEST_CONTEXT set: this file is then
// an empty test file that passes at once (like test/cluster/helpers.js), because main() also checks that variable.
//   node dist/test/mutate/run.js [--list] [--only <name>[,<name>...]] [--timeout <seconds>]
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MUTATIONS, type Mutation } from './mutations.js';

/** The repository root: this file is dist/test/mutate/run.js. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DIST = join(ROOT, 'dist');
const MUTANTS = join(ROOT, '.tmp', 'mutants');
const CORE_SUITES = ['test/raft/', 'test/sim/'];
const HOST_SUITES = ['test/cluster/'];

type Outcome = 'caught' | 'survived' | 'stale';

interface Result {
  m: Mutation;
  outcome: Outcome;
  seconds: number;
  /** Why: the failing tests, a timeout, or what is wrong with a stale mutation. */
  detail: string;
}

interface SuiteRun {
  passed: boolean;
  timedOut: boolean;
  failures: string[];
}

/** Occurrences of `find` in `text`. */
function count(text: string, find: string): number {
  if (find.length === 0) return 0;
  let n = 0;
  for (let i = text.indexOf(find); i !== -1; i = text.indexOf(find, i + find.length)) n++;
  return n;
}

/** Why `m` cannot be applied to the current dist/, or undefined. */
export function staleness(m: Mutation): string | undefined {
  const path = join(DIST, m.file);
  if (!existsSync(path)) return `${m.file} does not exist in dist/`;
  const n = count(readFileSync(path, 'utf8'), m.find);
  if (n === 0) return `find string not found in ${m.file}`;
  if (n > 1) return `find string occurs ${n} times in ${m.file}`;
  return undefined;
}

/** Copy dist/ (without bench/ and the build info) to .tmp/mutants/<name>/dist and apply `m` there. */
function makeMutant(name: string, m: Mutation | undefined): string {
  const dir = join(MUTANTS, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dist = join(dir, 'dist');
  cpSync(DIST, dist, {
    recursive: true,
    filter: (src) => {
      const rel = src.slice(DIST.length);
      return !(rel === '/bench' || rel.startsWith('/bench/') || rel === '/.tsbuildinfo' || rel.endsWith('.map'));
    },
  });
  if (m !== undefined) {
    const path = join(dist, m.file);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace(m.find, () => m.replace));
  }
  return dir;
}

/**
 * node --test on `suites` of the copy in `dist`; the whole process group is killed after `timeoutMs`. The tests get
 * a TMPDIR of their own, removed afterwards: a test killed on the timeout leaves its temp dirs behind otherwise.
 */
function runSuites(dist: string, suites: string[], timeoutMs: number): Promise<SuiteRun> {
  const args = ['--test', '--test-reporter=tap', ...(suites.some((s) => HOST_SUITES.includes(s)) ? ['--test-concurrency=1'] : []), ...suites.map((s) => join(dist, s))];
  const tmp = mkdtempSync(join(tmpdir(), 'threadraft-mutant-tmp-'));
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, TMPDIR: tmp } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', () => undefined);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(tmp, { recursive: true, force: true });
      // Top-level TAP results start at column 0: "not ok 3 - name".
      const failures = out
        .split('\n')
        .filter((l) => l.startsWith('not ok '))
        .map((l) => l.replace(/^not ok \d+ - /, ''));
      done({ passed: code === 0 && !timedOut, timedOut, failures });
    });
  });
}

/** The test files of `suites` in the copy, relative to it: the unit tests first, then the simulation's. */
function testFiles(dist: string, suites: string[]): string[] {
  const out: string[] = [];
  for (const suite of suites) {
    const files = readdirSync(join(dist, suite)).filter((f) => f.endsWith('.test.js')).sort();
    // The simulation's injected-bug test runs the core with its own breaks: it says nothing about a mutant.
    for (const f of files) if (f !== 'injected-bug.test.js') out.push(join(suite, f));
  }
  return out;
}

async function runMutant(m: Mutation, timeoutMs: number): Promise<Result> {
  const start = performance.now();
  const seconds = (): number => (performance.now() - start) / 1000;
  const stale = staleness(m);
  if (stale !== undefined) return { m, outcome: 'stale', seconds: 0, detail: stale };
  const dir = makeMutant(m.name, m);
  try {
    const dist = join(dir, 'dist');
    const stages = m.host ? [CORE_SUITES, HOST_SUITES] : [CORE_SUITES];
    // One test file at a time, fastest first, stopping at the first that fails: a caught mutant costs only
    // the files up to the one that caught it (the whole simulation takes about 90 s).
    for (const suites of stages) {
      for (const file of testFiles(dist, suites)) {
        const r = await runSuites(dist, [file], timeoutMs);
        if (!r.passed) {
          const what = r.timedOut ? `timed out after ${timeoutMs / 1000} s` : r.failures.slice(0, 3).join('; ') || 'test run failed';
          return { m, outcome: 'caught', seconds: seconds(), detail: `${file}: ${what}` };
        }
      }
    }
    return { m, outcome: 'survived', seconds: seconds(), detail: `passed ${stages.flat().join(' ')}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function printTable(results: Result[]): void {
  const w = Math.max(8, ...results.map((r) => r.m.name.length));
  console.log(`\n${pad('mutation', w)}  ${pad('result', 8)}  ${pad('seconds', 7)}  rule`);
  console.log(`${'-'.repeat(w)}  --------  -------  ----`);
  for (const r of results) {
    console.log(`${pad(r.m.name, w)}  ${pad(r.outcome, 8)}  ${pad(r.seconds.toFixed(1), 7)}  ${r.m.rule}`);
  }
}

function usage(): never {
  console.error('usage: node dist/test/mutate/run.js [--list] [--only <name>[,<name>...]] [--timeout <seconds>]');
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  let only: string[] | undefined;
  let timeoutMs = 120_000;
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--list') list = true;
    else if (a === '--only') only = (argv[++i] ?? usage()).split(',');
    else if (a === '--timeout') timeoutMs = Number(argv[++i] ?? usage()) * 1000;
    else usage();
  }
  if (!(timeoutMs > 0)) usage();
  const names = new Set<string>();
  for (const m of MUTATIONS) {
    if (names.has(m.name)) throw new Error(`duplicate mutation name ${m.name}`);
    names.add(m.name);
  }
  if (list) {
    for (const m of MUTATIONS) {
      const stale = staleness(m);
      console.log(`${pad(m.name, 34)} ${pad(m.file, 18)} ${m.host ? '[host] ' : ''}${m.rule}${stale ? `  [STALE: ${stale}]` : ''}`);
    }
    return MUTATIONS.some((m) => staleness(m) !== undefined) ? 1 : 0;
  }
  const unknown = (only ?? []).filter((n) => !names.has(n));
  if (unknown.length > 0) {
    console.error(`unknown mutation(s): ${unknown.join(', ')} (see --list)`);
    return 2;
  }
  const selected = only === undefined ? MUTATIONS : MUTATIONS.filter((m) => only.includes(m.name));

  // An unmutated copy must pass, or every mutant would count as caught.
  const t0 = performance.now();
  const baseDir = makeMutant('_baseline', undefined);
  let base: SuiteRun;
  try {
    base = await runSuites(join(baseDir, 'dist'), CORE_SUITES, timeoutMs);
  } finally {
    rmSync(baseDir, { recursive: true, force: true });
  }
  if (!base.passed) {
    console.error(`the unmutated copy fails ${CORE_SUITES.join(' ')}: ${base.timedOut ? 'timeout' : base.failures.join('; ')}`);
    return 1;
  }
  console.log(`baseline (unmutated copy) passes ${CORE_SUITES.join(' ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const results: Result[] = [];
  for (const m of selected) {
    const r = await runMutant(m, m.host ? timeoutMs * 2 : timeoutMs);
    results.push(r);
    console.log(`${pad(r.outcome, 8)} ${pad(m.name, 34)} ${r.seconds.toFixed(1).padStart(6)} s  ${r.detail}`);
  }
  printTable(results);
  const stale = results.filter((r) => r.outcome === 'stale');
  const run = results.filter((r) => r.outcome !== 'stale');
  const caught = run.filter((r) => r.outcome === 'caught');
  const survived = run.filter((r) => r.outcome === 'survived');
  console.log(`\ncaught ${caught.length} of ${run.length}${stale.length > 0 ? ` (${stale.length} stale)` : ''}`);
  if (survived.length > 0) console.log(`survived: ${survived.map((r) => r.m.name).join(', ')}`);
  if (stale.length > 0) {
    console.log(`stale (fix these mutations): ${stale.map((r) => `${r.m.name} (${r.detail})`).join(', ')}`);
    return 1;
  }
  return 0;
}

// Only when executed (node dist/test/mutate/run.js): never when imported, nor when the test runner collects it.
const invoked = process.argv[1];
if (process.env.NODE_TEST_CONTEXT === undefined && invoked !== undefined && pathToFileURL(realpathSync(invoked)).href === import.meta.url) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
