// Inline SVG charts for the report, drawn by hand: the page must work offline, so no plotting
// library and no external resources. Every chart is an `<svg class="plot" data-plot=...>`; drawn
// data series carry class "series" so tests (and readers' scripts) can find them.

import { formatTick } from './format.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** 20 colours told apart by hue and lightness (after Tableau 20); past them, golden-angle hues. */
export const PALETTE = [
  '#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#17becf', '#e377c2', '#8c564b', '#bcbd22', '#7f7f7f',
  '#aec7e8', '#ff9896', '#98df8a', '#ffbb78', '#c5b0d5', '#9edae5', '#f7b6d2', '#c49c94', '#dbdb8d', '#393b79',
];

/** A colour per series index, distinct for every index (no cycling). */
export function color(i: number): string {
  if (i < PALETTE.length) return PALETTE[i] as string;
  const k = i - PALETTE.length;
  return `hsl(${Math.round((k * 137.508) % 360)} ${k % 2 === 0 ? 70 : 45}% ${35 + (k % 3) * 12}%)`;
}

export interface Axis {
  min: number;
  max: number;
  log?: boolean;
  label: string;
  /** Formats tick labels; default compact numbers. */
  format?: (v: number) => string;
  /** Explicit tick values (those inside [min, max] are drawn). */
  ticks?: number[];
}

export interface LineSeries {
  label: string;
  points: Array<[number, number]>;
  color: string;
  /** Dashed line (e.g. a warm-up, or a second statistic of the same configuration). */
  dash?: boolean;
  /** A dot at every point, with these tooltips (one per point). */
  dots?: string[];
}

export interface Marker {
  x: number;
  label: string;
}

/** A horizontal line across the plot (e.g. a latency bound). */
export interface YMarker {
  y: number;
  label: string;
}

export interface PlotFrame {
  name: string;
  /** Extra attributes identifying the plot, e.g. `{ scenario: 'write-heavy' }` -> data-scenario. */
  data?: Record<string, string>;
  title: string;
  width?: number;
  height?: number;
  /** Draw the legend even for a single series (default: only for two or more). */
  legend?: boolean;
}

const MARGIN = { left: 64, right: 20, top: 30, bottom: 46 };

/** Pixel mapping of one axis; log axes need min > 0. */
function scale(axis: Axis, from: number, to: number): (v: number) => number {
  if (axis.log === true) {
    const lo = Math.log10(axis.min);
    const span = Math.log10(axis.max) - lo || 1;
    return (v) => from + ((Math.log10(Math.max(v, axis.min)) - lo) / span) * (to - from);
  }
  const span = axis.max - axis.min || 1;
  return (v) => from + ((v - axis.min) / span) * (to - from);
}

/** Tick values: 1-2-5 steps per decade on log axes, about five round steps on linear ones. */
export function ticks(axis: Axis): number[] {
  if (axis.ticks !== undefined) return axis.ticks.filter((v) => v >= axis.min * 0.999 && v <= axis.max * 1.001);
  if (axis.log === true) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(axis.min)); e <= Math.ceil(Math.log10(axis.max)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= axis.min * 0.999 && v <= axis.max * 1.001) out.push(Number(v.toPrecision(6)));
      }
    }
    // Many decades: keep the powers of ten only.
    return out.length > 12 ? out.filter((v) => Math.abs(Math.log10(v) % 1) < 1e-9) : out;
  }
  const span = axis.max - axis.min;
  if (!(span > 0)) return [axis.min];
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(axis.min / step) * step; v <= axis.max + step * 1e-9; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

function n(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 10) / 10) : '0';
}

function openSvg(frame: PlotFrame, width: number, height: number): string {
  const data = Object.entries(frame.data ?? {})
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join('');
  return (
    `<svg class="plot" data-plot="${escapeHtml(frame.name)}"${data} viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(frame.title)}">` +
    `<title>${escapeHtml(frame.title)}</title>` +
    `<text class="plot-title" x="${MARGIN.left}" y="18">${escapeHtml(frame.title)}</text>`
  );
}

function noData(frame: PlotFrame, width: number, height: number): string {
  return `${openSvg(frame, width, height)}<text class="no-data" x="${width / 2}" y="${height / 2}" text-anchor="middle">no data</text></svg>`;
}

