// The terminal summary: plain text, columns aligned (text left, numbers right).

import { formatInt, formatLatency, formatMs, formatShare } from './format.js';
import type { Results } from './types.js';

type Align = 'left' | 'right';

/** Aligns rows of cells under a header; the first column is left-aligned, the rest right-aligned. */
export function alignColumns(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => pad(cell, widths[c] ?? cell.length, c === 0 ? 'left' : 'right'))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function pad(text: string, width: number, align: Align): string {
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

/** How the note on `compare`'s floors begins (bench/cli.ts writes it; the table prints it under the compare rows). */
export const FLOOR_NOTE = 'compare: the floor measured';

export function renderTable(results: Results): string {
  const header = ['scenario', 'ops', 'errors', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'p99.9 ms', 'max ms'];
  const rows = results.scenarios.map((s) => {
    const l = s.latencyMs;
    return [s.name, formatInt(s.ops), formatInt(s.errors), formatInt(s.opsPerSec), ...[l.p50, l.p95, l.p99, l.p999, l.max].map(formatLatency)];
  });
  const parts = [alignColumns(header, rows)];
  const open = results.scenarios.filter((s) => s.loop === 'open');
  if (open.length > 0) parts.push(`open loop (latency from each call's intended send time): ${open.map((s) => `${s.name} at ${formatInt(s.rateOpsPerSec ?? 0)}/s`).join(', ')}; the others are closed loop`);
  for (const sw of results.sweeps ?? []) {
    const swRows = sw.series.flatMap((se) => se.points.map((p) => [se.label, formatInt(p.x), formatInt(p.opsPerSec), formatLatency(p.latencyMs.p50), formatLatency(p.latencyMs.p99), formatInt(p.errors)]));
    const found = sw.sloP99Ms !== undefined ? `; highest rate with p99 <= ${formatMs(sw.sloP99Ms)} ms: ${formatInt(sw.maxRateWithinSlo ?? 0)}/s` : '';
    parts.push(`${sw.name} (${sw.loop} loop${found})\n${alignColumns(['configuration', sw.varied, 'ops/s', 'p50 ms', 'p99 ms', 'errors'], swRows)}`);
  }
  for (const s of results.scenarios) {
    if (s.stages === undefined || s.stages.length === 0) continue;
    const stageRows = s.stages.map((st) => [st.name, ...[st.p50, st.p95, st.p99, st.mean].map(formatMs)]);
    const sum = s.stageSumP50Ms ?? s.stages.reduce((acc, st) => acc + st.p50, 0);
    const total = s.totalP50Ms ?? s.latencyMs.p50;
    stageRows.push(['sum of p50s', formatMs(sum), '', '', '']);
    stageRows.push(['end-to-end p50', formatMs(total), '', '', '']);
    parts.push(`stages of ${s.name}\n${alignColumns(['stage', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms'], stageRows)}`);
    const tail = tailLine(s);
    if (tail !== '') parts.push(tail);
    const threads = threadsLine(s);
    if (threads !== '') parts.push(threads);
  }
  const cache = results.scenarios.filter((s) => s.params.evictions !== undefined || s.params.expirations !== undefined || s.params.watchers !== undefined);
  if (cache.length > 0) {
    const num = (v: unknown): string => (typeof v === 'number' ? formatInt(v) : '');
    const ms = (v: unknown): string => (typeof v === 'number' ? formatMs(v) : '');
    const cacheRows = cache.map((s) => {
      const p = s.params;
      return [s.name, num(p.keysHeld), num(p.evictions), num(p.expirations), num(p.watchers), num(p.eventsPerSecPerWatcher), num(p.eventsPerSec), ms(p.deliveryP50Ms), ms(p.deliveryP99Ms)];
    });
    parts.push(`cache and watch (on the leader; events/s as the watchers' iterators returned them; delivery = the node's apply → next())\n${alignColumns(['scenario', 'keys', 'evictions', 'expirations', 'watchers', 'events/s each', 'events/s all', 'delivery p50 ms', 'p99 ms'], cacheRows)}`);
  }
  if (results.compare !== undefined && results.compare.length > 0) {
    const opt = (v: number | undefined, f: (x: number) => string): string => (v === undefined ? '' : f(v));
    const compareRows = results.compare.map((r) => [
      r.name, formatInt(r.opsPerSec), formatMs(r.latencyMs.p50), formatMs(r.latencyMs.p99), r.ratioToRawLmdb.toFixed(3),
      opt(r.floorOpsPerSec, formatInt), opt(r.ratioToMedianFloor, (x) => x.toFixed(3)),
      opt(r.singlePutP50Ms, (x) => `${(r.latencyMs.p50 / x).toFixed(2)} (${formatMs(x)})`),
    ]);
    const floorNote = results.notes.find((n) => n.startsWith(FLOOR_NOTE));
    const head = ['system', 'ops/s', 'p50 ms', 'p99 ms', 'x floor', 'floor beside', 'x median floor', 'p50 x single put (its p50 ms)'];
    parts.push(`compare\n${alignColumns(head, compareRows)}${floorNote === undefined ? '' : `\n${floorNote}`}`);
  }
  for (const [label, c] of [['instrumentation', results.instrumentationCost], ['TTL', results.ttlCost], ['pool (piscina against inline)', results.poolCost]] as const) {
    if (c === undefined) continue;
    parts.push(`${label} cost, ${c.pairs.length} interleaved pairs: median ${c.medianPct.toFixed(1)}% (95% CI ${c.ciLowPct.toFixed(1)}% to ${c.ciHighPct.toFixed(1)}%; slower in ${c.slowerPairs} of ${c.pairs.length}, sign test p = ${c.signTestP.toFixed(3)})`);
  }
  return parts.join('\n\n') + '\n';
}

/**
 * One line on the threads (Linux): each one's share of the run on a CPU and runnable but waiting for one. A stage
 * includes its threads' waits: on a machine with fewer cores than runnable threads they are a part of every hop.
 */
export function threadsLine(s: Results['scenarios'][number]): string {
  const rows = (s.threads ?? []).filter((t) => t.cpu !== undefined && t.waited !== undefined);
  if (rows.length === 0) return '';
  return `threads of ${s.name}, on a CPU / waiting for one (share of the run): ${rows.map((t) => `${t.thread} ${formatShare(t.cpu!)} / ${formatShare(t.waited!)}`).join(', ')}`;
}

/** One line on the tail: the stage that was most often the largest among the slowest 1 %, and its shares. */
export function tailLine(s: Results['scenarios'][number]): string {
  const t = s.tail;
  const all = t?.groups[0];
  const slow = t?.groups[t.groups.length - 1];
  if (t === undefined || all === undefined || slow === undefined || slow === all) return '';
  const [stage, fraction] = Object.entries(t.dominant).sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
  const share = (g: typeof all): string => (g.meanTotalMs > 0 ? `${Math.round(((g.meanMs[stage] ?? 0) / g.meanTotalMs) * 100)}%` : '?');
  return `tail of ${s.name}: among the ${slow.label} (${formatInt(slow.writes)} writes, mean ${formatMs(slow.meanTotalMs)} ms) ${stage} was the largest stage in ${Math.round(fraction * 100)}% of them; its share ${share(slow)} (all writes: ${share(all)})`;
}
