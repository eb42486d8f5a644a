// The main job: benchmark a real threadraft cluster (3 nodes, LMDB, synced writes by default) in a
// temporary directory, print a table, and write results.json and report.html.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterOptions } from '../src/index.js';
import { ignoreOutputErrors } from '../src/cli/options.js';
import { startCluster, stopAllClusters } from './live.js';
import { preload, runLoad, type LoadSpec } from './load.js';
import { rawLmdb } from './raw-lmdb.js';
import { speedOfLight } from './light.js';
import { benchResp, defaultRespOptions, renderRespTable, respNotes, respScenarios } from './resp.js';
import type { CompareRow, Results, ScenarioResult } from './report/types.js';
import { FLOOR_NOTE } from './report/table.js';
import { writeReport } from './report/write.js';
import { parseBenchArgs, type Args } from './options.js';
import { formatLeft, SuiteProgress } from './progress.js';
import { SIGNAL_EXIT_CODES, judge, reserveStdout, type InterruptSignal, type RunResults } from './automation.js';
import { isExtra, runExtra, TraceCollector, type ExtraResults } from './extra.js';
import { sweepEstimateMs } from './sweep.js';
import { median } from './stats.js';
import { pairsFor, RUN_WARMUP_MS, TTL_EXPIRY_WAIT_MS, TTL_RUN_WARMUP_MS } from './paired-cost.js';
import { LEARNER_CATCHUP, learnerCatchup } from './learner-catchup.js';

interface Run {
  args: Args;
  dir: string;
  scenarios: ScenarioResult[];
  compare: CompareRow[];
  notes: string[];
  extra: ExtraResults;
  trace: TraceCollector | undefined;
}

/** Issue 15's scenarios (bench/extra.ts): sweeps, open loop, instrumentation cost. */
function runExtraScenario(run: Run, name: string): Promise<void> {
  const a = run.args;
  if (name === LEARNER_CATCHUP) return runLearnerCatchup(run);
  const measureSpec = async (spec: LoadSpec): Promise<void> => {
    run.scenarios.push(await measure(spec, clusterOptions(a, run.dir), params(a)));
  };
  return runExtra(name, { suite: a.suite, durationS: a.durationS, rate: a.rate, sloP99Ms: a.sloP99Ms }, baseSpec(a, name, name, {}), (over) => clusterOptions(a, run.dir, over), (over) => params(a, over), measureSpec, run.extra);
}

/** Issue 16's learner-catchup (bench/learner-catchup.ts): 100,000 keys of 100 bytes, 64 writes in flight. */
async function runLearnerCatchup(run: Run): Promise<void> {
  const a = run.args;
  const r = await learnerCatchup({
    keys: 100_000,
    valueSize: 100,
    inFlight: 64,
    phaseMs: (a.durationS ?? (a.suite === 'quick' ? 2 : 5)) * 1000,
    cluster: clusterOptions(a, run.dir, { nodes: 3, storage: 'lmdb' }),
    seed: a.seed,
    log: (l) => process.stdout.write(`${l}\n`),
  });
  run.scenarios.push({ ...r.scenario, params: { ...params(a), ...r.scenario.params } });
  run.notes.push(r.note);
}

function clusterOptions(a: Args, dir: string, over: Partial<ClusterOptions> = {}): ClusterOptions {
  const name = `c${Math.random().toString(36).slice(2, 8)}`;
  return { nodes: a.nodes, storage: a.storage, sync: a.sync, pool: a.pool, instrument: a.instrument, seed: a.seed, dir: join(dir, name), ...over };
}

function baseSpec(a: Args, name: string, description: string, over: Partial<LoadSpec>): LoadSpec {
  const quick = a.suite === 'quick';
  return {
    name,
    description,
    clients: a.clients,
    durationMs: (a.durationS ?? (quick ? 2 : 5)) * 1000,
    ops: a.ops,
    warmupMs: (quick ? Math.min(a.warmupS, 0.5) : a.warmupS) * 1000,
    valueSize: a.valueSize,
    keySpace: a.keys,
    readRatio: 0,
    consistency: 'linearizable',
    batchSize: 1,
    seed: a.seed,
    ...(a.rate === undefined ? {} : { rateOpsPerSec: a.rate }),
    ...(traceCollector === undefined ? {} : { onTrace: traceCollector.onTrace }),
    ...over,
  };
}

/** --trace's collector, set by main() (baseSpec has no Run at hand). */
let traceCollector: TraceCollector | undefined;

