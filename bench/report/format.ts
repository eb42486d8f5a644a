// Number formatting shared by the terminal table and the HTML report.

/** Integer with thousands separators: 1234567 -> "1,234,567". */
export function formatInt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  const digits = String(Math.round(Math.abs(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Milliseconds with precision that fits the magnitude: 0.0123, 0.456, 4.56, 45.6, 456, 4,560. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const a = Math.abs(ms);
  if (a === 0) return '0';
  if (a < 0.01) return ms.toPrecision(2);
  if (a < 1) return ms.toFixed(3);
  if (a < 10) return ms.toFixed(2);
  if (a < 100) return ms.toFixed(1);
  return formatInt(ms);
}

/** A share of a whole (0..1) as a whole percent: 0.423 -> "42%". */
export function formatShare(v: number): string {
  return `${Math.round(v * 100)}%`;
}

/** Compact number for axis ticks: 0.001, 0.5, 20, 1.5k, 2M. */
export function formatTick(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e6) return `${trim(n / 1e6)}M`;
  if (a >= 1e3) return `${trim(n / 1e3)}k`;
  return trim(n);
}

function trim(n: number): string {
  return String(Number(n.toPrecision(3)));
}

/** The histograms' resolution: latencies below 1 µs are recorded as 1 µs (src/util/histogram.ts). */
export const LATENCY_RESOLUTION_MS = 0.001;

/** A latency for tables: formatMs, or "≤ 0.001" where the value is at the histogram's resolution (not a measurement of 1 µs). */
export function formatLatency(ms: number): string {
  return ms > 0 && ms <= LATENCY_RESOLUTION_MS * 1.0005 ? '≤ 0.001' : formatMs(ms);
}

/** Percentile of a point on a 1/(1-p) axis: 1 -> "0%", 2 -> "50%", 100 -> "99%", 1000 -> "99.9%". */
export function formatPercentileTick(x: number): string {
  return `${Number((100 * (1 - 1 / x)).toPrecision(6))}%`;
}
