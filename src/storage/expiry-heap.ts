// The in-memory store's expiry index: a binary min-heap of (expiresAt, key) with lazy deletion. A record points
// at its node; a node whose record was rewritten or removed is stale and skipped when it surfaces. The owner
// rebuilds the heap when stale nodes outnumber live ones, so memory stays bounded under TTL churn.

export interface ExpiryNode {
  readonly at: number;
  /** The key as a latin1 string (one char per byte): string order is byte order. */
  readonly key: string;
}

function before(a: ExpiryNode, b: ExpiryNode): boolean {
  return a.at < b.at || (a.at === b.at && a.key < b.key);
}

export class ExpiryHeap {
  private nodes: ExpiryNode[] = [];

  get size(): number {
    return this.nodes.length;
  }

  push(at: number, key: string): ExpiryNode {
    const node = { at, key };
    this.nodes.push(node);
    this.up(this.nodes.length - 1);
    return node;
  }

  peek(): ExpiryNode | undefined {
    return this.nodes[0];
  }

  pop(): ExpiryNode | undefined {
    const top = this.nodes[0];
    const last = this.nodes.pop();
    if (top !== undefined && last !== undefined && this.nodes.length > 0) {
      this.nodes[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Every node, in no particular order. */
  all(): readonly ExpiryNode[] {
    return this.nodes;
  }

  /** Keep only the nodes `live` accepts (a rebuild: O(n)). */
  retain(live: (n: ExpiryNode) => boolean): void {
    this.nodes = this.nodes.filter(live);
    for (let i = (this.nodes.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  clear(): void {
    this.nodes = [];
  }

  private up(i: number): void {
    const n = this.nodes;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(n[i]!, n[p]!)) break;
      [n[i], n[p]] = [n[p]!, n[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.nodes;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n.length && before(n[l]!, n[m]!)) m = l;
      if (r < n.length && before(n[r]!, n[m]!)) m = r;
      if (m === i) return;
      [n[i], n[m]] = [n[m]!, n[i]!];
      i = m;
    }
  }
}
