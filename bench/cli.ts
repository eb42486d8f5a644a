// The main job: benchmark a real threadraft cluster (3 nodes, LMDB, synced writes by default) in a
// temporary directory, print a table, and write results.json and report.html.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { Cluster, type ClusterOptions, type Consistency } from '../src/index.js';
import { preload, runLoad, type LoadSpec } from './load.js';
import { rawLmdb } from './raw-lmdb.js';
import { benchResp, defaultRespOptions, renderRespTable, respNotes, respScenarios, TARGET_IDS, type TargetId } from './resp.js';
import type { CompareRow, Results, ScenarioResult } from './report/types.js';
import { renderTable } from './report/table.js';
import { writeReport } from './report/write.js';
import { DEFAULT_SLO_P99_MS, EXTRA_SUITES, isExtra, runExtra, TraceCollector, type ExtraResults } from './extra.js';

const HELP = `threadraft benchmark: a real in-process Raft cluster, measured.

Usage: npm start                      the standard suite (2–4 minutes)
       npm run bench -- [options]

Cluster
  --nodes <1|3|5>            voters (default 3)
  --storage <lmdb|memory>    (default lmdb)
  --sync / --no-sync         synced LMDB writes (default on; --no-sync is UNSAFE for durability)
  --pool <piscina|inline>    where storage transactions run (default piscina)
  --no-instrument            do not record write-path stages
Load
  --clients <n>              calls in flight for the throughput scenarios (default 256)
  --value-size <bytes>       (default 100)
  --keys <n>                 key space (default 10000)
  --read-ratio <0..1>        for the 'custom' scenario (default 0)
  --consistency <linearizable|lease|stale>   for the 'custom' scenario (default linearizable)
  --batch <n>                operations per write call in the 'custom' scenario (default 1)
  --duration <s>             seconds per scenario (default 5; sustained: 60)
  --ops <n>                  stop each scenario after n operations (default: no limit)
  --warmup <s>               seconds of warm-up before each scenario (default 1)
  --seed <n>                 (default 1)
  --rate <n>                 open loop: calls sent at n/s, each latency from its intended send time
                             (every scenario; without it they are closed loop). 'open-loop' uses it (default 10000)
  --slo-p99 <ms>             for 'rate-sweep': the p99 bound (default 10)
Run
  --suite <quick|standard|full>   quick: a few scenarios of 2 s; standard: all but sustained; full: all (default standard)
  --scenarios <a,b,...>      run only these (see the list below)
  --out <dir>                where results.json, report.html and profiles go (default ./bench-results)
  --profile                  record a CPU profile of every thread into <out>/profiles
  --trace                    write <out>/trace.json: a sample of writes per scenario (Chrome trace events; Perfetto)
  --resp                     run the 'resp' scenario (alone, or after those given by --scenarios)
  --resp-targets <a,b,...>   for 'resp': threadraft, redis-aof, redis-replicas, redis-nopersist (default all)
  --resp-server <path>       for 'resp': the built CLI with 'serve' (default dist/src/cli/threadraft.js)
  -h, --help                 this text

Scenarios
  write-1            one client, single puts (latency floor of the write path)
  write-N            --clients calls in flight, single puts (throughput)
  batch-10 batch-50 batch-100 batch-500   batch() calls of that many puts, 4 in flight
  read-linearizable  --clients reads in flight, ReadIndex through the leader
  read-lease         the leader's lease, no round trip
  read-stale         a node's state machine as it is (LMDB read on the main thread)
  read-peek          the same through the synchronous peek(), one caller
  mixed-90-10        90 % linearizable reads, 10 % writes
  cache-ttl-churn    cache: 90 % lease reads, 10 % puts with a TTL of 0.5–1.5 s
  cache-evict        cache: puts over 10 × --keys keys into a cache bounded to --keys keys (maxKeys)
  watch-fanout-1 watch-fanout-100   batch() of 100 puts, 4 in flight, watched by 1 or 100 prefix watchers:
                     events/s delivered, and the time from a node's apply to the watcher's next()
  watch-capacity     watch-fanout-1 fed by a 1-node memory cluster: what the watch path delivers when the
                     writes are not the limit (the 3-node LMDB write path is, in watch-fanout-1)
  sustained          write-N for 60 s (or --duration)
  custom             exactly the load given by the options above
  compare            in one run: raw LMDB synced (the floor), memory vs LMDB, piscina vs inline,
                     256 vs 1024 in flight, puts with and without a TTL, 1/3/5 nodes,
                     instrumentation on vs off
  sweep              latency against throughput: puts at 1, 4, 16, 64, 256, 1024 in flight, per configuration
                     (standard: 3 nodes lmdb piscina / inline / memory; full adds 5 nodes and 1 node)
  sweep-batch        batch() of 1, 10, 50, 100, 500 puts at 4 in flight (full: also 64)
  rate-sweep         open loop: the highest rate whose p99 stays within --slo-p99 (doubling, then bisecting; bounded)
  open-loop          puts at --rate per second, open loop
  instrument-cost    stage timing on vs off, interleaved pairs on two clusters: median cost and its 95 % CI
  resp               redis-benchmark -t set,get at -c 1, -c 64, -c 64 -P 16 against 'threadraft serve'
                     (--nodes/--storage/--sync/--pool), beside Redis with AOF always, Redis + 2 replicas
                     with SET + WAIT 1 0 (bench/resp-load.ts), Redis without persistence; each row about
                     --duration s (default 3; -n sized by a probe run), or -n = --ops (at least 4 × -c × -P);
                     -r = --keys, -d = --value-size.
                     Targets that are not built or not installed are reported and skipped.
`;

