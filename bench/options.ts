// The benchmark's options: one table (type, range, default, help line of each), the suites and the
// scenario names the report uses (old names kept as aliases). To add an option: add a line to BENCH_OPTIONS
// (e.g. `'slo-p99': { type: 'time', unit: 'ms', min: 0.001, max: 60_000, help: '...' }`), put its name under a
// HELP_SECTIONS heading, and read it as `args.options['slo-p99']` (typed from the table), or give it a field
// of Args in toArgs when it needs resolving.
import { resolve } from 'node:path';
import {
  CLIENTS, DURATION, KEYS, NODES, POOL, SEED, STORAGE, SYNC, parseCommandLine, usageExit,
  type CommandHelp, type OptionTable, type Parsed,
} from '../src/cli/options.js';
import type { Consistency } from '../src/index.js';
import { loadBaseline } from './baseline.js';
import type { Results } from './report/types.js';
import { DEFAULT_SLO_P99_MS, EXTRA_SCENARIOS, EXTRA_SUITES } from './extra.js';
import { respRowNames, TARGET_IDS, type TargetId } from './resp.js';
import { parseThreshold, type Threshold, THRESHOLD_EXIT_CODE } from './thresholds.js';

// ---- scenarios -----------------------------------------------------------------------------------

export const SUITES = {
  quick: ['write-1', 'write-N', 'read-linearizable', 'read-stale', 'read-peek', 'compare', ...EXTRA_SUITES.quick],
  standard: ['write-1', 'write-N', 'batch-10', 'batch-50', 'batch-100', 'batch-500', 'read-linearizable', 'read-lease', 'read-stale', 'read-peek', 'mixed-90-10', 'cache-ttl-churn', 'cache-evict', 'watch-fanout-1', 'watch-fanout-100', 'watch-capacity', 'compare', ...EXTRA_SUITES.standard],
  full: ['write-1', 'write-N', 'batch-10', 'batch-50', 'batch-100', 'batch-500', 'read-linearizable', 'read-lease', 'read-stale', 'read-peek', 'mixed-90-10', 'cache-ttl-churn', 'cache-evict', 'watch-fanout-1', 'watch-fanout-100', 'watch-capacity', 'sustained', 'custom', 'compare', ...EXTRA_SUITES.full],
} as const;
export type Suite = keyof typeof SUITES;

/** Scenarios named as they are (the report shows these names). */
const FIXED = ['read-linearizable', 'read-lease', 'read-stale', 'read-peek', 'mixed-90-10', 'cache-ttl-churn', 'cache-evict', 'watch-capacity', 'sustained', 'custom', 'compare', 'resp', ...EXTRA_SCENARIOS];
/** Families: the number in the name is a parameter, within the option's range it stands for. */
const FAMILIES: ReadonlyArray<{ pattern: RegExp; what: string; min: number; max: number }> = [
  { pattern: /^write-(\d+)$/, what: 'write-<n>: n single puts in flight (the report names write-N so)', min: CLIENTS.min, max: CLIENTS.max },
  { pattern: /^batch-(\d+)$/, what: 'batch-<n>: batch() calls of n puts', min: 1, max: 1024 },
  { pattern: /^watch-fanout-(\d+)$/, what: 'watch-fanout-<n>: n watchers', min: 1, max: 1000 },
];
/** write-N (the old name) is write-<--clients>. */
export const SCENARIO_ALIASES = ['write-N'] as const;

/** Checks a scenario name as given to --scenarios (or written in a threshold); returns it, or throws a message. */
export function checkScenarioName(name: string): string {
  if (FIXED.includes(name) || (SCENARIO_ALIASES as readonly string[]).includes(name)) return name;
  for (const f of FAMILIES) {
    const m = f.pattern.exec(name);
    if (m === null) continue;
    const n = Number(m[1]);
    if (n < f.min || n > f.max) throw new Error(`${name}: ${f.what}, with n in [${f.min}, ${f.max}]`);
    return name;
  }
  throw new Error(`unknown scenario ${JSON.stringify(name)}; known: ${[...FIXED, ...SCENARIO_ALIASES].join(', ')}, ${FAMILIES.map((f) => f.what.split(':')[0]).join(', ')} (see --help)`);
}