function scenarioSpec(a: Args, name: string): LoadSpec {
  switch (name) {
    case 'write-1':
      return baseSpec(a, name, 'one client, single puts', { clients: 1 });
    case 'read-linearizable':
      return baseSpec(a, name, `${a.clients} linearizable reads in flight (ReadIndex)`, { readRatio: 1 });
    case 'read-lease':
      return baseSpec(a, name, `${a.clients} lease reads in flight`, { readRatio: 1, consistency: 'lease' });
    case 'read-stale':
      return baseSpec(a, name, `${a.clients} stale reads in flight (main-thread LMDB)`, { readRatio: 1, consistency: 'stale' });
    case 'read-peek':
      return baseSpec(a, name, 'synchronous stale reads with peek(), one caller', { readRatio: 1, consistency: 'stale', clients: 1, peek: true });
    case 'mixed-90-10':
      return baseSpec(a, name, '90 % linearizable reads, 10 % puts', { readRatio: 0.9 });
    case 'cache-ttl-churn':
      return baseSpec(a, name, `cache: ${a.clients} in flight, 90 % lease reads, 10 % puts with a TTL of 0.5–1.5 s (keys expire and are purged as the load runs)`, {
        readRatio: 0.9, consistency: 'lease', ttlMs: 1000,
      });
    case 'cache-evict':
      return baseSpec(a, name, `cache: ${a.clients} puts in flight over ${a.keys * 10} keys into a cache bounded to ${a.keys} keys (every put past the bound evicts)`, {
        keySpace: a.keys * 10,
      });
    case 'sustained':
      return baseSpec(a, name, `${a.clients} puts in flight, sustained`, { durationMs: (a.durationS ?? 60) * 1000 });
    case 'custom':
      return baseSpec(a, name, `custom: ${a.clients} clients, read ratio ${a.readRatio} (${a.consistency}), batch ${a.batch}`, {
        readRatio: a.readRatio, consistency: a.consistency, batchSize: a.batch,
      });
    default: {
      const w = /^write-(\d+)$/.exec(name); // write-N of the suites is write-<--clients> (bench/options.ts)
      if (w) return baseSpec(a, name, `${w[1]} single puts in flight`, { clients: Number(w[1]) });
      const m = /^batch-(\d+)$/.exec(name);
      if (m) return baseSpec(a, name, `batch() of ${m[1]} puts, 4 calls in flight`, { clients: 4, batchSize: Number(m[1]) });
      throw new Error(`unknown scenario ${name}`);
    }
  }
}

function params(a: Args, over: Record<string, string | number | boolean> = {}): Record<string, string | number | boolean> {
  return { nodes: a.nodes, storage: a.storage, sync: a.sync, pool: a.pool, instrument: a.instrument, ...over };
}

/** The suite's progress display (set by main before the first scenario). */
let suite: SuiteProgress | undefined;

/** A live progress bar with the current throughput and the suite's time left (on stderr). */
function progress(label: string, totalMs: number): ReturnType<SuiteProgress['bar']> {
  return suite?.bar(label, totalMs) ?? { onProgress: undefined, stop() {} };
}

async function measure(spec: LoadSpec, opts: ClusterOptions, p: Record<string, string | number | boolean>): Promise<ScenarioResult> {
  const cluster = await startCluster(opts);
  const prog = progress(spec.name, spec.durationMs);
  try {
    if (spec.readRatio > 0) await preload(cluster, spec.keySpace, spec.valueSize);
    return await runLoad(cluster, prog.onProgress ? { ...spec, onProgress: prog.onProgress } : spec, p);
  } finally {
    prog.stop();
    await cluster.stop();
    if (opts.dir) rmSync(opts.dir, { recursive: true, force: true });
  }
}

