// The in-memory store's expiry index: a binary min-heap of (expiresAt, key) with lazy deletion. A record points
// at its node; a node whose record was rewritten or removed is stale and skipped when it surfaces. The owner
// rebuilds the heap when stale nodes outnumber live ones, so memory stays bounded under TTL churn.

import { MinHeap } from '../util/heap.js';

export interface ExpiryNode {
  readonly at: number;
  /** The key as a latin1 string (one char per byte): string order is byte order. */
  readonly key: string;
}

function before(a: ExpiryNode, b: ExpiryNode): boolean {
  return a.at < b.at || (a.at === b.at && a.key < b.key);
}

/** The heap of (expiresAt, key) nodes; push returns the node, which the record keeps to tell live from stale. */
export class ExpiryHeap extends MinHeap<ExpiryNode> {
  constructor() {
    super(before);
  }

  pushAt(at: number, key: string): ExpiryNode {
    const node = { at, key };
    this.push(node);
    return node;
  }
}
