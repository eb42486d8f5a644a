// The RESP benchmark (issue 14): `threadraft serve` behind redis-benchmark, beside Redis measured by the
// same tools in the same run. Targets run one at a time, each a supervised child process
// (bench/resp-targets.ts); the table, the rows of results.json and the ratios of the issue's targets
// are computed here. Entry points: the suite's `resp` scenario (bench/cli.ts) and benchRespReport()
// for `threadraft bench --resp`.
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Results, ScenarioResult } from './report/types.js';
import { formatInt, formatMs } from './report/format.js';
import { alignColumns } from './report/table.js';
import { writeReport } from './report/write.js';
import { callOnce, RespError } from './resp-proto.js';
import { genCommandLine, preloadKeys, runGenerator, runRedisBenchmark, type GenMode } from './resp-load.js';
import {
  HOST, NotBuilt, onPath, startRedisAof, startRedisNoPersist, startRedisReplicas, startThreadraft,
  TARGET_IDS, TARGET_LABELS, type Target, type TargetId, type Unavailable,
} from './resp-targets.js';

export { TARGET_IDS, type TargetId } from './resp-targets.js';

export interface RespBenchOptions {
  /** Which targets to run, in this order (default: all of TARGET_IDS). */
  targets: readonly TargetId[];
  /** The built CLI that has `serve` (default dist/src/cli/threadraft.js of this build). */
  serverScript: string;
  /** `threadraft serve` flags. */
  nodes: number;
  storage: string;
  sync: boolean;
  pool: string;
  /** Seconds per row: redis-benchmark's -n is sized from a probe run to last about this long. */
  durationS: number;
  /** redis-benchmark -n when > 0 (no probe; at least 4 × -c × -P); 0: sized to durationS. */
  requests: number;
  keyspace: number;
  valueSize: number;
  seed: number;
  log: (line: string) => void;
}

export function defaultServerScript(): string {
  // This file is dist/bench/resp.js; the CLI is dist/src/cli/threadraft.js.
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'threadraft.js');
}

export function defaultRespOptions(over: Partial<RespBenchOptions> = {}): RespBenchOptions {
  return {
    targets: TARGET_IDS, serverScript: defaultServerScript(), nodes: 3, storage: 'lmdb', sync: true, pool: 'piscina',
    durationS: 3, requests: 0, keyspace: 10_000, valueSize: 100, seed: 1, log: (l) => process.stdout.write(`${l}\n`),
    ...over,
  };
}

export type RespTest = 'SET' | 'GET' | 'SET+WAIT';
export type RespTool = 'redis-benchmark' | 'resp-load';

/**
 * One measured row: a scenario's figures (`ops`: requests sent by redis-benchmark -n, or operations completed by
 * resp-load; `latencyMs` has NaN where the tool does not report it: redis-benchmark's CSV has no p99.9).
 */
export interface RespRow extends Pick<ScenarioResult, 'ops' | 'errors' | 'durationMs' | 'opsPerSec' | 'latencyMs' | 'histogram' | 'throughput'> {
  target: TargetId;
  test: RespTest;
  tool: RespTool;
  connections: number;
  pipeline: number;
  command: string;
}

export interface RespRatio {
  name: string;
  /** undefined when a side was not measured in this run. */
  value: number | undefined;
  goal: number;
  unit: 'x' | 'ops/s';
  how: string;
}

export interface RespRun {
  rows: RespRow[];
  /** Rows that failed, and targets that could not run, with the reason. */
  failures: string[];
  unavailable: Unavailable[];
  /** How each target that ran was started. */
  setups: Partial<Record<TargetId, string[]>>;
  ratios: RespRatio[];
}

interface Load {
  test: RespTest;
  tool: RespTool;
  connections: number;
  pipeline: number;
}

const SHAPES: ReadonlyArray<[number, number]> = [[1, 1], [64, 1], [64, 16]];