/** Writers under watch: every put is an event for each of `watchers` prefix watchers (issue 13's fan-out). */
async function runWatchFanout(run: Run, name: string, watchers: number, over: Partial<ClusterOptions> = {}): Promise<void> {
  const a = run.args;
  const source = over.nodes !== undefined ? ` (${over.nodes} node, ${over.storage ?? a.storage})` : '';
  const spec = baseSpec(a, name, `batch() of 100 puts, 4 in flight${source}, ${watchers} watcher${watchers === 1 ? '' : 's'} of every key`, { clients: 4, batchSize: 100 });
  const opts = clusterOptions(a, run.dir, over);
  const cluster = await startCluster(opts);
  const prog = progress(spec.name, spec.durationMs);
  const ws = Array.from({ length: watchers }, () => cluster.watch({ prefix: 'key-' }, { bufferSize: 100_000 }));
  const consumers = ws.map(async (w) => {
    for await (const e of w) void e; // a consumer that keeps up: the cost measured is the delivery's
  });
  try {
    const r = await runLoad(cluster, prog.onProgress ? { ...spec, onProgress: prog.onProgress } : spec, params(a, over as Record<string, string | number | boolean>));
    const m = await cluster.metrics();
    const seconds = r.durationMs / 1000;
    r.params.watchers = watchers;
    r.params.eventsPerSec = Math.round(m.watch.delivered / seconds);
    r.params.eventsPerSecPerWatcher = Math.round(m.watch.delivered / seconds / watchers);
    r.params.deliveryP50Ms = Math.round(m.watch.deliveryMs.p50 * 1000) / 1000;
    r.params.deliveryP99Ms = Math.round(m.watch.deliveryMs.p99 * 1000) / 1000;
    run.scenarios.push(r);
  } finally {
    prog.stop();
    for (const w of ws) await w.return();
    await Promise.allSettled(consumers);
    await cluster.stop();
    if (opts.dir) rmSync(opts.dir, { recursive: true, force: true });
  }
}

async function runScenario(run: Run, name: string): Promise<void> {
  const a = run.args;
  const fanout = /^watch-fanout-(\d+)$/.exec(name);
  if (fanout) return runWatchFanout(run, name, Number(fanout[1]));
  if (name === 'watch-capacity') return runWatchFanout(run, name, 1, { nodes: 1, storage: 'memory' });
  const spec = scenarioSpec(a, name);
  const over: Partial<ClusterOptions> = name === 'cache-evict' ? { maxKeys: a.keys } : {};
  run.scenarios.push(await measure(spec, clusterOptions(a, run.dir, over), params(a, over as Record<string, string | number | boolean>)));
}

function row(name: string, opsPerSec: number, latencyMs: CompareRow['latencyMs'], floor: number): CompareRow {
  return { name, opsPerSec, latencyMs, ratioToRawLmdb: floor > 0 ? opsPerSec / floor : 0, floorOpsPerSec: floor };
}

/**
 * How long the floor is measured again after each row of `compare`. This machine's disk changes speed from minute
 * to minute (the floor gave 46k to 180k puts/s across runs of one day, docs/benchmarks.md): a floor measured once,
 * before a minute of rows, can stand for another disk than the rows had. Each row is divided by the mean of the
 * floors measured just before and just after it.
 */
const FLOOR_BESIDE_MS = 1000;

/** The cluster configurations `compare` runs after the raw LMDB rows: [label, options, calls in flight]. */
function compareVariants(a: Args): Array<[string, Partial<ClusterOptions>, number?]> {
  return [
    [`3 nodes, lmdb, piscina (${a.clients} in flight)`, { nodes: 3, storage: 'lmdb', pool: 'piscina', instrument: true }],
    ['3 nodes, lmdb, piscina (1024 in flight)', { nodes: 3, storage: 'lmdb', pool: 'piscina', instrument: true }, 1024],
    ['3 nodes, lmdb, piscina (1 in flight)', { nodes: 3, storage: 'lmdb', pool: 'piscina', instrument: true }, 1],
    ['3 nodes, lmdb, inline', { nodes: 3, storage: 'lmdb', pool: 'inline', instrument: true }],
    ['3 nodes, memory', { nodes: 3, storage: 'memory', instrument: true }],
    ['1 node, lmdb, piscina', { nodes: 1, storage: 'lmdb', pool: 'piscina', instrument: true }],
    ['5 nodes, lmdb, piscina', { nodes: 5, storage: 'lmdb', pool: 'piscina', instrument: true }],
  ];
}

/**
 * The speed of light (bench/light.ts): the project's parts without Raft, its log alone and with the least state
 * machine, at the calls in flight of issue 11's targets: [label, in flight, apply].
 */
const LIGHT_ROWS: Array<[string, number, boolean]> = [
  ['speed of light: 3 synced logs, no state (256 in flight)', 256, false],
  ['speed of light: 3 synced logs + apply (1 in flight)', 1, true],
  ['speed of light: 3 synced logs + apply (256 in flight)', 256, true],
  ['speed of light: 3 synced logs + apply (1024 in flight)', 1024, true],
];
const LIGHT_WARMUP_MS = 500;
/** A speed-of-light row's start, preload of the key space and stop (an estimate, for the time left). */
const LIGHT_SETUP_MS = 1000;

