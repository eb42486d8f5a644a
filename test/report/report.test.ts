import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cdfPoints, renderReport } from '../../bench/report/html.js';
import { renderTable } from '../../bench/report/table.js';
import type { Results, ScenarioResult, StageSummary, Sweep, SweepPoint } from '../../bench/report/types.js';
import { LatencyHistogram } from '../../src/util/histogram.js';
import { formatLatency } from '../../bench/report/format.js';
import { writeReport } from '../../bench/report/write.js';
import { mulberry32 as rng } from '../../src/util/random.js';

// ---- a realistic sample run ------------------------------------------------------------------


/** Log-spaced buckets (8 per decade from 10 µs to 10 s) of a log-normal latency around `medianMs`. */
function histogram(rand: () => number, ops: number, medianMs: number): Array<[number, number]> {
  const bounds: number[] = [];
  for (let i = 0; i <= 48; i++) bounds.push(0.01 * 10 ** (i / 8));
  const counts = new Array<number>(bounds.length).fill(0);
  for (let i = 0; i < ops; i++) {
    const gauss = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const ms = medianMs * Math.exp(0.6 * gauss) * (rand() < 0.002 ? 20 : 1);
    const b = bounds.findIndex((ub) => ms <= ub);
    counts[b === -1 ? bounds.length - 1 : b]! += 1;
  }
  return bounds.map((ub, i) => [Number(ub.toPrecision(4)), counts[i] ?? 0]);
}

function scenario(name: string, description: string, seed: number, opsPerSec: number, p50: number, stages?: StageSummary[]): ScenarioResult {
  const rand = rng(seed);
  const durationMs = 10_000;
  const ops = Math.round((opsPerSec * durationMs) / 1000);
  const s: ScenarioResult = {
    name,
    description,
    ops,
    errors: Math.floor(rand() * 3),
    durationMs,
    opsPerSec,
    latencyMs: { p50, p95: p50 * 2.7, p99: p50 * 4.1, p999: p50 * 9, max: p50 * 31, mean: p50 * 1.2 },
    histogram: histogram(rand, 20_000, p50),
    throughput: Array.from({ length: 20 }, (_, i) => [(i + 1) * 0.5, Math.round(opsPerSec * (0.85 + 0.3 * rand()))] as [number, number]),
    params: { clients: 64, nodes: 3, valueBytes: 128, fsync: true, storage: 'lmdb' },
  };
  if (stages !== undefined) {
    s.stages = stages;
    s.stageSumP50Ms = stages.reduce((sum, st) => sum + st.p50, 0);
    s.totalP50Ms = p50;
  }
  return s;
}

const stage = (name: string, p50: number): StageSummary => ({ name, p50, p95: p50 * 2.5, p99: p50 * 4, mean: p50 * 1.3 });

function sampleResults(): Results {
  const writeStages = [stage('queue', 0.08), stage('batch', 0.21), stage('append+fsync', 0.95), stage('replicate', 0.42), stage('apply', 0.05)];
  return {
    version: 1,
    startedAt: '2025-11-25T17:50:00.000Z',
    finishedAt: '2025-11-25T17:51:10.000Z',
    command: 'node dist/bench/cli.js --scenarios write-heavy,mixed,read-heavy --compare',
    machine: { cpus: 16, cpuModel: 'AMD EPYC 7B13', node: 'v20.19.0', platform: 'linux x64', memGiB: 62.8 },
    scenarios: [
      scenario('write-heavy', 'All clients write 128-byte values; batched proposals, fsync on append.', 1, 48_210, 1.9, writeStages),
      scenario('mixed <50/50> & "quoted"', 'Half reads (leader lease), half writes.', 2, 91_530, 0.84, writeStages.map((s) => ({ ...s, p50: s.p50 * 0.8 }))),
      scenario('read-heavy', 'Linearizable reads through the leader with ReadIndex.', 3, 232_400, 0.31),
    ],
    compare: [
      { name: 'raw LMDB (1 writer)', opsPerSec: 310_000, latencyMs: { p50: 0.02, p95: 0.05, p99: 0.09, p999: 0.4, max: 3.1, mean: 0.03 }, ratioToRawLmdb: 1 },
      { name: 'threadraft 1 node', opsPerSec: 88_000, latencyMs: { p50: 0.6, p95: 1.2, p99: 2.4, p999: 6, max: 21, mean: 0.7 }, ratioToRawLmdb: 88 / 310, singlePutP50Ms: 0.2 },
      { name: 'threadraft 3 nodes', opsPerSec: 48_210, latencyMs: { p50: 1.9, p95: 5.1, p99: 7.8, p999: 17, max: 59, mean: 2.3 }, ratioToRawLmdb: 48.21 / 300, floorOpsPerSec: 300_000, ratioToMedianFloor: 48.21 / 310 },
    ],
    notes: ['fsync on every append (durable mode).', 'Latency measured at the client, including <queueing> & batching.'],
  };
}

