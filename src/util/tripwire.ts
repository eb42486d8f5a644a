// A rejection to come (a node going down, the cluster stopping) that calls in flight race against.
//
// `Promise.race([call, longLived])` against a promise that stays pending for the life of a node leaks: each race adds
// a reaction to the long-lived promise, and the reaction holds the race's promise, settled with the call's result,
// until the long-lived one settles. INFO asked every node's metrics() through such a race, so every INFO kept its
// histograms (megabytes over thousands of calls). Here a call in flight is registered only until it settles.

export class Tripwire {
  private readonly pending = new Set<(err: Error) => void>();
  private tripped: Error | undefined;

  /** Every call in flight rejects with `err`, and so does every later one. Only the first trip counts. */
  trip(err: Error): void {
    if (this.tripped !== undefined) return;
    this.tripped = err;
    for (const reject of this.pending) reject(err);
    this.pending.clear();
  }

  /** `p`, or the trip's error if it comes first. */
  race<T>(p: Promise<T>): Promise<T> {
    if (this.tripped !== undefined) return Promise.reject(this.tripped);
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      p.then(
        (v) => {
          this.pending.delete(reject);
          resolve(v);
        },
        (e: unknown) => {
          this.pending.delete(reject);
          reject(e);
        },
      );
    });
  }

  /** Calls in flight (for a test that none is kept after it settled). */
  get size(): number {
    return this.pending.size;
  }
}
