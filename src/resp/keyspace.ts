// Keyspace notifications (Redis's notify-keyspace-events) for the events a watch reports exactly: a key that
// expired (class x: "expired") and a key evicted by the cluster's bound (class e: "evicted"). Each is published on
// the server's Pub/Sub (./pubsub.ts) as Redis does: `__keyspace@0__:<key>` with the event (K) and
// `__keyevent@0__:<event>` with the key (E). The other classes (g, $, ...: the event of each write command) have no
// counterpart in the watch's put and delete events, so asking for them is refused rather than left silent.
//
// While notifications are on, one `cluster.watch()` of every key feeds them (docs/api.md, "Watch"): every node keeps
// its ring of recent events and the watching node sends each write's event to the coordinator; off, nothing is watched.
import { ClusterError, ErrorCode, type Cluster, type Watch, type WatchEvent } from '../index.js';
import { NO_FLAGS, type KeyspaceFlags } from './keyspace-flags.js';
import type { PubSubRegistry } from './pubsub.js';

/** How long to wait before watching again after an unexpected end (no leader yet, a node restarting). */
const RETRY_MS = 100;

export class KeyspaceNotifier {
  private flags: KeyspaceFlags = NO_FLAGS;
  private stop: AbortController | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly cluster: Cluster, private readonly pubsub: PubSubRegistry) {}

  get current(): KeyspaceFlags {
    return this.flags;
  }

  /** New flags: the watch starts when some event would be published, and stops when none would. */
  set(flags: KeyspaceFlags): void {
    this.flags = flags;
    const wanted = (flags.keyspace || flags.keyevent) && (flags.expired || flags.evicted);
    if (wanted && this.stop === undefined) {
      const stop = new AbortController();
      this.stop = stop;
      this.running = this.watch(stop.signal);
    } else if (!wanted && this.stop !== undefined) {
      this.stop.abort();
      this.stop = undefined;
    }
  }

  /** Stop watching (the server closes); resolves once the watch has ended. */
  async close(): Promise<void> {
    this.stop?.abort();
    this.stop = undefined;
    await this.running;
  }

  private async watch(signal: AbortSignal): Promise<void> {
    let from: number | undefined;
    while (!signal.aborted) {
      let w: Watch | undefined;
      try {
        w = this.cluster.watch({ prefix: Buffer.alloc(0) }, from === undefined ? { signal, bufferSize: 10_000 } : { signal, fromRevision: from, bufferSize: 10_000 });
        for await (const e of w) this.deliver(e);
        return; // ended by the signal, or the cluster stopped
      } catch (err) {
        if (signal.aborted || (err instanceof ClusterError && err.code === ErrorCode.CLUSTER_STOPPED)) return;
        // A slow moment (WATCH_OVERFLOW): resume where it stopped. Events no node keeps any more (WATCH_COMPACTED):
        // they are lost, as a Redis subscriber's messages are while it is away; go on from now.
        const compacted = err instanceof ClusterError && err.code === ErrorCode.WATCH_COMPACTED;
        from = compacted ? undefined : w?.nextRevision;
        if (!(err instanceof ClusterError && err.code === ErrorCode.WATCH_OVERFLOW)) await sleep(RETRY_MS, signal);
      }
    }
  }

  private deliver(e: WatchEvent): void {
    const f = this.flags;
    const event = e.type === 'expire' && f.expired ? 'expired' : e.type === 'evict' && f.evicted ? 'evicted' : undefined;
    if (event === undefined) return;
    const key = typeof e.key === 'string' ? Buffer.from(e.key) : Buffer.from(e.key.buffer, e.key.byteOffset, e.key.byteLength);
    const name = Buffer.from(event);
    if (f.keyspace) this.pubsub.publish(Buffer.concat([KEYSPACE, key]), name, false);
    if (f.keyevent) this.pubsub.publish(Buffer.from(`__keyevent@0__:${event}`), key, false);
  }
}

const KEYSPACE = Buffer.from('__keyspace@0__:');

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