/** Everything compared side by side in one run, so that ratios hold even when the machine is noisy. */
async function runCompare(run: Run): Promise<void> {
  const a = run.args;
  const dur = (a.durationS ?? (a.suite === 'quick' ? 2 : 4)) * 1000;
  suite?.note('compare: raw LMDB (the floor)');
  const rawTxn = rawLmdb(64, a.valueSize, dur, true);
  const rawPut = rawLmdb(1, a.valueSize, Math.min(dur, 2000), true);
  const floors = [rawTxn.opsPerSec];
  run.compare.push(row('raw LMDB, synced txns of 64 puts (floor)', rawTxn.opsPerSec, rawTxn.latencyMs, rawTxn.opsPerSec));
  run.compare.push(row('raw LMDB, synced single puts', rawPut.opsPerSec, rawPut.latencyMs, rawTxn.opsPerSec));
  /**
   * A row, over the mean of the floor before it and the floor measured again right after it; a row of one write in
   * flight also gets the synced single put's p50 measured right after it (issue 11's target 3 is a ratio of the two).
   */
  const beside = (label: string, r: { opsPerSec: number; latencyMs: CompareRow['latencyMs'] }, inFlight: number): void => {
    const before = floors[floors.length - 1]!;
    const after = rawLmdb(64, a.valueSize, FLOOR_BESIDE_MS, true).opsPerSec;
    floors.push(after);
    const x = row(label, r.opsPerSec, r.latencyMs, (before + after) / 2);
    if (inFlight === 1) x.singlePutP50Ms = rawLmdb(1, a.valueSize, FLOOR_BESIDE_MS, true).latencyMs.p50;
    run.compare.push(x);
  };
  for (const [label, inFlight, apply] of LIGHT_ROWS) {
    suite?.note(`compare: ${label}`);
    beside(label, await speedOfLight({ dir: run.dir, inFlight, apply, durationMs: dur, warmupMs: LIGHT_WARMUP_MS, valueSize: a.valueSize, keySpace: a.keys }), inFlight);
  }
  // (What a TTL and stage timing cost are the ttl-cost and instrument-cost scenarios': interleaved pairs on one
  // cluster. One run of each here spread as widely as the costs themselves: a TTL 16.0, 6.8 and 23.8 % in session 5.)
  for (const [label, over, clients] of compareVariants(a)) {
    const spec = baseSpec(a, `compare: ${label}`, label, { durationMs: dur, ...(clients === undefined ? {} : { clients }) });
    beside(label, await measure(spec, clusterOptions(a, run.dir, over), params(a, over as Record<string, string | number | boolean>)), clients ?? a.clients);
  }
  const mid = median(floors);
  for (const r of run.compare) r.ratioToMedianFloor = r.opsPerSec / mid;
  run.notes.push(
    `${FLOOR_NOTE} ${floors.length} times (${dur / 1000} s first, then ${FLOOR_BESIDE_MS / 1000} s after each row): ` +
      `${Math.round(Math.min(...floors))} to ${Math.round(Math.max(...floors))} puts/s, median ${Math.round(mid)}; ` +
      'each row is divided by the mean of the floors just before and after it (its "floor beside"), and by the median',
  );
}

/** threadraft serve beside Redis, through redis-benchmark (bench/resp.ts). */
async function runResp(run: Run): Promise<void> {
  const a = run.args;
  const o = defaultRespOptions({
    targets: a.respTargets, nodes: a.nodes, storage: a.storage, sync: a.sync, pool: a.pool, durationS: a.durationS ?? (a.suite === 'quick' ? 1 : 3),
    requests: a.ops, keyspace: a.keys, valueSize: a.valueSize, seed: a.seed, ...(a.respServer === undefined ? {} : { serverScript: resolve(a.respServer) }),
  });
  const r = await benchResp(o);
  process.stdout.write(`\n${renderRespTable(r)}\n`);
  run.scenarios.push(...respScenarios(r, o));
  run.notes.push(...respNotes(r));
}

