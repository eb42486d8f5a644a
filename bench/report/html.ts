// The benchmark report as one self-contained HTML page: styles and SVG charts inline, no scripts,
// no network (a Content-Security-Policy forbids any fetch), so it opens the same from a CI artifact.

import { formatInt, formatLatency, formatMs, formatTick, LATENCY_RESOLUTION_MS } from './format.js';
import { pairedCostSection, spectrumPlot, spectrumPoints, sweepsSection, tailSection, threadsOverview, threadsTable } from './sections.js';
import { barPlot, color, escapeHtml as esc, linePlot, type Bar, type LineSeries } from './svg.js';
import type { CompareRow, Results, ScenarioResult } from './types.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:16px 24px;color:#111827;background:#fff}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;border-bottom:1px solid #e5e7eb;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}th{background:#f9fafb;font-weight:600}
.meta td,.params td{text-align:left}.muted{color:#6b7280}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f3f4f6;padding:1px 4px;border-radius:3px}
.plots{display:flex;flex-wrap:wrap;gap:12px}svg.plot{max-width:100%;height:auto;background:#fff;border:1px solid #e5e7eb;border-radius:4px}
svg.plot text{font:11px system-ui,sans-serif;fill:#374151}svg.plot .plot-title{font-weight:600;font-size:12px}
svg.plot .grid line{stroke:#eef0f3}svg.plot .frame{fill:none;stroke:#d1d5db}svg.plot path.series{fill:none;stroke-width:2}
svg.plot .marker{stroke:#9ca3af;stroke-dasharray:4 3}svg.plot .marker-label{fill:#6b7280;font-size:10px}
details{margin:6px 0}summary{cursor:pointer;color:#374151}abbr{text-decoration:underline dotted}
`;

/** Renders the whole report page. */
export function renderReport(results: Results): string {
  const title = `threadraft benchmark, ${results.startedAt}`;
  const body = [
    `<h1>${esc(title)}</h1>`,
    metaSection(results),
    summarySection(results),
    overviewSection(results.scenarios),
    sweepsSection(results.sweeps),
    threadsOverview(results.scenarios),
    ...results.scenarios.map((s, i) => scenarioSection(s, i)),
    compareSection(results.compare),
    pairedCostSection(results.instrumentationCost, 'instrumentation'),
    pairedCostSection(results.ttlCost, 'ttl'),
    pairedCostSection(results.poolCost, 'pool'),
    notesSection(results.notes),
  ].join('\n');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function metaSection(r: Results): string {
  const m = r.machine;
  const rows: Array<[string, string]> = [
    ['command', `<code>${esc(r.command)}</code>`],
    ['started', esc(r.startedAt)],
    ['finished', esc(r.finishedAt)],
    ['machine', esc(`${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, ${m.platform}, Node ${m.node}`)],
  ];
  return `<table class="meta">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

/** How the load was applied: closed loop (callers in flight) or open loop (a fixed rate). */
export function loadLabel(s: ScenarioResult): string {
  if (s.loop === 'open') return `open loop, ${formatInt(s.rateOpsPerSec ?? 0)}/s`;
  if (s.loop === 'closed') return `closed loop, ${formatInt(Number(s.params.clients ?? 0))} in flight`;
  return '';
}

/** A latency cell: at the histogram's resolution it says so instead of showing 1 µs as a measurement. */
function latencyCell(ms: number): string {
  const text = formatLatency(ms);
  return text === formatMs(ms) ? esc(text) : `<abbr title="at or below the histogram's ${LATENCY_RESOLUTION_MS * 1000} µs resolution">${esc(text)}</abbr>`;
}

function summarySection(r: Results): string {
  const head = ['scenario', 'load', 'ops', 'errors', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'p99.9 ms', 'max ms'];
  const rows = r.scenarios.map((s) => {
    const l = s.latencyMs;
    const cells = [esc(loadLabel(s)), ...[formatInt(s.ops), formatInt(s.errors), formatInt(s.opsPerSec)].map(esc), ...[l.p50, l.p95, l.p99, l.p999, l.max].map(latencyCell)];
    return `<tr><td><a href="#${anchor(s.name)}">${esc(s.name)}</a></td>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  const anyAtResolution = r.scenarios.some((s) => Object.values(s.latencyMs).some((v) => formatLatency(v) !== formatMs(v)));
  return (
    '<h2>Summary</h2>' +
    `<table class="summary" data-table="summary"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>` +
    '<p class="muted">Closed loop: each of N callers waits for its call before the next, so a stall delays the calls not sent (they are never measured). ' +
    'Open loop (<code>--rate</code>): calls fall due at a fixed rate and each latency runs from its intended send time, stalls included.' +
    (anyAtResolution ? ` “≤ 0.001”: at or below the histograms' resolution of ${LATENCY_RESOLUTION_MS * 1000} µs, not a measured 1 µs.` : '') +
    '</p>'
  );
}

function anchor(name: string): string {
  return `scenario-${name.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}

/** CDF points from log-spaced [upper bound, count] buckets; each bucket starts where the previous ended. */
export function cdfPoints(histogram: ReadonlyArray<[number, number]>): Array<[number, number]> {
  const buckets = histogram.filter(([ub, c]) => Number.isFinite(ub) && ub > 0 && c > 0).sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, c]) => sum + c, 0);
  const first = buckets[0];
  if (first === undefined || total <= 0) return [];
  const second = buckets[1];
  const ratio = second === undefined ? 2 : Math.max(second[0] / first[0], 1.01);
  const points: Array<[number, number]> = [[first[0] / ratio, 0]];
  let seen = 0;
  for (const [ub, c] of buckets) {
    seen += c;
    points.push([ub, seen / total]);
  }
  return points;
}

function latencyAxisRange(series: Array<Array<[number, number]>>): { min: number; max: number } {
  const xs = series.flat().map(([x]) => x);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const min = 10 ** Math.floor(Math.log10(lo));
  const max = 10 ** Math.ceil(Math.log10(hi));
  return { min, max: max > min ? max : min * 10 };
}

/** Two scenario plots side by side fit the page width. */
const SCENARIO_PLOT_WIDTH = 520;

const percentAxis = { min: 0, max: 1, label: 'fraction of operations ≤ latency', format: (v: number) => `${Math.round(v * 100)}%` };

function cdfPlot(s: ScenarioResult, i: number): string {
  const points = cdfPoints(s.histogram);
  const frame = { name: 'latency-cdf', data: { scenario: s.name }, title: `${s.name}: latency distribution (CDF)`, width: SCENARIO_PLOT_WIDTH };
  const range = points.length > 0 ? latencyAxisRange([points]) : { min: 0.01, max: 1 };
  const l = s.latencyMs;
  const markers = [
    { x: l.p50, label: 'p50' },
    { x: l.p99, label: 'p99' },
    { x: l.p999, label: 'p99.9' },
  ];
  return linePlot(frame, { ...range, log: true, label: 'latency (ms, log scale)' }, percentAxis, [{ label: s.name, points, color: color(i) }], markers);
}

function throughputPlot(s: ScenarioResult, i: number): string {
  const clean = (xs: Array<[number, number]>): Array<[number, number]> => xs.filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v)).sort((a, b) => a[0] - b[0]);
  const points = clean(s.throughput);
  const warm = clean(s.warmupThroughput ?? []);
  const frame = { name: 'throughput', data: { scenario: s.name }, title: `${s.name}: throughput over time`, width: SCENARIO_PLOT_WIDTH };
  const minT = Math.min(0, ...warm.map(([t]) => t));
  const maxT = Math.max(1, ...points.map(([t]) => t));
  const maxV = Math.max(1, s.opsPerSec, ...points.map(([, v]) => v), ...warm.map(([, v]) => v));
  const series: LineSeries[] = [{ label: 'measured', points, color: color(i) }];
  if (warm.length > 0 && points.length > 0) series.push({ label: s.params.warmupSteady === false ? 'warm-up (not steady by its bound)' : 'warm-up (until steady)', points: warm, color: '#9ca3af', dash: true });
  const x = { min: minT, max: maxT, label: warm.length > 0 ? 'seconds since the measurement started (warm-up before 0)' : 'seconds since start' };
  return linePlot(frame, x, { min: 0, max: maxV * 1.1, label: 'ops/s' }, series);
}

function spectrumOf(s: ScenarioResult, i: number): string {
  const points = spectrumPoints(s);
  if (points.length === 0) return '';
  return spectrumPlot('percentile-spectrum', `${s.name}: latency by percentile`, [{ label: s.name, points, color: color(i) }], SCENARIO_PLOT_WIDTH, { scenario: s.name });
}

function stagesPlot(s: ScenarioResult): string {
  const stages = s.stages ?? [];
  if (stages.length === 0) return '';
  const stageSum = s.stageSumP50Ms ?? stages.reduce((sum, st) => sum + st.p50, 0);
  const total = s.totalP50Ms ?? s.latencyMs.p50;
  const bars: Bar[] = [
    {
      label: 'stages (p50 each)',
      segments: stages.map((st, i) => ({ label: st.name, value: st.p50, color: color(i) })),
      note: `Σ ${formatMs(stageSum)} ms`,
    },
    { label: 'end to end p50', segments: [{ label: 'total p50', value: total, color: '#6b7280' }], note: `${formatMs(total)} ms` },
  ];
  const plot = barPlot({ name: 'stages', data: { scenario: s.name }, title: `${s.name}: write path stages, p50` }, bars, 'ms', formatTick);
  const head = ['stage', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms'];
  const rows = stages.map(
    (st, i) =>
      `<tr><td><span style="color:${color(i)}">■</span> ${esc(st.name)}</td>${[st.p50, st.p95, st.p99, st.mean].map((v) => `<td>${esc(formatMs(v))}</td>`).join('')}</tr>`,
  );
  const coverage = total > 0 ? ` (${Math.round((stageSum / total) * 100)}% of the end-to-end p50)` : '';
  return (
    `<h3>Write path stages</h3><p class="muted">Sum of stage p50s ${esc(formatMs(stageSum))} ms vs end-to-end p50 ${esc(formatMs(total))} ms${esc(coverage)}.</p>` +
    `<div class="plots">${plot}</div>` +
    `<table class="stages"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

/** Open loop: the generator's own lag, which every latency of the scenario includes. */
function sendLagNote(s: ScenarioResult): string {
  const p50 = s.params.sendLagP50Ms;
  const p99 = s.params.sendLagP99Ms;
  if (typeof p50 !== 'number' || typeof p99 !== 'number') return '';
  return `<p class="muted">${esc(`Calls were sent ${formatMs(p50)} ms (p50) and ${formatMs(p99)} ms (p99) after their intended times (timers fire at millisecond granularity, and the main thread is shared with the cluster's coordinator); the latencies include this lag.`)}</p>`;
}

function paramsTable(params: ScenarioResult['params']): string {
  const entries = Object.entries(params);
  if (entries.length === 0) return '';
  const t = `<table class="params">${entries.map(([k, v]) => `<tr><th>${esc(k)}</th><td><code>${esc(String(v))}</code></td></tr>`).join('')}</table>`;
  return `<details class="params"><summary>parameters (${entries.length})</summary>${t}</details>`;
}

function scenarioSection(s: ScenarioResult, i: number): string {
  return [
    `<section class="scenario" id="${anchor(s.name)}">`,
    `<h2>${esc(s.name)}</h2>`,
    `<p>${esc(s.description)}</p>`,
    `<p class="muted">${esc(`${loadLabel(s) ? `${loadLabel(s)}: ` : ''}${formatInt(s.ops)} ops in ${formatMs(s.durationMs / 1000)} s (errors: ${formatInt(s.errors)}): ${formatInt(s.opsPerSec)} ops/s; mean latency ${formatLatency(s.latencyMs.mean)} ms`)}</p>`,
    sendLagNote(s),
    paramsTable(s.params),
    `<div class="plots">${cdfPlot(s, i)}${spectrumOf(s, i)}${throughputPlot(s, i)}</div>`,
    stagesPlot(s),
    tailSection(s),
    threadsTable(s),
    '</section>',
  ].join('\n');
}

/** All scenarios' percentile spectra on one chart (their CDFs for results without whole histograms). */
function overviewSection(scenarios: ScenarioResult[]): string {
  const spectra = scenarios.map((s, i) => ({ label: s.name, points: spectrumPoints(s), color: color(i) })).filter((s) => s.points.length > 0);
  if (spectra.length >= 2) {
    const plot = spectrumPlot('percentile-spectrum-all', 'Latency by percentile, all scenarios', spectra, 900);
    return (
      '<h2>Latency, all scenarios</h2>' +
      '<p class="muted">Each line is a scenario\'s whole latency histogram: x is the percentile on a log scale of 1/(1−p), so p50, p90, p99, p99.9 and p99.99 are evenly spaced; ' +
      'y the latency (log). A line that climbs steeply at the right has a tail far from its median. Each scenario\'s .hgrm file is in <code>hgrm/</code> beside this report.</p>' +
      `<div class="plots">${plot}</div>`
    );
  }
  const series = scenarios.map((s, i) => ({ label: s.name, points: cdfPoints(s.histogram), color: color(i) })).filter((s) => s.points.length > 0);
  if (series.length < 2) return '';
  const range = latencyAxisRange(series.map((s) => s.points));
  const plot = linePlot(
    { name: 'latency-cdf-all', title: 'Latency distribution, all scenarios (CDF)', width: 900, height: 340 },
    { ...range, log: true, label: 'latency (ms, log scale)' },
    percentAxis,
    series,
  );
  return `<h2>Latency, all scenarios</h2><div class="plots">${plot}</div>`;
}

function compareSection(rows: CompareRow[] | undefined): string {
  if (rows === undefined || rows.length === 0) return '';
  const head = ['system (closed loop)', 'ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', '× raw LMDB floor', 'floor beside (ops/s)', '× median floor', 'p50 × single put beside'];
  const body = rows.map((r) => {
    const floor = r.floorOpsPerSec === undefined ? '' : formatInt(r.floorOpsPerSec);
    const median = r.ratioToMedianFloor === undefined ? '' : r.ratioToMedianFloor.toFixed(3);
    const single = r.singlePutP50Ms === undefined ? '' : `${(r.latencyMs.p50 / r.singlePutP50Ms).toFixed(2)} (${formatMs(r.singlePutP50Ms)} ms)`;
    const cells = [formatInt(r.opsPerSec), formatMs(r.latencyMs.p50), formatMs(r.latencyMs.p99), formatMs(r.latencyMs.p999), r.ratioToRawLmdb.toFixed(3), floor, median, single];
    return `<tr><td>${esc(r.name)}</td>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
  });
  const bars: Bar[] = rows.map((r, i) => ({
    label: r.name,
    segments: [{ label: r.name, value: r.opsPerSec, color: color(i) }],
    note: `${formatTick(r.opsPerSec)} (${r.ratioToRawLmdb.toFixed(2)}×)`,
  }));
  const plot = barPlot({ name: 'compare', title: 'Throughput compared with raw LMDB' }, bars, 'ops/s');
  return (
    '<h2>Comparison</h2>' +
    `<table class="compare" data-table="compare"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>` +
    `<div class="plots">${plot}</div>`
  );
}

function notesSection(notes: string[]): string {
  if (notes.length === 0) return '';
  return `<h2>Notes</h2><ul>${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`;
}
