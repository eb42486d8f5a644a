// --baseline <old results.json>: this run against an earlier one, per scenario (matched by name) and metric
// (ops/s, p50, p99). A change worse than the tolerance is a regression. The comparison goes into results.json
// as `baseline` (for the report to show) and into the console table.
import { readFileSync } from 'node:fs';
import { alignColumns } from './report/table.js';
import { formatInt, formatMs } from './report/format.js';
import type { Results, ScenarioResult } from './report/types.js';

export const BASELINE_METRICS = ['opsPerSec', 'p50', 'p99'] as const;
export type BaselineMetric = (typeof BASELINE_METRICS)[number];

export interface BaselineRow {
  scenario: string;
  metric: BaselineMetric;
  now: number;
  baseline: number;
  /** (now − baseline) / baseline × 100; positive is more ops/s or more latency. */
  changePct: number;
  /** Worse than the tolerance: fewer ops/s, or more latency, by more than tolerancePct. */
  regression: boolean;
}

/** results.json's `baseline`: what this run was compared with, and the rows. */
export interface BaselineComparison {
  path: string;
  startedAt: string;
  command: string;
  tolerancePct: number;
  rows: BaselineRow[];
  /** Scenarios of this run that the baseline lacks, and the reverse. */
  onlyNow: string[];
  onlyBaseline: string[];
  regressions: number;
}

function read(s: ScenarioResult, m: BaselineMetric): number {
  return m === 'opsPerSec' ? s.opsPerSec : s.latencyMs[m];
}

/** Reads and checks an earlier results.json; throws an Error whose message says what is wrong with it. */
export function loadBaseline(path: string): Results {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not JSON: ${(err as Error).message}`);
  }
  const o = r as Partial<Results> | null;
  if (typeof o !== 'object' || o === null || o.version !== 1 || !Array.isArray(o.scenarios)) throw new Error(`${path} is not a results.json of version 1 (no version 1 or no scenarios)`);
  for (const s of o.scenarios) {
    if (typeof s?.name !== 'string' || typeof s.opsPerSec !== 'number' || typeof s.latencyMs?.p50 !== 'number' || typeof s.latencyMs.p99 !== 'number') {
      throw new Error(`${path}: a scenario lacks name, opsPerSec or latencyMs.p50/p99`);
    }
  }
  return o as Results;
}

export function compareWithBaseline(now: Pick<Results, 'scenarios'>, base: Results, path: string, tolerancePct: number): BaselineComparison {
  const old = new Map(base.scenarios.map((s) => [s.name, s]));
  const rows: BaselineRow[] = [];
  for (const s of now.scenarios) {
    const b = old.get(s.name);
    if (b === undefined) continue;
    for (const metric of BASELINE_METRICS) {
      const n = read(s, metric);
      const o = read(b, metric);
      const changePct = o === 0 ? (n === 0 ? 0 : Infinity) : ((n - o) / o) * 100;
      const worsePct = metric === 'opsPerSec' ? -changePct : changePct;
      rows.push({ scenario: s.name, metric, now: n, baseline: o, changePct, regression: worsePct > tolerancePct });
    }
  }
  const names = new Set(now.scenarios.map((s) => s.name));
  return {
    path, startedAt: base.startedAt, command: base.command, tolerancePct, rows,
    onlyNow: now.scenarios.filter((s) => !old.has(s.name)).map((s) => s.name),
    onlyBaseline: base.scenarios.filter((s) => !names.has(s.name)).map((s) => s.name),
    regressions: rows.filter((r) => r.regression).length,
  };
}

function pct(v: number): string {
  if (!Number.isFinite(v)) return 'new';
  return `${v > 0 ? '+' : ''}${v.toFixed(1)}%`;
}

/** The console table: a line per scenario, each metric as now / baseline / change, regressions flagged. */
export function renderBaseline(c: BaselineComparison): string {
  const byScenario = new Map<string, BaselineRow[]>();
  for (const r of c.rows) byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  const cell = (rows: BaselineRow[], m: BaselineMetric): string[] => {
    const r = rows.find((x) => x.metric === m);
    if (r === undefined) return ['', '', ''];
    const f = m === 'opsPerSec' ? formatInt : formatMs;
    return [f(r.now), f(r.baseline), `${pct(r.changePct)}${r.regression ? ' !' : ''}`];
  };
  const header = ['scenario', 'ops/s', 'was', 'change', 'p50 ms', 'was', 'change', 'p99 ms', 'was', 'change', ''];
  const table = [...byScenario].map(([name, rows]) => [
    name, ...cell(rows, 'opsPerSec'), ...cell(rows, 'p50'), ...cell(rows, 'p99'), rows.some((r) => r.regression) ? 'REGRESSION' : '',
  ]);
  const parts = [`against the baseline ${c.path} (${c.startedAt}); "!" marks a change worse than ${c.tolerancePct}%\n${alignColumns(header, table)}`];
  if (c.onlyNow.length > 0) parts.push(`not in the baseline: ${c.onlyNow.join(', ')}`);
  if (c.onlyBaseline.length > 0) parts.push(`in the baseline only: ${c.onlyBaseline.join(', ')}`);
  parts.push(c.regressions === 0 ? 'no regression beyond the tolerance' : `${c.regressions} regression${c.regressions === 1 ? '' : 's'} beyond ${c.tolerancePct}%`);
  return parts.join('\n') + '\n';
}