/** The name a scenario has in results.json and the report: write-N becomes write-<clients>. */
export function canonicalScenario(name: string, clients: number): string {
  return name === 'write-N' ? `write-${clients}` : name;
}

// ---- the option table ----------------------------------------------------------------------------

export const BENCH_OPTIONS = {
  nodes: NODES,
  storage: STORAGE,
  sync: SYNC,
  pool: POOL,
  instrument: { type: 'flag', negatable: true, default: true, help: 'record write-path stages (--no-instrument: do not)' },
  clients: { ...CLIENTS, default: 256, help: 'calls in flight for the throughput scenarios' },
  'value-size': { type: 'int', min: 1, max: 1024 * 1024, default: 100, arg: '<bytes>', help: 'bytes per value' },
  keys: { ...KEYS, default: 10_000, help: 'key space' },
  'read-ratio': { type: 'number', min: 0, max: 1, default: 0, help: "reads among operations, for the 'custom' scenario" },
  consistency: { type: 'enum', values: ['linearizable', 'lease', 'stale'], default: 'linearizable', help: "reads of the 'custom' scenario" },
  batch: { type: 'int', min: 1, max: 1024, default: 1, help: "operations per write call in the 'custom' scenario" },
  duration: { ...DURATION, defaultText: '5s; quick suite: 2s; sustained: 60s; compare: 4s a row (quick: 2s); the paired-cost scenarios: 1s a run (quick: 0.5s, full: 2s)', help: 'per scenario (compare: per row; paired costs: per run)' },
  ops: { type: 'int', min: 0, max: 1e12, default: 0, help: 'stop each scenario after n operations (0: no limit)' },
  warmup: { type: 'time', unit: 's', min: 0, max: 600, default: 1, help: 'warm-up before each scenario (the quick suite warms up 0.5s at most)' },
  seed: SEED,
  suite: { type: 'enum', values: ['quick', 'standard', 'full'], default: 'standard', help: 'quick: a few scenarios of 2 s; standard: all but sustained, custom and resp; full: all but resp (resp runs with --resp or --scenarios resp)' },
  scenarios: { type: 'list', item: checkScenarioName, help: 'run only these (repeatable; names below)' },
  out: { type: 'string', default: 'bench-results', arg: '<dir>', help: 'where results.json, report.html and profiles go' },
  profile: { type: 'flag', help: 'record a CPU profile of every thread into <out>/profiles' },
  json: { type: 'flag', help: 'print results.json\'s object to stdout, and nothing else there (progress and tables go to stderr)' },
  baseline: { type: 'string', arg: '<results.json>', help: 'compare with an earlier run: ops/s, p50, p99 per scenario; regressions flagged' },
  tolerance: { type: 'number', min: 0, max: 1000, default: 10, arg: '<%>', help: 'with --baseline: a change worse than this percentage is a regression' },
  'fail-on-regression': { type: 'flag', help: `with --baseline: exit ${THRESHOLD_EXIT_CODE} when there is a regression` },
  threshold: { type: 'list', item: (s: string) => (parseThreshold(s, checkThresholdScenario), s), arg: '<expr>', help: `'<scenario>.<metric><op><value>' (repeatable, or comma-separated), e.g. 'write-256.p99<20ms'; exit ${THRESHOLD_EXIT_CODE} if one fails` },
  rate: { type: 'number', min: 1, max: 10_000_000, arg: '<n>', help: 'open loop: calls sent at n/s, each latency from its intended send time (coordinated omission corrected)' },
  'slo-p99': { type: 'time', unit: 'ms', min: 0.01, max: 60_000, default: DEFAULT_SLO_P99_MS, help: "for 'rate-sweep': the p99 bound" },
  trace: { type: 'flag', help: 'write <out>/trace.json: a sample of writes per scenario (Chrome trace events; Perfetto)' },
  resp: { type: 'flag', help: "run the 'resp' scenario (alone, or after those given by --scenarios)" },
  'resp-targets': { type: 'list', values: TARGET_IDS, default: TARGET_IDS, help: "for 'resp': which targets" },
  'resp-server': { type: 'string', arg: '<path>', help: "for 'resp': the built CLI with 'serve' (default dist/src/cli/threadraft.js)" },
} as const satisfies OptionTable;

function checkThresholdScenario(name: string): string {
  return name.startsWith('resp: ') ? name : checkScenarioName(name);
}