/** What each target is measured with: redis-benchmark -t set,get at the three shapes, except where a WAIT is needed. */
function loadsFor(id: TargetId): Load[] {
  const rb = (test: RespTest): Load[] => SHAPES.map(([c, p]) => ({ test, tool: 'redis-benchmark', connections: c, pipeline: p }));
  const gen = (test: RespTest, shapes: ReadonlyArray<[number, number]>): Load[] => shapes.map(([c, p]) => ({ test, tool: 'resp-load', connections: c, pipeline: p }));
  switch (id) {
    case 'threadraft': // resp-load's SETs cross-check redis-benchmark's, and are what the WAIT rows are measured with
      return [...interleave(rb('SET'), rb('GET')), ...gen('SET', [[1, 1], [64, 1]])];
    case 'redis-replicas':
      return [...gen('SET+WAIT', SHAPES), ...rb('GET')];
    case 'redis-aof': // resp-load's SETs beside redis-benchmark's on a server both know: a check of resp-load itself
      return [...interleave(rb('SET'), rb('GET')), ...gen('SET', [[1, 1], [64, 1]])];
    case 'redis-nopersist':
      return interleave(rb('SET'), rb('GET'));
  }
}

/** The rows (scenario names) a run of `targets` may report: what a `resp: ...` threshold may name. */
export function respRowNames(targets: readonly TargetId[]): string[] {
  return targets.flatMap((id) => loadsFor(id).map((l) => rowName(id, l)));
}

function rowName(id: TargetId, l: Pick<Load, 'test' | 'tool' | 'connections' | 'pipeline'>): string {
  return `resp: ${id} ${describeLoad(l)}${l.tool === 'resp-load' ? ' (resp-load)' : ''}`;
}

/** SET then GET of each shape, so the GETs find the keys the SETs wrote. */
function interleave(a: Load[], b: Load[]): Load[] {
  return a.flatMap((x, i) => (b[i] === undefined ? [x] : [x, b[i]]));
}

/** Runs every selected target in turn and returns its rows; targets that cannot run are reported, not fatal. */
export async function benchResp(o: RespBenchOptions): Promise<RespRun> {
  const run: RespRun = { rows: [], failures: [], unavailable: [], setups: {}, ratios: [] };
  const haveRedis = onPath('redis-server');
  const haveRb = onPath('redis-benchmark');
  for (const id of o.targets) {
    const label = TARGET_LABELS[id];
    if (id !== 'threadraft' && !haveRedis) {
      run.unavailable.push({ id, label, reason: 'not installed: redis-server is not on PATH (Debian: apt-get install redis-server)' });
      continue;
    }
    o.log(`resp: starting ${label}...`);
    let target: Target;
    try {
      target = await start(id, o);
    } catch (e) {
      const reason = e instanceof NotBuilt ? `not built: ${e.message}` : `failed to start: ${(e as Error).message}`;
      run.unavailable.push({ id, label, reason });
      o.log(`resp: ${label}: ${reason}`);
      continue;
    }
    try {
      run.setups[id] = target.setup;
      await sanityCheck(target, o.valueSize);
      await preloadKeys(target.port, o.keyspace, o.valueSize);
      for (const load of loadsFor(id)) {
        if (load.tool === 'redis-benchmark' && !haveRb) {
          run.failures.push(`${label} ${describeLoad(load)}: redis-benchmark is not on PATH (Debian: apt-get install redis-tools)`);
          continue;
        }
        o.log(`resp: ${label}: ${describeLoad(load)}`);
        try {
          run.rows.push(await measure(target, load, o));
        } catch (e) {
          run.failures.push(`${label} ${describeLoad(load)}: ${(e as Error).message}`);
          o.log(`resp:   failed: ${(e as Error).message.split('\n')[0] ?? ''}`);
        }
      }
    } catch (e) {
      run.failures.push(`${label}: ${(e as Error).message}`);
    } finally {
      await target.stop();
    }
  }
  run.ratios = ratios(run.rows, o.sync && o.storage !== 'memory');
  return run;
}