interface Args {
  nodes: number;
  storage: 'lmdb' | 'memory';
  sync: boolean;
  pool: 'piscina' | 'inline';
  instrument: boolean;
  clients: number;
  valueSize: number;
  keys: number;
  readRatio: number;
  consistency: Consistency;
  batch: number;
  durationS: number | undefined;
  ops: number;
  warmupS: number;
  seed: number;
  suite: 'quick' | 'standard' | 'full';
  scenarios: string[] | undefined;
  out: string;
  profile: boolean;
  respTargets: TargetId[];
  respServer: string | undefined;
  rate: number | undefined;
  sloP99Ms: number;
  trace: boolean;
}

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n\nRun with --help for the options.\n`);
  process.exit(2);
}

function num(name: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) fail(`--${name} must be a number in [${min}, ${max}], got ${v}`);
  return n;
}

function pick<T extends string>(name: string, v: string | undefined, dflt: T, allowed: readonly T[]): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) fail(`--${name} must be one of ${allowed.join(', ')}, got ${v}`);
  return v as T;
}

function parse(argv: string[]): Args {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        nodes: { type: 'string' }, storage: { type: 'string' }, sync: { type: 'boolean' }, 'no-sync': { type: 'boolean' },
        pool: { type: 'string' }, 'no-instrument': { type: 'boolean' }, clients: { type: 'string' }, 'value-size': { type: 'string' },
        keys: { type: 'string' }, 'read-ratio': { type: 'string' }, consistency: { type: 'string' }, batch: { type: 'string' },
        duration: { type: 'string' }, ops: { type: 'string' }, warmup: { type: 'string' }, seed: { type: 'string' },
        suite: { type: 'string' }, scenarios: { type: 'string' }, out: { type: 'string' }, profile: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        resp: { type: 'boolean' }, 'resp-targets': { type: 'string' }, 'resp-server': { type: 'string' },
        rate: { type: 'string' }, 'slo-p99': { type: 'string' }, trace: { type: 'boolean' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const nodes = num('nodes', v.nodes, 3, 1, 7);
  if (![1, 3, 5].includes(nodes)) fail('--nodes must be 1, 3 or 5');
  const respTargets = v['resp-targets']?.split(',').map((s) => s.trim()).filter(Boolean) ?? [...TARGET_IDS];
  for (const t of respTargets) if (!(TARGET_IDS as readonly string[]).includes(t)) fail(`--resp-targets: unknown target ${t} (${TARGET_IDS.join(', ')})`);
  const scenarios = v.scenarios?.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    nodes,
    storage: pick('storage', v.storage, 'lmdb', ['lmdb', 'memory'] as const),
    sync: v['no-sync'] ? false : (v.sync ?? true),
    pool: pick('pool', v.pool, 'piscina', ['piscina', 'inline'] as const),
    instrument: !v['no-instrument'],
    clients: num('clients', v.clients, 256, 1, 65_536),
    valueSize: num('value-size', v['value-size'], 100, 1, 1024 * 1024),
    keys: num('keys', v.keys, 10_000, 1, 10_000_000),
    readRatio: num('read-ratio', v['read-ratio'], 0, 0, 1),
    consistency: pick('consistency', v.consistency, 'linearizable', ['linearizable', 'lease', 'stale'] as const),
    batch: num('batch', v.batch, 1, 1, 1024),
    durationS: v.duration === undefined ? undefined : num('duration', v.duration, 5, 0.1, 86_400),
    ops: num('ops', v.ops, 0, 0, 1e12),
    warmupS: num('warmup', v.warmup, 1, 0, 600),
    seed: num('seed', v.seed, 1, 0, 0xffffffff),
    suite: pick('suite', v.suite, 'standard', ['quick', 'standard', 'full'] as const),
    scenarios: v.resp ? [...(scenarios ?? []).filter((s) => s !== 'resp'), 'resp'] : scenarios,
    out: resolve(v.out ?? 'bench-results'),
    profile: v.profile ?? false,
    respTargets: respTargets as TargetId[],
    respServer: v['resp-server'],
    rate: v.rate === undefined ? undefined : num('rate', v.rate, 0, 1, 10_000_000),
    sloP99Ms: num('slo-p99', v['slo-p99'], DEFAULT_SLO_P99_MS, 0.01, 60_000),
    trace: v.trace ?? false,
  };
}

const SUITES: Record<Args['suite'], string[]> = {
  quick: ['write-1', 'write-N', 'read-linearizable', 'read-stale', 'read-peek', 'compare'],
  standard: ['write-1', 'write-N', 'batch-10', 'batch-50', 'batch-100', 'batch-500', 'read-linearizable', 'read-lease', 'read-stale', 'read-peek', 'mixed-90-10', 'cache-ttl-churn', 'cache-evict', 'watch-fanout-1', 'watch-fanout-100', 'watch-capacity', 'compare'],
  full: ['write-1', 'write-N', 'batch-10', 'batch-50', 'batch-100', 'batch-500', 'read-linearizable', 'read-lease', 'read-stale', 'read-peek', 'mixed-90-10', 'cache-ttl-churn', 'cache-evict', 'watch-fanout-1', 'watch-fanout-100', 'watch-capacity', 'sustained', 'custom', 'compare'],
};
for (const suite of ['quick', 'standard', 'full'] as const) SUITES[suite].push(...EXTRA_SUITES[suite]); // issue 15's scenarios (bench/extra.ts)
const KNOWN = new Set([...SUITES.full, 'resp']);

interface Run {
  args: Args;
  dir: string;
  scenarios: ScenarioResult[];
  compare: CompareRow[];
  notes: string[];
  instrumentation?: Results['instrumentationOverhead'];
  extra: ExtraResults;
  trace: TraceCollector | undefined;
}

/** Issue 15's scenarios (bench/extra.ts): sweeps, open loop, instrumentation cost. */
function runExtraScenario(run: Run, name: string): Promise<void> {
  const a = run.args;
  const measureSpec = async (spec: LoadSpec): Promise<void> => {
    run.scenarios.push(await measure(spec, clusterOptions(a, run.dir), params(a)));
  };
  return runExtra(name, { suite: a.suite, durationS: a.durationS, rate: a.rate, sloP99Ms: a.sloP99Ms }, baseSpec(a, name, name, {}), (over) => clusterOptions(a, run.dir, over), (over) => params(a, over), measureSpec, run.extra);
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
    case 'write-N':
      return baseSpec(a, `write-${a.clients}`, `${a.clients} single puts in flight`, {});
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
      const m = /^batch-(\d+)$/.exec(name);
      if (m) return baseSpec(a, name, `batch() of ${m[1]} puts, 4 calls in flight`, { clients: 4, batchSize: Number(m[1]) });
      throw new Error(`unknown scenario ${name}`);
    }
  }
}

function params(a: Args, over: Record<string, string | number | boolean> = {}): Record<string, string | number | boolean> {
  return { nodes: a.nodes, storage: a.storage, sync: a.sync, pool: a.pool, instrument: a.instrument, ...over };
}

/** A live progress bar with the current throughput (a line per scenario when stdout is not a terminal). */
function progress(label: string, totalMs: number): { onProgress: LoadSpec['onProgress']; stop(): void } {
  if (!process.stdout.isTTY) {
    process.stdout.write(`running ${label}...\n`);
    return { onProgress: undefined, stop() {} };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label.slice(0, 40).padEnd(40)} [{bar}] {percentage}% | {rate} ops/s`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalMs, 0, { rate: 0 });
  let lastOps = 0;
  let lastMs = 0;
  return {
    onProgress: (ops, elapsedMs) => {
      const rate = elapsedMs > lastMs ? Math.round(((ops - lastOps) * 1000) / (elapsedMs - lastMs)) : 0;
      lastOps = ops;
      lastMs = elapsedMs;
      bar.update(Math.min(totalMs, elapsedMs), { rate });
    },
    stop: () => bar.stop(),
  };
}

