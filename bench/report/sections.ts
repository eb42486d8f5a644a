// Report sections of issue 15: percentile spectra, latency against throughput (sweeps), tail
// attribution, threads' health and the instrumentation cost. Pure functions of results.json.
import { LatencyHistogram } from '../../src/util/histogram.js';
import { formatInt, formatLatency, formatMs, formatPercentileTick, formatShare, formatTick } from './format.js';
import { barPlot, color, escapeHtml as esc, linePlot, type Bar, type LineSeries } from './svg.js';
import type { PairedCost, ScenarioResult, Sweep, TailAttribution, ThreadHealthRow } from './types.js';

function table(cls: string, head: string[], rows: string[][]): string {
  return (
    `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`
  );
}

// ---- percentile spectrum -----------------------------------------------------------------------

/** [1/(1-p), ms] points of a scenario's whole histogram; [] without one. */
export function spectrumPoints(s: ScenarioResult): Array<[number, number]> {
  if (s.hdr === undefined) return [];
  try {
    return LatencyHistogram.decode(s.hdr).spectrum();
  } catch {
    return [];
  }
}

const SPECTRUM_TICKS = [1, 2, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/** Percentile spectra: latency (log) against 1/(1-p) (log), so p50, p90, p99, p99.9 and p99.99 are a decade apart. */
export function spectrumPlot(name: string, title: string, series: LineSeries[], width: number, data?: Record<string, string>): string {
  const pts = series.flatMap((s) => s.points);
  const maxX = Math.max(10, ...pts.map(([x]) => x));
  const ys = pts.map(([, y]) => y).filter((y) => y > 0);
  const minY = ys.length > 0 ? 10 ** Math.floor(Math.log10(Math.min(...ys))) : 0.001;
  const maxY = ys.length > 0 ? 10 ** Math.ceil(Math.log10(Math.max(...ys))) : 1;
  return linePlot(
    { name, title, width, height: 300, ...(data ? { data } : {}) },
    { min: 1, max: 10 ** Math.ceil(Math.log10(maxX)), log: true, label: 'percentile (log scale of 1/(1-p))', format: formatPercentileTick, ticks: SPECTRUM_TICKS },
    { min: minY, max: maxY > minY ? maxY : minY * 10, log: true, label: 'latency (ms, log scale)' },
    series,
  );
}

// ---- sweeps: latency against throughput --------------------------------------------------------

const VARIED: Record<Sweep['varied'], (x: number) => string> = {
  'in-flight': (x) => `${formatInt(x)} in flight`,
  batch: (x) => `batch of ${formatInt(x)}`,
  rate: (x) => `offered ${formatInt(x)}/s`,
};

function sweepPlot(sw: Sweep, stat: 'p50' | 'p99', width: number): string {
  const series: LineSeries[] = sw.series.map((se, i) => ({
    label: se.label,
    color: color(i),
    points: se.points.filter((p) => p.opsPerSec > 0 && p.latencyMs[stat] > 0).map((p) => [p.opsPerSec, p.latencyMs[stat]] as [number, number]),
    dots: se.points.filter((p) => p.opsPerSec > 0 && p.latencyMs[stat] > 0).map((p) => `${VARIED[sw.varied](p.x)}: ${formatInt(p.opsPerSec)} ops/s, ${stat} ${formatMs(p.latencyMs[stat])} ms`),
  }));
  const pts = series.flatMap((s) => s.points);
  const maxX = Math.max(1, ...pts.map(([x]) => x));
  const ys = pts.map(([, y]) => y);
  const minY = ys.length > 0 ? 10 ** Math.floor(Math.log10(Math.min(...ys))) : 0.1;
  const maxY = ys.length > 0 ? 10 ** Math.ceil(Math.log10(Math.max(...ys, sw.sloP99Ms ?? 0))) : 10;
  const slo = stat === 'p99' && sw.sloP99Ms !== undefined ? [{ y: sw.sloP99Ms, label: `p99 bound ${formatMs(sw.sloP99Ms)} ms` }] : [];
  return linePlot(
    { name: `sweep-${stat}`, data: { sweep: sw.name }, title: `${sw.name}: ${stat} latency against throughput (${sw.loop} loop)`, width, legend: true },
    { min: 0, max: maxX * 1.05, label: 'throughput (ops/s)' },
    { min: minY, max: maxY > minY ? maxY : minY * 10, log: true, label: `${stat} latency (ms, log scale)` },
    series,
    [],
    slo,
  );
}

export function sweepsSection(sweeps: Sweep[] | undefined): string {
  if (sweeps === undefined || sweeps.length === 0) return '';
  const parts = ['<h2 id="sweeps">Latency against throughput</h2>',
    '<p class="muted">Each dot is a short run at one load (hover for it); x is the throughput it reached, y its latency on a log scale. ' +
      'Where a line turns upward the configuration is saturated: more load adds queueing, not throughput.</p>'];
  for (const sw of sweeps) {
    parts.push(`<h3>${esc(sw.name)} <span class="muted">(${esc(sw.loop)} loop)</span></h3><p>${esc(sw.description)}</p>`);
    if (sw.sloP99Ms !== undefined) {
      const found = sw.maxRateWithinSlo ?? 0;
      parts.push(`<p><strong>${esc(found > 0 ? `Highest rate with p99 ≤ ${formatMs(sw.sloP99Ms)} ms: ${formatInt(found)} calls/s` : `No rate tried held p99 ≤ ${formatMs(sw.sloP99Ms)} ms`)}</strong></p>`);
    }
    parts.push(`<div class="plots">${sweepPlot(sw, 'p50', 520)}${sweepPlot(sw, 'p99', 520)}</div>`);
    const rows = sw.series.flatMap((se) =>
      se.points.map((p) => [esc(se.label), esc(VARIED[sw.varied](p.x)), esc(formatInt(p.opsPerSec)), ...[p.latencyMs.p50, p.latencyMs.p99, p.latencyMs.p999].map((v) => esc(formatLatency(v))), esc(formatInt(p.errors))]),
    );
    parts.push(`<details><summary>the ${rows.length} points</summary>${table('sweep', ['configuration', 'load', 'ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors'], rows)}</details>`);
  }
  return parts.join('\n');
}

// ---- tail attribution --------------------------------------------------------------------------

export function tailSection(s: ScenarioResult): string {
  const t: TailAttribution | undefined = s.tail;
  if (t === undefined || t.groups.length === 0) return '';
  const stages = Object.keys(t.groups[0]!.meanMs);
  const bars: Bar[] = t.groups.map((g) => ({
    label: `${g.label} (${formatInt(g.writes)} writes)`,
    segments: stages.map((st, i) => ({ label: st, value: g.meanMs[st] ?? 0, color: color(i) })),
    note: `${formatMs(g.meanTotalMs)} ms`,
  }));
  const plot = barPlot({ name: 'tail', data: { scenario: s.name }, title: `${s.name}: mean time per stage, all writes vs the slowest`, width: 640 }, bars, 'ms (mean per write)', formatTick);
  const share = (g: TailAttribution['groups'][number], st: string): string => (g.meanTotalMs > 0 ? `${Math.round(((g.meanMs[st] ?? 0) / g.meanTotalMs) * 100)}%` : '');
  const head = ['stage', ...t.groups.flatMap((g) => [`${g.label} ms`, 'share']), 'largest stage of the slowest 1 %'];
  const rows = stages.map((st, i) => [
    `<span style="color:${color(i)}">■</span> ${esc(st)}`,
    ...t.groups.flatMap((g) => [esc(formatMs(g.meanMs[st] ?? 0)), esc(share(g, st))]),
    esc(`${Math.round((t.dominant[st] ?? 0) * 100)}%`),
  ]);
  rows.push(['total', ...t.groups.flatMap((g) => [esc(formatMs(g.meanTotalMs)), '']), '']);
  return (
    '<h3>Tail attribution</h3>' +
    '<p class="muted">Mean time in each stage among all writes, among the writes around p99 and among the slowest 1 %: a stage whose share grows in the tail is what made those writes slow. ' +
    'The last column: in how many of the slowest 1 % each stage was the largest.</p>' +
    (t.note !== undefined ? `<p class="muted">${esc(t.note)}</p>` : '') +
    `<div class="plots">${plot}</div>` +
    table('tail', head, rows)
  );
}

// ---- threads' health ---------------------------------------------------------------------------

export function threadsTable(s: ScenarioResult): string {
  const rows = s.threads ?? [];
  if (rows.length === 0) return '';
  const body = rows.map((r: ThreadHealthRow) => [
    esc(r.thread),
    esc(`${(r.elu * 100).toFixed(0)}%${r.busy === 'cpu' ? ' CPU' : ''}`),
    esc(r.cpu === undefined ? '' : formatShare(r.cpu)),
    esc(r.waited === undefined ? '' : formatShare(r.waited)),
    esc(formatInt(r.gcCount)),
    esc(formatMs(r.gcPauseMs)),
    esc(formatMs(r.gcMaxPauseMs)),
    esc(s.durationMs > 0 ? `${((r.gcPauseMs / s.durationMs) * 100).toFixed(1)}%` : ''),
  ]);
  return '<h3>Threads</h3>' + table('threads', ['thread', 'busy (event loop; pool threads: CPU)', 'CPU', 'waited for a CPU', 'GC pauses', 'GC total ms', 'longest GC ms', 'GC share of the run'], body);
}

/** Every scenario's threads in one table: event-loop utilization, the wait for a CPU and the longest GC pause per thread. */
export function threadsOverview(scenarios: ScenarioResult[]): string {
  const withThreads = scenarios.filter((s) => (s.threads ?? []).length > 0);
  if (withThreads.length === 0) return '';
  const names = [...new Set(withThreads.flatMap((s) => (s.threads ?? []).map((t) => t.thread)))];
  const rows = withThreads.map((s) => [
    esc(s.name),
    ...names.map((n) => {
      const t = s.threads?.find((x) => x.thread === n);
      if (t === undefined) return '';
      const waited = t.waited === undefined ? '' : ` · ${formatShare(t.waited)} waited`;
      return esc(`${(t.elu * 100).toFixed(0)}%${t.busy === 'cpu' ? ' CPU' : ''}${waited} · ${formatMs(t.gcMaxPauseMs)}`);
    }),
  ]);
  return (
    "<h2 id=\"threads\">Threads' health</h2>" +
    '<p class="muted">Per thread: the share of the measurement its event loop was busy (event-loop utilization; for a storage pool thread, whose loop never idles while it waits for tasks, its CPU time over the wall time) · ' +
    'on Linux, the share it was runnable but waiting for a CPU (its run queue, /proc/thread-self/schedstat) · its longest GC pause in ms. ' +
    'A thread near 100 % busy is the bottleneck; a thread that waits for a CPU a large share of the time shows that the machine has fewer cores than runnable threads, and every stage it runs in is longer by its waits; long GC pauses show up in the tail.</p>' +
    table('threads-overview', ['scenario', ...names], rows)
  );
}

// ---- instrumentation cost ----------------------------------------------------------------------

/** What the report says of each paired cost (bench/paired-cost.ts). */
export const PAIRED_COSTS = {
  instrumentation: {
    id: 'instrumentation-cost', title: 'Instrumentation cost', feature: 'Stage timing', arms: ['on', 'off'], targetPct: 3,
    method: 'One preloaded cluster; stage timing is switched on and off between runs (Cluster.setInstrument).',
  },
  ttl: {
    id: 'ttl-cost', title: 'TTL cost', feature: 'A TTL on every put', arms: ['TTL', 'plain'], targetPct: 10,
    method: 'One preloaded cluster; puts with a TTL of 0.5–1.5 s and plain puts, each on a key space of its own. After each TTL run its keys expire and are purged before the next run starts, so that no purge falls into another run; a cache under TTL churn also inserts its keys again, as each TTL run does.',
  },
  pool: {
    id: 'pool-cost', title: 'Pool cost', feature: 'The piscina pool', arms: ['piscina', 'inline'], targetPct: 0,
    method: "Two preloaded clusters of the run's configuration, one writing through the piscina pool and one inline, started side by side; the runs alternate between them (issue 11's target 4: the pool at least as fast as inline, a cost of at most 0).",
  },
} as const;

export function pairedCostSection(c: PairedCost | undefined, kind: keyof typeof PAIRED_COSTS): string {
  if (c === undefined) return '';
  const k = PAIRED_COSTS[kind];
  const rows = c.pairs.map(([on, off], i) => [esc(String(i + 1)), esc(formatInt(on)), esc(formatInt(off)), esc(off > 0 ? `${(((off - on) / off) * 100).toFixed(1)}%` : '')]);
  return (
    `<h2 id="${k.id}">${esc(k.title)} (interleaved pairs)</h2>` +
    `<p><strong>${esc(`Median cost ${c.medianPct.toFixed(1)}% (95 % bootstrap CI ${c.ciLowPct.toFixed(1)}% to ${c.ciHighPct.toFixed(1)}%), ${c.pairs.length} pairs of ${c.secondsPerRun} s; target ≤ ${k.targetPct} %.`)}</strong> ` +
    `${esc(`${k.feature} was slower in ${c.slowerPairs} of ${c.pairs.length} pairs (sign test p = ${c.signTestP.toFixed(3)}).`)}</p>` +
    `<p class="muted">${esc(k.method)} The order of the two runs flips every pair, so that drift of the machine falls on both.</p>` +
    `<details><summary>the pairs</summary>${table(`${k.id}-pairs`, ['pair', `${k.arms[0]} ops/s`, `${k.arms[1]} ops/s`, 'cost'], rows)}</details>`
  );
}
