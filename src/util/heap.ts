// A binary min-heap ordered by `before` (ties keep no particular order: give `before` a tie-breaker when the
// order must be deterministic).
export class MinHeap<T> {
  protected items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (top !== undefined && last !== undefined && this.items.length > 0) {
      this.items[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Every item, in no particular order. */
  all(): readonly T[] {
    return this.items;
  }

  /** Keep only the items `keep` accepts (a rebuild: O(n)). */
  retain(keep: (item: T) => boolean): void {
    this.items = this.items.filter(keep);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  clear(): void {
    this.items = [];
  }

  private up(i: number): void {
    const n = this.items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(n[i]!, n[p]!)) break;
      [n[i], n[p]] = [n[p]!, n[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n.length && this.before(n[l]!, n[m]!)) m = l;
      if (r < n.length && this.before(n[r]!, n[m]!)) m = r;
      if (m === i) return;
      [n[i], n[m]] = [n[m]!, n[i]!];
      i = m;
    }
  }
}