async function measure(spec: LoadSpec, opts: ClusterOptions, p: Record<string, string | number | boolean>): Promise<ScenarioResult> {
  const cluster = await Cluster.start(opts);
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
  const cluster = await Cluster.start(opts);
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
  return { name, opsPerSec, latencyMs, ratioToRawLmdb: floor > 0 ? opsPerSec / floor : 0 };
}

/** Everything compared side by side in one run, so that ratios hold even when the machine is noisy. */
async function runCompare(run: Run): Promise<void> {
  const a = run.args;
  const dur = (a.durationS ?? (a.suite === 'quick' ? 2 : 4)) * 1000;
  process.stdout.write('compare: raw LMDB (the floor)...\n');
  const rawTxn = rawLmdb(64, a.valueSize, dur, true);
  const rawPut = rawLmdb(1, a.valueSize, Math.min(dur, 2000), true);
  const floor = rawTxn.opsPerSec;
  run.compare.push(row('raw LMDB, synced txns of 64 puts (floor)', rawTxn.opsPerSec, rawTxn.latencyMs, floor));
  run.compare.push(row('raw LMDB, synced single puts', rawPut.opsPerSec, rawPut.latencyMs, floor));
  const variants: Array<[string, Partial<ClusterOptions>, (number | undefined)?, number?]> = [
    [`3 nodes, lmdb, piscina (${a.clients} in flight)`, { nodes: 3, storage: 'lmdb', pool: 'piscina', instrument: true }],
    [`3 nodes, lmdb, piscina, puts with a TTL of 0.5–1.5 s (${a.clients} in flight)`, { nodes: 3, storage: 'lmdb', pool: 'piscina', instrument: true }, undefined, 1000],
    ['3 nodes, lmdb, piscina (1024 in flight)', { nodes: 3, storage: 'lmdb', pool: 'piscina', instrument: true }, 1024],
    ['3 nodes, lmdb, inline', { nodes: 3, storage: 'lmdb', pool: 'inline', instrument: true }],
    ['3 nodes, memory', { nodes: 3, storage: 'memory', instrument: true }],
    ['1 node, lmdb, piscina', { nodes: 1, storage: 'lmdb', pool: 'piscina', instrument: true }],
    ['5 nodes, lmdb, piscina', { nodes: 5, storage: 'lmdb', pool: 'piscina', instrument: true }],
    ['3 nodes, lmdb, piscina, instrumentation off', { nodes: 3, storage: 'lmdb', pool: 'piscina', instrument: false }],
  ];
  const results: number[] = [];
  for (const [label, over, clients, ttlMs] of variants) {
    const spec = baseSpec(a, `compare: ${label}`, label, { durationMs: dur, ...(clients === undefined ? {} : { clients }), ...(ttlMs === undefined ? {} : { ttlMs }) });
    const r = await measure(spec, clusterOptions(a, run.dir, over), params(a, over as Record<string, string | number | boolean>));
    results.push(r.opsPerSec);
    run.compare.push(row(label, r.opsPerSec, r.latencyMs, floor));
  }
  const on = results[0]!;
  const off = results[results.length - 1]!;
  run.instrumentation = { onOpsPerSec: on, offOpsPerSec: off, costPct: off > 0 ? ((off - on) / off) * 100 : 0 };
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
  process.stdout.write(`recording CPU profiles of every thread into ${dir}\n`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, THREADRAFT_PROFILED: '1' } });
  process.exit(r.status ?? 1);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const a = parse(argv);
  if (a.profile && process.env.THREADRAFT_PROFILED !== '1') rerunWithProfiler(argv, a.out);
  const names = a.scenarios ?? SUITES[a.suite];
  for (const n of names) if (!KNOWN.has(n) && !/^batch-\d+$/.test(n)) fail(`unknown scenario ${n}; see --help`);
  mkdirSync(a.out, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'threadraft-bench-'));
  const startedAt = new Date().toISOString();
  const run: Run = { args: a, dir, scenarios: [], compare: [], notes: [], extra: { sweeps: [] }, trace: a.trace ? new TraceCollector() : undefined };
  traceCollector = run.trace;
  if (!a.sync) run.notes.push('sync off: UNSAFE for durability, figures are not comparable with synced runs');
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  process.stdout.write(`threadraft benchmark: ${a.nodes} nodes, ${a.storage}, sync ${a.sync ? 'on' : 'off'}, pool ${a.pool}; ${machine().cpus} cores, node ${process.version}\n`);
  try {
    for (const name of names) {
      if (name === 'compare') await runCompare(run);
      else if (name === 'resp') await runResp(run);
      else if (isExtra(name)) await runExtraScenario(run, name);
      else await runScenario(run, name);
    }
  } finally {
    cleanup();
  }
  const results: Results = {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `node ${process.argv.slice(1).join(' ')}`,
    machine: machine(),
    scenarios: run.scenarios,
    notes: run.notes,
  };
  if (run.compare.length > 0) results.compare = run.compare;
  if (run.instrumentation) results.instrumentationOverhead = run.instrumentation;
  if (run.extra.sweeps.length > 0) results.sweeps = run.extra.sweeps;
  if (run.extra.instrumentationCost) results.instrumentationCost = run.extra.instrumentationCost;
  if (run.trace) process.stdout.write(`wrote ${await run.trace.write(a.out)}\n`);
  process.stdout.write(`\n${renderTable(results)}\n`);
  const paths = await writeReport(a.out, results);
  process.stdout.write(`\nwrote ${paths.jsonPath}\nwrote ${paths.htmlPath}\n`);
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