const HELP_SECTIONS = [
  ['Cluster', ['nodes', 'storage', 'sync', 'pool', 'instrument']],
  ['Load', ['clients', 'value-size', 'keys', 'read-ratio', 'consistency', 'batch', 'duration', 'ops', 'warmup', 'seed']],
  ['Open loop', ['rate', 'slo-p99']],
  ['Run', ['suite', 'scenarios', 'out', 'profile', 'trace', 'resp', 'resp-targets', 'resp-server']],
  ['Automation', ['json', 'baseline', 'tolerance', 'fail-on-regression', 'threshold']],
] as const;

export const BENCH_HELP: CommandHelp = {
  command: 'threadraft bench',
  summary: 'a real in-process Raft cluster, measured.',
  usage: `npm start                      the standard suite (about 8 minutes)
       threadraft bench [options]     (or: npm run bench -- [options])`,
  sections: HELP_SECTIONS,
  epilogue: `Times take a unit (500ms, 2s, 1m) or are seconds.

Scenarios (the names the report shows)
  write-1            one client, single puts (latency floor of the write path)
  write-<n>          n single puts in flight (throughput); write-N (the old name) is write-<--clients>, e.g. write-256
  batch-<n>          batch() calls of n puts, 4 in flight (the suites run batch-10 batch-50 batch-100 batch-500)
  read-linearizable  --clients reads in flight, ReadIndex through the leader
  read-lease         the leader's lease, no round trip
  read-stale         a node's state machine as it is (LMDB read on the main thread)
  read-peek          the same through the synchronous peek(), one caller
  mixed-90-10        90 % linearizable reads, 10 % writes
  cache-ttl-churn    cache: 90 % lease reads, 10 % puts with a TTL of 0.5–1.5 s
  cache-evict        cache: puts over 10 × --keys keys into a cache bounded to --keys keys (maxKeys)
  watch-fanout-<n>   batch() of 100 puts, 4 in flight, watched by n prefix watchers (the suites: 1 and 100):
                     events/s delivered, and the time from a node's apply to the watcher's next()
  watch-capacity     watch-fanout-1 fed by a 1-node memory cluster: what the watch path delivers when the
                     writes are not the limit (the 3-node LMDB write path is, in watch-fanout-1)
  sustained          write-N for 60 s (or --duration)
  custom             exactly the load given by the options above
  compare            in one run: raw LMDB synced (the floor, measured again after each row: each row is divided
                     by the floors beside it), the speed of light (the same threads, channels
                     and synced logs without Raft, with and without a state machine: bench/light.ts),
                     memory vs LMDB, piscina vs inline, 256 vs 1024 in flight, 1/3/5 nodes
  sweep              latency against throughput: puts at 1, 4, 16, 64, 256, 1024 in flight, per configuration
  sweep-batch        batch() sizes 1, 10, 50, 100, 500
  rate-sweep         open loop: the highest rate whose p99 stays within --slo-p99 (doubling, then bisecting; bounded)
  open-loop          puts at --rate per second (default 10,000), open loop
  instrument-cost    instrumentation on/off, interleaved pairs: the median cost and its confidence interval
  ttl-cost           puts with a TTL of 0.5–1.5 s against plain puts, interleaved pairs on one cluster (the same summary)
  pool-cost          the piscina pool against inline storage: two clusters side by side, runs alternating (the same summary)
  learner-catchup    3 LMDB nodes preloaded with 100,000 keys, 64 puts in flight; addLearner() of a new node:
                     the time to catch up and to promote(), writes before/during/after (standard and full
                     suites, or --scenarios learner-catchup; --duration sets the before and after phases)
  resp               redis-benchmark -t set,get at -c 1, -c 64, -c 64 -P 16 against 'threadraft serve'
                     (--nodes/--storage/--sync/--pool), beside Redis with AOF always, Redis + 2 replicas
                     with SET + WAIT 1 0 (bench/resp-load.ts), Redis without persistence; each row about
                     --duration s (default 3; -n sized by a probe run), or -n = --ops (at least 4 × -c × -P);
                     -r = --keys, -d = --value-size.
                     Targets that are not built or not installed are reported and skipped.

Thresholds
  <scenario>.<metric><op><value>: <metric> one of opsPerSec (or ops/s), ops, errors, p50, p95, p99, p99.9, max,
  mean; <op> one of < <= > >=; latencies in ms unless a unit is given (us, ms, s). Examples:
  --threshold 'write-256.p99<20ms' --threshold 'write-N.opsPerSec>30000,read-lease.p50<=1ms'

Exit codes
  0 done; 1 the benchmark failed; 2 a usage error; ${THRESHOLD_EXIT_CODE} a threshold failed (or, with --fail-on-regression,
  a regression); 130 interrupted by SIGINT, 143 by SIGTERM, 129 by SIGHUP (what was measured so far is written first)`,
};

