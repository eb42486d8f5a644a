// --threshold '<scenario>.<metric><op><value>': pass/fail bounds on a run's results, for CI. A run with a
// failed bound exits with THRESHOLD_EXIT_CODE and says which failed.
import type { Results, ScenarioResult } from './report/types.js';

export const THRESHOLD_EXIT_CODE = 3;

/** Metric names as written in a threshold, and how to read them from a scenario. Latencies are in ms. */
const METRICS = {
  opsPerSec: { read: (s: ScenarioResult) => s.opsPerSec, latency: false },
  ops: { read: (s: ScenarioResult) => s.ops, latency: false },
  errors: { read: (s: ScenarioResult) => s.errors, latency: false },
  p50: { read: (s: ScenarioResult) => s.latencyMs.p50, latency: true },
  p95: { read: (s: ScenarioResult) => s.latencyMs.p95, latency: true },
  p99: { read: (s: ScenarioResult) => s.latencyMs.p99, latency: true },
  'p99.9': { read: (s: ScenarioResult) => s.latencyMs.p999, latency: true },
  max: { read: (s: ScenarioResult) => s.latencyMs.max, latency: true },
  mean: { read: (s: ScenarioResult) => s.latencyMs.mean, latency: true },
} as const;
export type Metric = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as Metric[];
/** Other spellings accepted for a metric. */
const METRIC_ALIASES: Readonly<Record<string, Metric>> = { 'ops/s': 'opsPerSec', opsps: 'opsPerSec', throughput: 'opsPerSec', p999: 'p99.9' };

type Op = '<' | '<=' | '>' | '>=';
const LATENCY_UNITS: Readonly<Record<string, number>> = { us: 1e-3, µs: 1e-3, ms: 1, s: 1000 };

export interface Threshold {
  /** As given, e.g. 'write-256.p99<20ms'. */
  text: string;
  /** The scenario's name as the report shows it (aliases resolved by the caller's `resolveScenario`). */
  scenario: string;
  metric: Metric;
  op: Op;
  /** In the metric's unit: ms for latencies, ops/s, counts. */
  value: number;
}

export interface ThresholdOutcome {
  threshold: string;
  ok: boolean;
  /** The measured value (undefined: the scenario was not measured, which fails). */
  actual: number | undefined;
  message: string;
}

const EXPR = /^(.+)\.([A-Za-z][\w/.]*?)\s*(<=|>=|<|>)\s*(-?[\d.]+(?:e[-+]?\d+)?)\s*(us|µs|ms|s)?$/i;

/**
 * Parses one threshold. `resolveScenario` maps a name as written (an alias like write-N included) to the name
 * the results carry; it throws for a scenario the run does not measure.
 */
export function parseThreshold(text: string, resolveScenario: (name: string) => string = (n) => n): Threshold {
  const m = EXPR.exec(text.trim());
  const shape = `expected <scenario>.<metric><op><value> with <op> one of < <= > >= and <metric> one of ${METRIC_NAMES.join(', ')} (e.g. write-256.p99<20ms, write-N.opsPerSec>30000)`;
  if (m === null) throw new Error(`threshold ${JSON.stringify(text)}: ${shape}`);
  const [, scenarioText, metricText, op, numText, unit] = m as unknown as [string, string, string, Op, string, string | undefined];
  const metric = (metricText in METRICS ? metricText : METRIC_ALIASES[metricText]) as Metric | undefined;
  if (metric === undefined) throw new Error(`threshold ${JSON.stringify(text)}: unknown metric ${metricText}; ${shape}`);
  const n = Number(numText);
  if (!Number.isFinite(n)) throw new Error(`threshold ${JSON.stringify(text)}: ${numText} is not a number`);
  let value = n;
  if (METRICS[metric].latency) value = n * (unit === undefined ? 1 : LATENCY_UNITS[unit.toLowerCase()]!);
  else if (unit !== undefined) throw new Error(`threshold ${JSON.stringify(text)}: ${metric} takes no unit, got ${unit}`);
  return { text: text.trim(), scenario: resolveScenario(scenarioText.trim()), metric, op, value };
}

function holds(actual: number, op: Op, bound: number): boolean {
  switch (op) {
    case '<': return actual < bound;
    case '<=': return actual <= bound;
    case '>': return actual > bound;
    case '>=': return actual >= bound;
  }
}

function show(metric: Metric, v: number): string {
  const r = Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
  return METRICS[metric].latency ? `${r} ms` : r;
}

/** Every threshold against the results: a scenario that was not measured fails its thresholds. */
export function evaluateThresholds(thresholds: readonly Threshold[], results: Pick<Results, 'scenarios'>): ThresholdOutcome[] {
  return thresholds.map((t) => {
    const s = results.scenarios.find((x) => x.name === t.scenario);
    if (s === undefined) return { threshold: t.text, ok: false, actual: undefined, message: `${t.text}: FAILED, ${t.scenario} was not measured` };
    const actual = METRICS[t.metric].read(s);
    const ok = holds(actual, t.op, t.value);
    return { threshold: t.text, ok, actual, message: `${t.text}: ${ok ? 'ok' : 'FAILED'}, ${t.scenario} ${t.metric} = ${show(t.metric, actual)}` };
  });
}