/** The whole histogram of a log-normal latency around `medianMs`, encoded as results.json keeps it. */
function hdrOf(rand: () => number, ops: number, medianMs: number): string {
  const h = new LatencyHistogram();
  for (let i = 0; i < ops; i++) {
    const gauss = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    h.recordMs(medianMs * Math.exp(0.6 * gauss) * (rand() < 0.002 ? 20 : 1));
  }
  return h.encode();
}

function sweepPoint(x: number, opsPerSec: number, p50: number): SweepPoint {
  return { x, opsPerSec, errors: 0, latencyMs: { p50, p95: p50 * 2, p99: p50 * 3, p999: p50 * 6, max: p50 * 10, mean: p50 * 1.1 } };
}

/** Results with everything issue 15 added: whole histograms, warm-up, tail, threads, sweeps, open loop, instrumentation pairs. */
function fullResults(extraScenarios = 0): Results {
  const r = sampleResults();
  const rand = rng(99);
  r.scenarios.forEach((s, i) => {
    s.hdr = hdrOf(rand, 5000, s.latencyMs.p50);
    s.loop = 'closed';
    s.warmupThroughput = [[-1.5, s.opsPerSec * 0.5], [-1, s.opsPerSec * 0.8], [-0.5, s.opsPerSec * 0.95]];
    s.params.warmupSteady = i !== 0;
    s.threads = [
      { thread: 'main', elu: 0.61, gcCount: 12, gcPauseMs: 40.2, gcMaxPauseMs: 6.1, cpu: 0.42, waited: 0.13 },
      { thread: 'node-1', elu: 0.45, gcCount: 9, gcPauseMs: 21, gcMaxPauseMs: 3.3 },
    ];
    if (s.stages) {
      const meanMs = Object.fromEntries(s.stages.map((st) => [st.name, st.mean]));
      const tailMs = Object.fromEntries(s.stages.map((st, k) => [st.name, st.mean * (k === 2 ? 8 : 1.5)]));
      const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
      s.tail = {
        writes: 100_000,
        groups: [
          { label: 'all writes', writes: 100_000, meanTotalMs: sum(meanMs), meanMs },
          { label: 'around p99 (p98.9–p99.1)', writes: 200, meanTotalMs: sum(tailMs) * 0.9, meanMs: Object.fromEntries(Object.entries(tailMs).map(([k, v]) => [k, v * 0.9])) },
          { label: 'slowest 1 %', writes: 1000, meanTotalMs: sum(tailMs), meanMs: tailMs },
        ],
        dominant: Object.fromEntries(s.stages.map((st, k) => [st.name, k === 2 ? 0.8 : 0.05])),
      };
    }
  });
  const peek = scenario('read-peek', 'synchronous stale reads with peek(), one caller', 7, 1_100_000, 0.001);
  peek.latencyMs = { p50: 0.001, p95: 0.001, p99: 0.001, p999: 0.003, max: 0.42, mean: 0.0011 };
  peek.hdr = hdrOf(rand, 5000, 0.0008);
  peek.loop = 'closed';
  r.scenarios.push(peek);
  const open = scenario('open-loop', 'puts at 10,000/s', 8, 9_990, 1.4);
  open.loop = 'open';
  open.rateOpsPerSec = 10_000;
  open.hdr = hdrOf(rand, 200_000, 1.4); // a spectrum out to p99.9999: its last tick label must stay inside
  r.scenarios.push(open);
  for (let k = 0; k < extraScenarios; k++) {
    const s = scenario(`extra-${k}`, 'more', 100 + k, 1000 + k, 0.5 + k * 0.2);
    s.hdr = hdrOf(rand, 2000, 0.5 + k * 0.2);
    r.scenarios.push(s);
  }
  const inFlight: Sweep = {
    name: 'sweep', description: 'single puts at 1 … 1024 in flight', varied: 'in-flight', loop: 'closed',
    series: [
      { label: '3 nodes, lmdb, piscina', points: [sweepPoint(1, 1200, 0.7), sweepPoint(16, 15_000, 1), sweepPoint(256, 66_000, 3.4), sweepPoint(1024, 90_000, 10)] },
      { label: '3 nodes, lmdb, inline', points: [sweepPoint(1, 1300, 0.65), sweepPoint(16, 14_000, 1.1), sweepPoint(256, 70_000, 3.2), sweepPoint(1024, 85_000, 11)] },
      { label: '3 nodes, memory', points: [sweepPoint(1, 3000, 0.3), sweepPoint(16, 30_000, 0.5), sweepPoint(256, 110_000, 1.6), sweepPoint(1024, 120_000, 8)] },
    ],
  };
  const rate: Sweep = {
    name: 'rate-sweep', description: 'open loop', varied: 'rate', loop: 'open', sloP99Ms: 10, maxRateWithinSlo: 45_000,
    series: [{ label: '3 nodes, lmdb, piscina (open loop)', points: [sweepPoint(1000, 1000, 0.8), sweepPoint(16_000, 16_000, 1.2), sweepPoint(32_000, 32_000, 2), sweepPoint(45_000, 44_900, 3), sweepPoint(64_000, 52_000, 40)] }],
  };
  r.sweeps = [inFlight, rate];
  r.instrumentationCost = { pairs: Array.from({ length: 10 }, (_, i) => [66_000 - i * 100, 67_000 + i * 50] as [number, number]), medianPct: 1.8, ciLowPct: 0.4, ciHighPct: 3.1, slowerPairs: 9, signTestP: 0.021, secondsPerRun: 1 };
  r.ttlCost = { pairs: Array.from({ length: 12 }, (_, i) => [58_000 - i * 100, 63_000 + i * 50] as [number, number]), medianPct: 8.4, ciLowPct: 6.1, ciHighPct: 9.7, slowerPairs: 12, signTestP: 0.0005, secondsPerRun: 1 };
  r.poolCost = { pairs: Array.from({ length: 10 }, (_, i) => [50_000 + i * 100, 49_000 + i * 50] as [number, number]), medianPct: -2.2, ciLowPct: -3.0, ciHighPct: -1.1, slowerPairs: 0, signTestP: 0.002, secondsPerRun: 1 };
  return r;
}