// ---- the parsed arguments ----------------------------------------------------------------------

export interface Args {
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
  suite: Suite;
  /** The scenarios to run, by the names the report shows (aliases resolved). */
  scenarios: string[];
  out: string;
  profile: boolean;
  json: boolean;
  baseline: { path: string; results: Results } | undefined;
  tolerancePct: number;
  failOnRegression: boolean;
  thresholds: Threshold[];
  respTargets: TargetId[];
  respServer: string | undefined;
  /** Open loop at this rate (calls/s), else closed loop. */
  rate: number | undefined;
  sloP99Ms: number;
  trace: boolean;
  /** Every option as parsed (typed from BENCH_OPTIONS), for options that need no resolving. */
  options: Parsed<typeof BENCH_OPTIONS>;
}

/** The parsed table as Args: aliases resolved, cross-option rules checked. Throws Error with the message to print. */
export function toArgs(v: Parsed<typeof BENCH_OPTIONS>): Args {
  // --resp alone runs only 'resp'; with --scenarios, after them.
  const named = v.scenarios ?? (v.resp ? [] : [...SUITES[v.suite]]);
  const list = v.resp ? [...named.filter((s) => s !== 'resp'), 'resp'] : named;
  const scenarios = [...new Set(list.map((s) => canonicalScenario(s, v.clients)))];
  const thresholds = v.threshold?.map((t) => parseThreshold(t, (s) => canonicalScenario(s, v.clients))) ?? [];
  for (const t of thresholds) {
    if (t.scenario.startsWith('resp: ') && scenarios.includes('resp')) {
      // A resp row: one of those the run's targets report (a misspelt one would only fail once the run is over).
      const rows = respRowNames(v['resp-targets'] as TargetId[]);
      if (!rows.includes(t.scenario)) throw new Error(`--threshold ${t.text}: this run does not measure ${t.scenario} (its resp rows are ${rows.map((r) => `'${r}'`).join(', ')})`);
      continue;
    }
    if (!scenarios.includes(t.scenario)) throw new Error(`--threshold ${t.text}: this run does not measure ${t.scenario} (it runs ${scenarios.join(', ')})`);
  }
  if (v['fail-on-regression'] && v.baseline === undefined) throw new Error('--fail-on-regression needs --baseline');
  let baseline: Args['baseline'];
  if (v.baseline !== undefined) {
    try {
      baseline = { path: resolve(v.baseline), results: loadBaseline(resolve(v.baseline)) };
    } catch (err) {
      throw new Error(`--baseline: ${(err as Error).message}`);
    }
  }
  return {
    nodes: v.nodes, storage: v.storage, sync: v.sync, pool: v.pool, instrument: v.instrument,
    clients: v.clients, valueSize: v['value-size'], keys: v.keys, readRatio: v['read-ratio'], consistency: v.consistency,
    batch: v.batch, durationS: v.duration, ops: v.ops, warmupS: v.warmup, seed: v.seed, suite: v.suite,
    scenarios, out: resolve(v.out), profile: v.profile, json: v.json, baseline, tolerancePct: v.tolerance,
    failOnRegression: v['fail-on-regression'], thresholds,
    respTargets: v['resp-targets'] as TargetId[], respServer: v['resp-server'],
    rate: v.rate, sloP99Ms: v['slo-p99'], trace: v.trace, options: v,
  };
}

/** argv → Args, or the help/version printed (exit 0), or the usage error printed (exit 2). */
export function parseBenchArgs(argv: readonly string[]): Args {
  const v = parseCommandLine(argv, BENCH_OPTIONS, BENCH_HELP);
  try {
    return toArgs(v);
  } catch (err) {
    return usageExit(BENCH_HELP.command, (err as Error).message);
  }
}
