/**
 * p/q with two decimals as C's printf("%.2f") writes it, p and q being non-negative integers (p below 2^53 / 100):
 * exact, so a half rounds to even as printf's does (1/8: 0.12) where toFixed would round it up.
 */
export function fixed2(p: number, q: number): string {
  let h = Math.floor((100 * p) / q);
  const r2 = 2 * (100 * p - h * q);
  if (r2 > q || (r2 === q && h % 2 === 1)) h++;
  return `${Math.floor(h / 100)}.${String(h % 100).padStart(2, '0')}`;
}