function machine(): Results['machine'] {
  const c = cpus();
  return { cpus: c.length, cpuModel: c[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}`, memGiB: Math.round(totalmem() / 2 ** 30) };
}

/** --profile: run this same command again under --cpu-prof, which profiles every thread (workers inherit it). */
function rerunWithProfiler(argv: string[], out: string): never {
  const dir = join(out, 'profiles');
  mkdirSync(dir, { recursive: true });
  const self = fileURLToPath(import.meta.url);
  const args = ['--cpu-prof', `--cpu-prof-dir=${dir}`, self, ...argv.filter((x) => x !== '--profile')];
  process.stderr.write(`recording CPU profiles of every thread into ${dir}\n`);
  process.on('SIGINT', () => {}); // the child gets it too, writes what it measured and exits 130: wait for it
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, THREADRAFT_PROFILED: '1' } });
  process.exit(r.status ?? 1);
}

/** Cluster start, preload and stop around a scenario's load (an estimate, for the time left). */
const SETUP_MS = 1500;

/** How long a scenario should take, from the durations baseSpec and runCompare give it. */
function estimateMs(a: Args, name: string): number {
  const quick = a.suite === 'quick';
  const warmupMs = (quick ? Math.min(a.warmupS, 0.5) : a.warmupS) * 1000;
  if (name === 'compare') {
    // The two raw LMDB rows, then each configuration; warm-ups of 1 s or more go on until steady (about 1 s more).
    const d = (a.durationS ?? (quick ? 2 : 4)) * 1000;
    const steadyMs = warmupMs >= 1000 ? 1000 : 0;
    const ones = [...LIGHT_ROWS.map(([, n]) => n), ...compareVariants(a).map(([, , n]) => n ?? a.clients)].filter((n) => n === 1).length;
    const rows = LIGHT_ROWS.length + compareVariants(a).length;
    return d + Math.min(d, 2000) + (rows + ones) * FLOOR_BESIDE_MS + LIGHT_ROWS.length * (d + LIGHT_WARMUP_MS + LIGHT_SETUP_MS) + compareVariants(a).length * (d + warmupMs + steadyMs + SETUP_MS);
  }
  const sweep = sweepEstimateMs(name, { suite: a.suite, durationS: a.durationS }, SETUP_MS);
  if (sweep !== undefined) return sweep;
  // Two phases of --duration, a preload of 100,000 keys and the catch-up itself (measured: about 15 s in all at 5 s).
  if (name === LEARNER_CATCHUP) return 2 * (a.durationS ?? (quick ? 2 : 5)) * 1000 + SETUP_MS + 3500;
  if (name === 'instrument-cost' || name === 'ttl-cost' || name === 'pool-cost') {
    const { pairs, seconds } = pairsFor(a.suite, a.durationS);
    // Two unrecorded pairs first; each TTL run then waits for its keys to expire (and about 200 ms of writes purge them).
    const pairMs = name === 'ttl-cost' ? 2 * (seconds * 1000 + TTL_RUN_WARMUP_MS) + TTL_EXPIRY_WAIT_MS + 200 : 2 * (seconds * 1000 + RUN_WARMUP_MS);
    const clusters = name === 'pool-cost' ? 2 : 1; // pool-cost: one cluster per arm
    return (pairs + 2) * pairMs + clusters * SETUP_MS;
  }
  if (name === 'resp') return a.respTargets.length * 6 * ((a.durationS ?? (quick ? 1 : 3)) + 2) * 1000;
  const durationMs = (a.durationS ?? (name === 'sustained' ? 60 : quick ? 2 : 5)) * 1000;
  return durationMs + warmupMs + SETUP_MS;
}

function collect(run: Run, startedAt: string, interrupted?: RunResults['interrupted']): RunResults {
  const results: RunResults = {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `node ${process.argv.slice(1).join(' ')}`,
    machine: machine(),
    scenarios: [...run.scenarios],
    notes: [...run.notes],
  };
  if (run.compare.length > 0) results.compare = [...run.compare];
  if (run.extra.sweeps.length > 0) results.sweeps = [...run.extra.sweeps];
  if (run.extra.instrumentationCost) results.instrumentationCost = run.extra.instrumentationCost;
  if (run.extra.ttlCost) results.ttlCost = run.extra.ttlCost;
  if (run.extra.poolCost) results.poolCost = run.extra.poolCost;
  if (interrupted !== undefined) {
    results.interrupted = interrupted;
    results.notes.push(`interrupted by ${interrupted.signal}${interrupted.during === undefined ? '' : ` during ${interrupted.during}`}: ${interrupted.completed} of ${interrupted.of} scenarios measured`);
  }
  return results;
}

/** Tables, baseline, thresholds; results.json and report.html; --json's object. Returns the exit code. */
async function finish(a: Args, results: RunResults, emitJson: ((text: string) => Promise<void>) | undefined): Promise<number> {
  const verdict = judge(results, a);
  process.stdout.write(`\n${verdict.text}`);
  const paths = await writeReport(a.out, verdict.results);
  process.stdout.write(`\nwrote ${paths.jsonPath}\nwrote ${paths.htmlPath}\n`);
  if (emitJson !== undefined) await emitJson(`${JSON.stringify(verdict.results, null, 2)}\n`);
  return verdict.exitCode;
}

/** Set by the first SIGINT, SIGTERM or SIGHUP (see onSignal in main). */
let interrupted = false;
/** How long a signal waits for the running clusters to stop before exiting anyway. */
const STOP_ON_SIGNAL_MS = 10_000;
/** A signal again within this long is the same interrupt delivered twice (below), not a second one. */
const SAME_SIGNAL_MS = 1_000;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const a = parseBenchArgs(argv);
  ignoreOutputErrors(); // the tables are also in results.json and report.html: `npm start | head` must still write them
  if (a.profile && process.env.THREADRAFT_PROFILED !== '1') rerunWithProfiler(argv, a.out);
  const emitJson = a.json ? reserveStdout() : undefined;
  mkdirSync(a.out, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-bench-'));
  const startedAt = new Date().toISOString();
  const run: Run = { args: a, dir, scenarios: [], compare: [], notes: [], extra: { sweeps: [] }, trace: a.trace ? new TraceCollector() : undefined };
  traceCollector = run.trace;
  if (!a.sync) run.notes.push('sync off: UNSAFE for durability, figures are not comparable with synced runs');
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  suite = new SuiteProgress(a.scenarios.map((n) => estimateMs(a, n)));
  let current: string | undefined;
  // SIGINT (^C), SIGTERM and SIGHUP alike: write what was measured so far, stop the clusters still running (an exit
  // with LMDB clusters running in worker threads can hang), remove the temp dir, exit as the signal would (130, 143,
  // 129). A second signal stops at once (the temp dir goes with the cleanup registered on exit), unless it is the
  // same one within a second: one ^C reaches this process twice when a parent forwards it (threadraft's CLI, npm)
  // and the terminal sends it to the whole process group too (so does `timeout`).
  let firstSignal: { signal: InterruptSignal; at: number } | undefined;
  const onSignal = (signal: InterruptSignal): void => {
    if (firstSignal !== undefined) {
      if (firstSignal.signal === signal && performance.now() - firstSignal.at < SAME_SIGNAL_MS) return;
      process.exit(SIGNAL_EXIT_CODES[signal]);
    }
    firstSignal = { signal, at: performance.now() };
    interrupted = true;
    process.stderr.write(`\n${signal}: writing what was measured so far (${run.scenarios.length} scenario(s)); ^C again to stop at once\n`);
    const completed = current === undefined ? a.scenarios.length : a.scenarios.indexOf(current);
    const results = collect(run, startedAt, { signal, during: current, completed, of: a.scenarios.length });
    finish(a, results, emitJson)
      .catch((err: unknown) => process.stderr.write(`writing the partial results failed: ${err instanceof Error ? err.message : String(err)}\n`))
      .then(() => stopAllClusters(STOP_ON_SIGNAL_MS))
      .finally(() => {
        cleanup();
        process.exit(SIGNAL_EXIT_CODES[signal]);
      });
  };
  process.on('exit', cleanup);
  for (const signal of Object.keys(SIGNAL_EXIT_CODES) as InterruptSignal[]) process.on(signal, () => onSignal(signal));
  process.stdout.write(`threadraft benchmark: ${a.nodes} nodes, ${a.storage}, sync ${a.sync ? 'on' : 'off'}, pool ${a.pool}; ${machine().cpus} cores, node ${process.version}; ${a.scenarios.length} scenarios, about ${formatLeft(suite.timer.leftMs())}\n`);
  try {
    for (const [i, name] of a.scenarios.entries()) {
      current = name;
      suite.timer.begin(i);
      if (name === 'compare') await runCompare(run);
      else if (name === 'resp') await runResp(run);
      else if (isExtra(name)) await runExtraScenario(run, name);
      else await runScenario(run, name);
      if (interrupted) return; // the SIGINT handler is writing and will exit
    }
  } finally {
    if (!interrupted) cleanup();
  }
  if (interrupted) return;
  current = undefined;
  if (run.trace) process.stdout.write(`wrote ${await run.trace.write(a.out)}\n`);
  process.exitCode = await finish(a, collect(run, startedAt), emitJson);
}

main().catch((err) => {
  // After a signal the handler stops the clusters, which fails the scenario under way: the handler exits, not this.
  if (interrupted) return;
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