function start(id: TargetId, o: RespBenchOptions): Promise<Target> {
  switch (id) {
    case 'threadraft':
      return startThreadraft({ script: o.serverScript, nodes: o.nodes, storage: o.storage, sync: o.sync, pool: o.pool });
    case 'redis-aof':
      return startRedisAof();
    case 'redis-replicas':
      return startRedisReplicas();
    case 'redis-nopersist':
      return startRedisNoPersist();
  }
}

/** A SET and a GET answered as Redis would, so that the load's replies (which only count) mean something. */
async function sanityCheck(t: Target, valueSize: number): Promise<void> {
  const key = 'key:000000000000';
  const value = 'x'.repeat(valueSize);
  const set = await callOnce(HOST, t.port, ['SET', key, value]);
  if (set !== 'OK') throw new Error(`SET answered ${show(set)}, not +OK`);
  const got = await callOnce(HOST, t.port, ['GET', key]);
  if (got !== value) throw new Error(`GET answered ${show(got)}, not the value just set`);
}

function show(v: unknown): string {
  return v instanceof RespError ? `-${v.message}` : JSON.stringify(v)?.slice(0, 80) ?? String(v);
}

export function describeLoad(l: Pick<Load, 'test' | 'connections' | 'pipeline'>): string {
  return `${l.test === 'SET+WAIT' ? 'SET + WAIT 1 0' : l.test} -c ${l.connections}${l.pipeline > 1 ? ` -P ${l.pipeline}` : ''}`;
}

async function measure(t: Target, load: Load, o: RespBenchOptions): Promise<RespRow> {
  return load.tool === 'redis-benchmark' ? measureRb(t, load, o) : measureGen(t, load, o);
}

/** redis-benchmark takes a request count, not a time: a probe run sizes -n to about `durationS`. */
async function measureRb(t: Target, load: Load, o: RespBenchOptions): Promise<RespRow> {
  const test = load.test === 'GET' ? 'get' : 'set';
  const base = { port: t.port, test, connections: load.connections, pipeline: load.pipeline, keyspace: o.keyspace, valueSize: o.valueSize } as const;
  // Fewer requests than a few pipelines per connection is over in a millisecond (redis-benchmark then says "inf").
  const minN = 4 * load.connections * load.pipeline;
  let requests = o.requests > 0 ? Math.max(o.requests, minN) : 0;
  if (requests <= 0) {
    const probeN = Math.max(500, 4 * minN);
    const probe = await runRedisBenchmark({ ...base, requests: probeN }, 120_000);
    requests = Math.min(50_000_000, Math.max(probeN, Math.round(probe.row.rps * o.durationS)));
  }
  const { row, command } = await runRedisBenchmark({ ...base, requests }, Math.max(60_000, o.durationS * 20_000));
  return {
    target: t.id, test: load.test, tool: load.tool, connections: load.connections, pipeline: load.pipeline,
    ops: requests, errors: 0, durationMs: (requests / row.rps) * 1000, opsPerSec: row.rps,
    latencyMs: { p50: row.p50Ms, p95: row.p95Ms, p99: row.p99Ms, p999: NaN, max: row.maxMs, mean: row.avgMs },
    histogram: [], throughput: [], command,
  };
}