// ---- structure -------------------------------------------------------------------------------

/** The `<svg class="plot" ...>...</svg>` blocks of a page. */
function plots(html: string): Array<{ name: string; scenario: string | undefined; svg: string }> {
  return [...html.matchAll(/<svg class="plot" data-plot="([^"]+)"(?: data-scenario="([^"]*)")?[^>]*>[\s\S]*?<\/svg>/g)].map((m) => ({
    name: m[1] ?? '',
    scenario: m[2],
    svg: m[0],
  }));
}

test('report has one plot per chart: CDF and throughput per scenario, stages where profiled, compare, overview', () => {
  const html = renderReport(sampleResults());
  const found = plots(html);
  const count = (name: string): number => found.filter((p) => p.name === name).length;
  assert.equal(count('latency-cdf'), 3);
  assert.equal(count('throughput'), 3);
  assert.equal(count('stages'), 2);
  assert.equal(count('compare'), 1);
  assert.equal(count('latency-cdf-all'), 1);
  assert.equal(found.length, 10);
  assert.equal((html.match(/<svg/g) ?? []).length, found.length);
  assert.deepEqual(
    found.filter((p) => p.name === 'stages').map((p) => p.scenario),
    ['write-heavy', 'mixed &#60;50/50&#62; &#38; &#34;quoted&#34;'],
  );
  for (const p of found) {
    const paths = [...p.svg.matchAll(/<path class="series" d="([^"]*)"/g)].map((m) => m[1] ?? '');
    const rects = [...p.svg.matchAll(/<rect class="series"[^>]* width="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.ok(paths.length + rects.length > 0, `${p.name} has no series`);
    assert.ok(paths.every((d) => d.length > 10 && !d.includes('NaN')), `${p.name} has an empty or NaN path`);
    assert.ok(rects.every((w) => w > 0), `${p.name} has an empty bar`);
  }
  // The overview overlays all three scenarios; stage bars: 5 stages + the total.
  assert.equal((plots(html).find((p) => p.name === 'latency-cdf-all')?.svg.match(/class="series"/g) ?? []).length, 3);
  assert.equal((plots(html).find((p) => p.name === 'stages')?.svg.match(/class="series"/g) ?? []).length, 6);
});

test('issue 15: spectra per scenario and overall, warm-up line, tail bars, sweeps, threads, open loop labelled, instrumentation pairs', () => {
  const html = renderReport(fullResults());
  const found = plots(html);
  const count = (name: string): number => found.filter((p) => p.name === name).length;
  assert.equal(count('latency-cdf'), 5);
  assert.equal(count('percentile-spectrum'), 5);
  assert.equal(count('percentile-spectrum-all'), 1);
  assert.equal(count('latency-cdf-all'), 0); // the spectrum replaces the linear-CDF overview when histograms are whole
  assert.equal(count('throughput'), 5);
  assert.equal(count('stages'), 2);
  assert.equal(count('tail'), 2);
  assert.equal(count('sweep-p50'), 2);
  assert.equal(count('sweep-p99'), 2);
  assert.equal(count('compare'), 1);
  for (const p of found) {
    const paths = [...p.svg.matchAll(/<path class="series" d="([^"]*)"/g)].map((m) => m[1] ?? '');
    const rects = [...p.svg.matchAll(/<rect class="series"[^>]* width="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.ok(paths.length + rects.length > 0, `${p.name} has no series`);
    assert.ok(paths.every((d) => d.length > 10 && !d.includes('NaN')), `${p.name} has an empty or NaN path`);
  }
  // The spectrum's x axis names p50 … p99.99; the overview has a line per scenario.
  const all = found.find((p) => p.name === 'percentile-spectrum-all')!.svg;
  for (const tick of ['50%', '90%', '99%', '99.9%']) assert.ok(all.includes(`>${tick}<`), `tick ${tick}`);
  assert.equal((all.match(/class="series"/g) ?? []).length, 5);
  // Warm-up drawn as a second, dashed line of the throughput plot.
  const tp = found.find((p) => p.name === 'throughput')!.svg;
  assert.equal((tp.match(/class="series"/g) ?? []).length, 2);
  assert.match(tp, /stroke-dasharray="6 4" data-label="warm-up/);
  // Sweeps: a line per configuration, a dot per point, the p99 bound and the rate found.
  const sw = found.find((p) => p.name === 'sweep-p50')!.svg;
  assert.equal((sw.match(/class="series"/g) ?? []).length, 3);
  assert.equal((sw.match(/class="dot"/g) ?? []).length, 12);
  assert.match(found.filter((p) => p.name === 'sweep-p99')[1]!.svg, /p99 bound 10\.0 ms/);
  assert.match(html, /Highest rate with p99 ≤ 10\.0 ms: 45,000 calls\/s/);
  // Tail: three stacked bars of 5 stages; the table with the dominant stage.
  assert.equal((found.find((p) => p.name === 'tail')!.svg.match(/<rect class="series"/g) ?? []).length, 15);
  assert.match(html, /<table class="tail">/);
  assert.match(html, /<table class="threads-overview">/);
  // A thread's run-queue wait where it was read (main), nothing where it was not (node-1).
  assert.match(html, /<td>61% · 13% waited · 6\.10<\/td><td>45% · 3\.30<\/td>/);
  assert.match(html, /<th>waited for a CPU<\/th>/);
  assert.match(html, /Median cost 1\.8% \(95 % bootstrap CI 0\.4% to 3\.1%\), 10 pairs of 1 s; target ≤ 3 %/);
  assert.match(html, /<h2 id="ttl-cost">TTL cost \(interleaved pairs\)<\/h2><p><strong>Median cost 8\.4% \(95 % bootstrap CI 6\.1% to 9\.7%\), 12 pairs of 1 s; target ≤ 10 %/);
  assert.match(html, /<h2 id="pool-cost">Pool cost \(interleaved pairs\)<\/h2><p><strong>Median cost -2\.2% \(95 % bootstrap CI -3\.0% to -1\.1%\), 10 pairs of 1 s; target ≤ 0 %\.<\/strong> The piscina pool was slower in 0 of 10 pairs/);
  assert.match(html, /<th>TTL ops\/s<\/th><th>plain ops\/s<\/th>/);
  // Open and closed loops labelled; parameters folded; read-peek's p50 at the resolution, not "0.0010".
  const summary = html.match(/<table class="summary"[\s\S]*?<\/table>/)?.[0] ?? '';
  assert.match(summary, /open loop, 10,000\/s/);
  assert.match(summary, /closed loop, 64 in flight/);
  assert.match(summary, /<abbr title="at or below the histogram's 1 µs resolution">≤ 0\.001<\/abbr>/);
  assert.doesNotMatch(summary, /0\.0010/);
  assert.equal(formatLatency(0.001), '≤ 0.001');
  assert.equal(formatLatency(0.0123), '0.012');
  assert.equal((html.match(/<details class="params">/g) ?? []).length, 5);
  assert.doesNotMatch(html, /<table class="params">(?![\s\S]*?<\/details>)/);
});

test('every series of a plot has its own colour, and no label is clipped', () => {
  const html = renderReport(fullResults(25)); // 30 scenarios in the overview
  const all = plots(html).find((p) => p.name === 'percentile-spectrum-all')!.svg;
  const strokes = [...all.matchAll(/<path class="series" d="[^"]*" stroke="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(strokes.length, 30);
  assert.equal(new Set(strokes).size, 30);
  assert.equal(/<text[^>]*>[^<]*…/.test(html), false, 'a label clipped with …');
  for (let k = 0; k < 25; k++) assert.ok(all.includes(`>extra-${k}</text>`), `legend of extra-${k}`);
});

test('report is self-contained and escapes all text', () => {
  const results = sampleResults();
  const first = results.scenarios[0];
  assert.ok(first !== undefined);
  first.description = '<script>alert(1)</script> & <img src=x onerror=alert(2)>';
  first.params['note'] = '"quoted" <b>';
  results.notes.push('</li></ul><script>bad()</script>');
  const html = renderReport(results);
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /<script|<img|<link|@import|url\(/i);
  assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62; &#38; &#60;img/);
  assert.match(html, /mixed &#60;50\/50&#62; &#38; &#34;quoted&#34;/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  // Summary table: one row per scenario with the formatted numbers.
  const summary = html.match(/<table class="summary"[\s\S]*?<\/table>/)?.[0] ?? '';
  assert.equal((summary.match(/<tr>/g) ?? []).length, 4);
  assert.match(summary, /48,210/);
  assert.match(summary, /<td>1\.90<\/td>/);
});

test('CDF from a histogram rises monotonically to 1, ignoring empty and invalid buckets', () => {
  const points = cdfPoints([
    [4, 10],
    [1, 0],
    [2, 30],
    [8, 60],
    [Infinity, 5],
    [16, 0],
  ]);
  assert.deepEqual(points, [
    [1, 0],
    [2, 30 / 100],
    [4, 40 / 100],
    [8, 1],
  ]);
  assert.deepEqual(cdfPoints([]), []);
  // A scenario without data still renders (a "no data" plot, no series).
  const results = sampleResults();
  const s = results.scenarios[2];
  assert.ok(s !== undefined);
  s.histogram = [];
  s.throughput = [];
  const html = renderReport(results);
  assert.equal(plots(html).filter((p) => p.scenario === 'read-heavy' && p.svg.includes('no data')).length, 2);
});

test('terminal table aligns columns', () => {
  const text = renderTable(sampleResults());
  const lines = text.split('\n');
  const header = lines[0] ?? '';
  assert.match(header, /^scenario\s+ops\s+errors\s+ops\/s\s+p50 ms\s+p95 ms\s+p99 ms\s+p99\.9 ms\s+max ms$/);
  const table = lines.slice(0, 5);
  // Right-aligned columns end at the same offset on every line.
  const ends = (line: string): number[] => [...line.matchAll(/\S+(?=\s{2,}|$)/g)].map((m) => (m.index ?? 0) + m[0].length);
  const rule = ends(lines[1] ?? '');
  for (const line of table.slice(2)) assert.deepEqual(ends(line).slice(-8), rule.slice(-8), line);
  assert.match(text, /write-heavy\s+482,100\s+1\s+48,210\s+1\.90/);
  assert.match(text, /stages of write-heavy/);
  assert.match(text, /raw LMDB \(1 writer\)\s+310,000/);
  assert.match(text, /threadraft 3 nodes\s+48,210\s+1\.90\s+7\.80\s+0\.161\s+300,000\s+0\.156\n/, 'a row: its ratio, the floor beside it, its ratio to the median floor');
  assert.match(text, /threadraft 1 node\s+88,000\s+0\.600\s+2\.40\s+0\.284\s+3\.00 \(0\.200\)\n/, 'one in flight: p50 over the single put beside it');
  assert.doesNotMatch(text, /\x1b\[/);
  assert.match(renderTable(fullResults()), /threads of write-heavy, on a CPU \/ waiting for one \(share of the run\): main 42% \/ 13%\n/);
  assert.match(renderTable(fullResults()), /instrumentation cost, 10 interleaved pairs: median 1\.8% \(95% CI 0\.4% to 3\.1%; slower in 9 of 10/);
});

test('writeReport writes results.json and report.html', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'threadraft-report-'));
  try {
    const results = sampleResults();
    const paths = await writeReport(join(dir, 'run'), results);
    assert.equal(paths.jsonPath, join(dir, 'run', 'results.json'));
    assert.equal(paths.htmlPath, join(dir, 'run', 'report.html'));
    assert.deepEqual(JSON.parse(await readFile(paths.jsonPath, 'utf8')), results);
    assert.equal(await readFile(paths.htmlPath, 'utf8'), renderReport(results));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---- rendered in a real browser --------------------------------------------------------------

function findChromium(): string | undefined {
  const candidates = ['/usr/bin/chromium', ...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'chromium'))];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface PlotGeometry {
  name: string;
  width: number;
  height: number;
  series: number;
  drawn: number;
  /** Texts that run past the plot's edges (clipped when drawn). */
  outside: string[];
}

// Runs in the page (passed as a string: the test is compiled without DOM types).
const MEASURE_PLOTS = `[...document.querySelectorAll('svg.plot')].map((svg) => {
  const box = svg.getBoundingClientRect();
  const series = [...svg.querySelectorAll('.series')];
  const drawn = series.filter((el) => {
    const b = el.getBBox();
    if (el.tagName === 'path') return (el.getAttribute('d') || '').length > 10 && b.width + b.height > 0;
    return el.tagName === 'rect' && b.width > 0 && b.height > 0;
  });
  const outside = [...svg.querySelectorAll('text')].filter((t) => {
    const b = t.getBoundingClientRect();
    return b.width > 0 && (b.left < box.left - 1 || b.right > box.right + 1 || b.top < box.top - 1 || b.bottom > box.bottom + 1);
  }).map((t) => t.textContent);
  return { name: svg.dataset.plot, width: box.width, height: box.height, series: series.length, drawn: drawn.length, outside };
})`;

test('report renders in headless Chromium without errors, every plot drawn', { timeout: 120_000 }, async (t) => {
  const executablePath = findChromium();
  if (executablePath === undefined) {
    t.skip('chromium not installed: apt-get install chromium (CI installs it)');
    return;
  }
  const { chromium } = await import('playwright-core');
  const dir = await mkdtemp(join(tmpdir(), 'threadraft-report-browser-'));
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  try {
    const { htmlPath } = await writeReport(dir, sampleResults());
    const full = await writeReport(join(dir, 'full'), fullResults(12));
    browser = await chromium.launch({
      executablePath,
      timeout: 60_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('request', (req) => {
      if (!req.url().startsWith('file:')) requests.push(req.url());
    });
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load', timeout: 30_000 });
    const geometry = (await page.evaluate(MEASURE_PLOTS)) as PlotGeometry[];
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
    assert.equal(geometry.length, 10);
    for (const g of geometry) {
      assert.ok(g.width > 0 && g.height > 0, `${g.name} has no size`);
      assert.ok(g.series > 0 && g.drawn === g.series, `${g.name}: ${g.drawn} of ${g.series} series drawn`);
    }
    const title = await page.title();
    assert.match(title, /threadraft benchmark/);
    // The report with issue 15's plots: every plot drawn, none empty, no label past a plot's edge.
    await page.goto(pathToFileURL(full.htmlPath).href, { waitUntil: 'load', timeout: 30_000 });
    const g2 = (await page.evaluate(MEASURE_PLOTS)) as PlotGeometry[];
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
    const names = new Set(g2.map((g) => g.name));
    for (const n of ['percentile-spectrum', 'percentile-spectrum-all', 'sweep-p50', 'sweep-p99', 'tail', 'throughput', 'stages', 'compare']) assert.ok(names.has(n), `no ${n} plot`);
    for (const g of g2) {
      assert.ok(g.width > 0 && g.height > 0, `${g.name} has no size`);
      assert.ok(g.series > 0 && g.drawn === g.series, `${g.name}: ${g.drawn} of ${g.series} series drawn`);
      assert.deepEqual(g.outside, [], `${g.name}: labels past the edge`);
    }
    assert.equal(full.hgrmPaths.length, 17);
  } finally {
    await browser?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});