/** Line chart with axes, grid, optional markers and a legend below the plot (full labels, never clipped). */
export function linePlot(frame: PlotFrame, x: Axis, y: Axis, series: LineSeries[], markers: Marker[] = [], yMarkers: YMarker[] = []): string {
  const width = frame.width ?? 640;
  const drawn = series.filter((s) => s.points.length > 0);
  const legendItems: Array<[string, string, boolean]> = drawn.length > 1 || frame.legend === true ? drawn.map((s) => [s.label, s.color, s.dash === true]) : [];
  const legendBox = legendLayout(legendItems.map(([l]) => l), width);
  const plotHeight = frame.height ?? 300;
  const height = plotHeight + legendBox.height;
  if (drawn.length === 0) return noData(frame, width, plotHeight);
  const x0 = MARGIN.left;
  const x1 = width - MARGIN.right;
  const y0 = plotHeight - MARGIN.bottom;
  const y1 = MARGIN.top;
  const sx = scale(x, x0, x1);
  const sy = scale(y, y0, y1);
  const parts: string[] = [openSvg(frame, width, height)];
  parts.push('<g class="grid">');
  for (const t of ticks(x)) {
    parts.push(`<line x1="${n(sx(t))}" x2="${n(sx(t))}" y1="${y1}" y2="${y0}"/>`);
    const anchor = sx(t) > x1 - 24 ? 'end' : 'middle'; // the last tick's label stays inside the plot
    parts.push(`<text class="tick" x="${n(sx(t))}" y="${y0 + 16}" text-anchor="${anchor}">${escapeHtml((x.format ?? formatTick)(t))}</text>`);
  }
  for (const t of ticks(y)) {
    parts.push(`<line x1="${x0}" x2="${x1}" y1="${n(sy(t))}" y2="${n(sy(t))}"/>`);
    parts.push(`<text class="tick" x="${x0 - 6}" y="${n(sy(t) + 4)}" text-anchor="end">${escapeHtml((y.format ?? formatTick)(t))}</text>`);
  }
  parts.push('</g>');
  parts.push(`<rect class="frame" x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}"/>`);
  parts.push(`<text class="axis-label" x="${(x0 + x1) / 2}" y="${plotHeight - 8}" text-anchor="middle">${escapeHtml(x.label)}</text>`);
  parts.push(`<text class="axis-label" transform="translate(14 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(y.label)}</text>`);
  for (const m of yMarkers) {
    if (!(m.y >= y.min && m.y <= y.max)) continue;
    const py = n(sy(m.y));
    parts.push(`<line class="marker" x1="${x0}" x2="${x1}" y1="${py}" y2="${py}"/>`);
    parts.push(`<text class="marker-label" x="${x0 + 4}" y="${n(sy(m.y) - 4)}">${escapeHtml(m.label)}</text>`);
  }
  for (const m of markers) {
    if (!(m.x >= x.min && m.x <= x.max)) continue;
    const px = n(sx(m.x));
    parts.push(`<line class="marker" x1="${px}" x2="${px}" y1="${y1}" y2="${y0}"/>`);
    // Inside the frame at the bottom: above it sits the title, and CDFs are empty down there past p50.
    parts.push(`<text class="marker-label" x="${n(sx(m.x) + 3)}" y="${y0 - 4}">${escapeHtml(m.label)}</text>`);
  }
  for (const s of drawn) {
    const d = s.points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${n(sx(px))} ${n(sy(py))}`).join('');
    const dash = s.dash === true ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path class="series" d="${d}" stroke="${s.color}"${dash} data-label="${escapeHtml(s.label)}"><title>${escapeHtml(s.label)}</title></path>`);
    if (s.dots !== undefined) {
      s.points.forEach(([px, py], i) => {
        parts.push(`<circle class="dot" cx="${n(sx(px))}" cy="${n(sy(py))}" r="3" fill="${s.color}"><title>${escapeHtml(`${s.label}: ${s.dots?.[i] ?? ''}`)}</title></circle>`);
      });
    }
  }
  if (legendItems.length > 0) parts.push(legend(legendItems, legendBox, plotHeight));
  parts.push('</svg>');
  return parts.join('');
}

/** Approximate width of a label at the plots' 11 px font (for layout only). */
function textWidth(label: string): number {
  return label.length * 6.2;
}