async function measureGen(t: Target, load: Load, o: RespBenchOptions): Promise<RespRow> {
  const mode: GenMode = load.test === 'SET+WAIT' ? 'set-wait' : load.test === 'GET' ? 'get' : 'set';
  const durationMs = o.durationS * 1000;
  const spec = {
    port: t.port, mode, connections: load.connections, pipeline: load.pipeline, durationMs, warmupMs: Math.min(1000, durationMs / 4),
    keyspace: o.keyspace, valueSize: o.valueSize, waitReplicas: 1, seed: o.seed,
  };
  const r = await runGenerator(spec);
  if (r.ops === 0) throw new Error(`no operation completed${r.firstError ? ` (first error: ${r.firstError})` : ''}`);
  const s = r.histogram.summary();
  return {
    target: t.id, test: load.test, tool: load.tool, connections: load.connections, pipeline: load.pipeline,
    ops: r.ops, errors: r.errors, durationMs: r.durationMs, opsPerSec: r.opsPerSec,
    latencyMs: { p50: s.p50, p95: s.p95, p99: s.p99, p999: s.p999, max: s.max, mean: s.mean },
    histogram: r.histogram.buckets(), throughput: r.throughput, command: genCommandLine(spec),
  };
}

// ---- the targets of issue 14 --------------------------------------------------------------------

function find(rows: RespRow[], target: TargetId, test: RespTest, tool: RespTool, c: number, p: number): RespRow | undefined {
  return rows.find((r) => r.target === target && r.test === test && r.tool === tool && r.connections === c && r.pipeline === p);
}

function ratios(rows: RespRow[], durable: boolean): RespRatio[] {
  const caveat = durable ? '' : ' (threadraft ran with sync off or memory storage: its SETs are not durable, the ratio compares unlike things)';
  const wait64 = find(rows, 'redis-replicas', 'SET+WAIT', 'resp-load', 64, 1);
  const div = (a: RespRow | undefined, b: RespRow | undefined): number | undefined => (a && b && b.opsPerSec > 0 ? a.opsPerSec / b.opsPerSec : undefined);
  const get16 = find(rows, 'threadraft', 'GET', 'redis-benchmark', 64, 16);
  return [
    {
      name: 'durable SET at 64 connections: threadraft ÷ Redis + 2 replicas, AOF always, WAIT 1',
      value: div(find(rows, 'threadraft', 'SET', 'redis-benchmark', 64, 1), wait64),
      goal: 1.5, unit: 'x',
      how: `threadraft: redis-benchmark -t set -c 64; Redis: resp-load SET + WAIT 1 0 -c 64${caveat}`,
    },
    {
      name: 'the same, one load generator for both sides (cross-check)',
      value: div(find(rows, 'threadraft', 'SET', 'resp-load', 64, 1), wait64),
      goal: 1.5, unit: 'x',
      how: `threadraft: resp-load SET -c 64; Redis: resp-load SET + WAIT 1 0 -c 64${caveat}`,
    },
    {
      name: 'linearizable GET at 64 connections, -P 16: threadraft',
      value: get16?.opsPerSec, goal: 100_000, unit: 'ops/s',
      how: 'redis-benchmark -t get -c 64 -P 16',
    },
  ];
}

function ratioText(r: RespRatio): string {
  if (r.value === undefined) return `${r.name}: not measured in this run (target ≥ ${r.unit === 'x' ? r.goal : formatInt(r.goal)})`;
  const v = r.unit === 'x' ? `${r.value.toFixed(2)}×` : `${formatInt(r.value)} ops/s`;
  const goal = r.unit === 'x' ? `${r.goal}×` : `${formatInt(r.goal)} ops/s`;
  return `${r.name}: ${v} (target ≥ ${goal}: ${r.value >= r.goal ? 'met' : 'NOT met'}; ${r.how})`;
}

// ---- output -------------------------------------------------------------------------------------

const ms = (v: number): string => (Number.isFinite(v) ? formatMs(v) : '—');

/** The side-by-side table, the command of every row, how each target was started, and the ratios. */
export function renderRespTable(run: RespRun): string {
  const header = ['#', 'target', 'test', 'tool', 'ops/s', 'p50 ms', 'p99 ms', 'max ms'];
  const rows = run.rows.map((r, i) => [String(i + 1), TARGET_LABELS[r.target], describeLoad(r), r.tool, formatInt(r.opsPerSec), ms(r.latencyMs.p50), ms(r.latencyMs.p99), ms(r.latencyMs.max)]);
  for (const u of run.unavailable) rows.push(['-', u.label, '', u.reason.split(':')[0] ?? '', '', '', '', '']);
  const parts = [`RESP: threadraft behind redis-benchmark, beside Redis\n${alignColumns(header, rows)}`];
  if (run.unavailable.length > 0) parts.push(`not measured\n${run.unavailable.map((u) => `  ${u.label}: ${u.reason.split('\n').join('\n    ')}`).join('\n')}`);
  parts.push(`commands\n${run.rows.map((r, i) => `  ${i + 1}. ${r.command}`).join('\n')}`);
  const setups = Object.entries(run.setups).map(([id, cmds]) => `  ${TARGET_LABELS[id as TargetId]}:\n${(cmds ?? []).map((c) => `    ${c}`).join('\n')}`);
  if (setups.length > 0) parts.push(`targets started as\n${setups.join('\n')}`);
  parts.push(`targets of issue 14\n${run.ratios.map((r) => `  ${ratioText(r)}`).join('\n')}`);
  if (run.failures.length > 0) parts.push(`failed\n${run.failures.map((f) => `  ${f.split('\n').join('\n    ')}`).join('\n')}`);
  return parts.join('\n\n') + '\n';
}

/** The rows as scenarios of results.json (rendered by the report like any other scenario). */
export function respScenarios(run: RespRun, o: Pick<RespBenchOptions, 'keyspace' | 'valueSize' | 'nodes' | 'storage' | 'sync' | 'pool'>): ScenarioResult[] {
  return run.rows.map((r) => {
    const params: ScenarioResult['params'] = {
      target: r.target, tool: r.tool, test: r.test, connections: r.connections, pipeline: r.pipeline,
      keyspace: o.keyspace, valueBytes: o.valueSize, command: r.command, startedAs: (run.setups[r.target] ?? []).join(' ; '),
    };
    if (r.target === 'threadraft') Object.assign(params, { nodes: o.nodes, storage: o.storage, sync: o.sync, pool: o.pool });
    if (r.tool === 'redis-benchmark') params.p999 = 'not reported by redis-benchmark --csv';
    return {
      name: rowName(r.target, r),
      description: `${TARGET_LABELS[r.target]}, ${describeLoad(r)}, measured with ${r.tool}`,
      ops: r.ops, errors: r.errors, durationMs: r.durationMs, opsPerSec: r.opsPerSec, latencyMs: r.latencyMs,
      histogram: r.histogram, throughput: r.throughput, params,
    };
  });
}

/** The ratios, unavailable targets and failures, as notes of results.json. */
export function respNotes(run: RespRun): string[] {
  return [
    ...run.ratios.map((r) => `resp: ${ratioText(r)}`),
    ...run.unavailable.map((u) => `resp: ${u.label}: ${u.reason.split('\n')[0] ?? ''}`),
    ...run.failures.map((f) => `resp: failed: ${f.split('\n')[0] ?? ''}`),
  ];
}

/** `threadraft bench --resp`: run, print the table, write results.json and report.html into `out`. */
export async function benchRespReport(o: RespBenchOptions, out: string, command: string): Promise<RespRun> {
  const startedAt = new Date().toISOString();
  const run = await benchResp(o);
  o.log(`\n${renderRespTable(run)}`);
  const c = cpus();
  const results: Results = {
    version: 1, startedAt, finishedAt: new Date().toISOString(), command,
    machine: { cpus: c.length, cpuModel: c[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}`, memGiB: Math.round(totalmem() / 2 ** 30) },
    scenarios: respScenarios(run, o), notes: respNotes(run),
  };
  const paths = await writeReport(out, results);
  o.log(`wrote ${paths.jsonPath}\nwrote ${paths.htmlPath}`);
  return run;
}