interface LegendBox {
  columns: number;
  columnWidth: number;
  height: number;
}

const LEGEND_ROW = 16;

/** As many columns as the longest label allows; every label whole (one that is wider than the plot gets a row of its own). */
function legendLayout(labels: string[], width: number): LegendBox {
  if (labels.length === 0) return { columns: 1, columnWidth: width, height: 0 };
  const columnWidth = Math.max(...labels.map(textWidth)) + 28;
  const columns = Math.max(1, Math.min(labels.length, Math.floor((width - MARGIN.left) / columnWidth)));
  return { columns, columnWidth, height: Math.ceil(labels.length / columns) * LEGEND_ROW + 10 };
}

/** Legend under the plot: a swatch (dashed for dashed series) and the full label. */
function legend(items: Array<[string, string, boolean]>, box: LegendBox, top: number): string {
  const rows = items.map(([label, c, dashed], i) => {
    const x = MARGIN.left - 40 + (i % box.columns) * box.columnWidth;
    const y = top + 4 + Math.floor(i / box.columns) * LEGEND_ROW;
    const swatch = dashed
      ? `<line x1="${x}" x2="${x + 14}" y1="${y + 5}" y2="${y + 5}" stroke="${c}" stroke-width="2" stroke-dasharray="4 2"/>`
      : `<rect x="${x}" y="${y}" width="14" height="10" fill="${c}"/>`;
    return `${swatch}<text class="legend" x="${x + 20}" y="${y + 9}">${escapeHtml(label)}</text>`;
  });
  return `<g class="legend">${rows.join('')}</g>`;
}

export interface Bar {
  label: string;
  /** Segments stacked left to right. */
  segments: Array<{ label: string; value: number; color: string }>;
  /** Text after the bar, e.g. the total. */
  note?: string;
}

/** Horizontal (stacked) bars on a linear axis starting at zero. */
export function barPlot(frame: PlotFrame, bars: Bar[], axisLabel: string, format: (v: number) => string = formatTick): string {
  const width = frame.width ?? 640;
  const rowHeight = 40; // the label on a line of its own above its bar: labels are never clipped
  const height = MARGIN.top + bars.length * rowHeight + MARGIN.bottom;
  const max = Math.max(0, ...bars.map((b) => b.segments.reduce((sum, s) => sum + Math.max(0, s.value), 0)));
  if (bars.length === 0 || !(max > 0)) return noData(frame, width, Math.max(height, 120));
  const x0 = 16;
  const x1 = width - 110;
  const axis: Axis = { min: 0, max: max * 1.05, label: axisLabel, format };
  const sx = scale(axis, x0, x1);
  const y0 = height - MARGIN.bottom;
  const parts: string[] = [openSvg(frame, width, height), '<g class="grid">'];
  for (const t of ticks(axis)) {
    parts.push(`<line x1="${n(sx(t))}" x2="${n(sx(t))}" y1="${MARGIN.top}" y2="${y0}"/>`);
    parts.push(`<text class="tick" x="${n(sx(t))}" y="${y0 + 16}" text-anchor="middle">${escapeHtml(format(t))}</text>`);
  }
  parts.push('</g>');
  parts.push(`<text class="axis-label" x="${(x0 + x1) / 2}" y="${height - 8}" text-anchor="middle">${escapeHtml(axisLabel)}</text>`);
  bars.forEach((bar, i) => {
    const y = MARGIN.top + i * rowHeight + 16;
    parts.push(`<text class="bar-label" x="${x0}" y="${y - 4}">${escapeHtml(bar.label)}</text>`);
    let at = 0;
    for (const s of bar.segments) {
      const v = Math.max(0, s.value);
      const w = sx(at + v) - sx(at);
      parts.push(
        `<rect class="series" x="${n(sx(at))}" y="${y}" width="${n(Math.max(w, 0.5))}" height="${rowHeight - 20}" fill="${s.color}" data-label="${escapeHtml(s.label)}">` +
          `<title>${escapeHtml(`${s.label}: ${format(s.value)}`)}</title></rect>`,
      );
      at += v;
    }
    if (bar.note !== undefined) parts.push(`<text class="bar-note" x="${n(sx(at) + 6)}" y="${y + 14}">${escapeHtml(bar.note)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
