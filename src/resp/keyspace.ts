// Keyspace notifications (Redis's notify-keyspace-events), published on the server's Pub/Sub (./pubsub.ts) as Redis
// does: `__keyspace@0__:<key>` with the event (K) and `__keyevent@0__:<event>` with the key (E).
//
// - The events of write commands (classes g and $: "set", "del", "expire", "incrby", "rename_from", ...) come from
//   the commands this server runs, as on Redis: each write plan's ops and their results say what it did
//   (opEvents, below), and they are published when its reply is, in the connection's order.
// - Key misses (class m, "keymiss"): the keys read commands look up as Redis's lookupKeyRead does, found or not
//   (looked, which counts INFO's keyspace_hits and keyspace_misses too), when the read is answered. A write made through
//   the Cluster API directly runs no Redis command and publishes none (a watch sees it: docs/api.md, "Watch").
// - "expired" (x) and "evicted" (e) happen in apply, on every replica, whoever wrote the key: one
//   `cluster.watch()` of every key feeds them while they are asked for (docs/api.md, "Watch"): every node keeps its
//   ring of recent events and the watching node sends each write's event to the coordinator; off, nothing is watched.
import { ClusterError, ErrorCode, type Cluster, type Watch, type WatchEvent } from '../index.js';
import { NO_FLAGS, NOTIFY, type KeyspaceFlags } from './keyspace-flags.js';
import type { ServerStats } from './context.js';
import type { RespOp, RespOpResult } from './plan.js';
import type { PubSubRegistry } from './pubsub.js';
import type { TrackingTable } from './tracking.js';
import { keyBytes } from './args.js';

/** How long to wait before watching again after an unexpected end (no leader yet, a node restarting). */
const RETRY_MS = 100;

/** One keyspace event: its class (NOTIFY.generic or NOTIFY.string), its name and its key. */
export type KeyEvent = [cls: number, event: string, key: Buffer];

export class KeyspaceNotifier {
  private flags: KeyspaceFlags = NO_FLAGS;
  private stop: AbortController | undefined;
  private running: Promise<void> | undefined;

  /** Client-side caching (./tracking.ts): told of every key a write changes, and of expired and evicted keys. */
  tracking: TrackingTable | undefined;

  constructor(private readonly cluster: Cluster, private readonly pubsub: PubSubRegistry, private readonly stats: ServerStats) {}

  get current(): KeyspaceFlags {
    return this.flags;
  }

  /** New flags: the watch starts when some event would be published (or a connection tracks keys), and stops when none would. */
  set(flags: KeyspaceFlags): void {
    this.flags = flags;
    this.refresh();
  }

  /** Start or stop the watch as what is asked for now needs it. */
  refresh(): void {
    const wanted = this.publishes(NOTIFY.expired | NOTIFY.evicted) || this.tracking?.active === true;
    if (wanted && this.stop === undefined) {
      const stop = new AbortController();
      this.stop = stop;
      this.running = this.watch(stop.signal);
    } else if (!wanted && this.stop !== undefined) {
      this.stop.abort();
      this.stop = undefined;
    }
  }

  /** Whether events of any of the classes `cls` are published (some class asked for, and K or E). */
  publishes(cls: number): boolean {
    return (this.flags & cls) !== 0 && (this.flags & (NOTIFY.keyspace | NOTIFY.keyevent)) !== 0;
  }

  /**
   * A key read as Redis's lookupKeyRead reads it: a keyspace hit (INFO's keyspace_hits), or a miss and its
   * "keymiss" event (class m; none unless `notify`: OBJECT's LOOKUP_NONOTIFY). Called when the read's reply is given,
   * in the connection's order.
   */
  looked(key: Buffer, found: boolean, notify = true): void {
    if (found) this.stats.keyspaceHits++;
    else {
      this.stats.keyspaceMisses++;
      if (notify && this.publishes(NOTIFY.keymiss)) this.send('keymiss', key);
    }
  }

  /**
   * What a write plan's ops did, given their results, in their order: the reads among them as lookups (looked), and
   * the events of classes g and $ (opEvents), and a clear (FLUSHDB inside MULTI) to client-side caching. Nothing
   * when a check failed (EXEC whose WATCH found a change: nothing applied).
   */
  written(ops: readonly RespOp[], results: readonly RespOpResult[], by: number | undefined): void {
    if (ops.some((op, i) => op.type === 'check' && results[i]?.ok !== true)) return;
    const publishing = this.listening;
    // A command that replies what it read (SET ... GET, GETSET, GETDEL, GETEX) replies before it writes, on Redis.
    const readFirst = ops[0]?.type === 'get';
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const r = results[i];
      // Redis reads these with lookupKeyRead: GET's of SET ... GET, GETSET, GETDEL and GETEX, TTL inside MULTI, COPY's
      // source, BITOP's sources, PFMERGE's keys (its destination the first).
      if (op.type === 'get' || op.type === 'ttl') this.looked(op.key, r?.ok === true);
      else if (op.type === 'copy') this.looked(op.key, r?.existed === true);
      else if (op.type === 'bitop') op.keys.forEach((k, j) => this.looked(k, r?.absent?.includes(j) !== true));
      else if (op.type === 'pfmerge') [op.key, ...op.keys].slice(0, r?.n ?? 0).forEach((k, j) => this.looked(k, r?.absent?.includes(j) !== true));
      else if (op.type === 'clear') this.tracking?.flush(by);
      if (publishing && r?.ok === true) {
        const events = opEvents(op, r);
        // MSETNX signals and notifies key by key, as MSET's puts do.
        if (op.type === 'msetnx') for (const e of events ?? []) this.publish([e], by);
        else if (events !== undefined) this.publish(events, by, readFirst || replyFirst(op, r));
      }
    }
    this.tracking?.sendPending();
  }

  /**
   * Publish a command's events, those of the classes asked for; each key they name changed. As Redis's commands
   * signal their keys (client-side caching's messages) before they notify: every key of `events`, then the events
   * (RENAME: both keys, then rename_from and rename_to). `late`: Redis's command replies before it signals them, so
   * the connection `by` gets them after its reply. The keys `by` tracks itself are told when the command is done
   * (TrackingTable.sendPending).
   */
  publish(events: readonly KeyEvent[], by: number | undefined, late = false): void {
    if (this.tracking?.listening === true) for (const [, , key] of events) this.tracking.invalidate(key, by, true, late);
    for (const [cls, event, key] of events) if (this.flags & cls) this.send(event, key, late ? by : undefined);
  }

  /** What the write plans of a command publish: anything (a keyspace event asked for, or a connection tracking keys). */
  get listening(): boolean {
    return this.publishes(NOTIFY.generic | NOTIFY.string) || this.tracking?.listening === true;
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
        // they are lost, as a Redis subscriber's messages are while it is away; go on from now. A key that expired
        // or was evicted meanwhile may be one a client caches: client-side caching tells every tracking connection
        // that everything changed (./tracking.ts).
        const compacted = err instanceof ClusterError && err.code === ErrorCode.WATCH_COMPACTED;
        if (compacted && this.tracking?.listening === true) this.tracking.flush(undefined);
        from = compacted ? undefined : w?.nextRevision;
        if (!(err instanceof ClusterError && err.code === ErrorCode.WATCH_OVERFLOW)) await sleep(RETRY_MS, signal);
      }
    }
  }

  /** An expiry or eviction: its event, then client-side caching's message, in Redis's order (notify, then signal). */
  private deliver(e: WatchEvent): void {
    if (e.type !== 'expire' && e.type !== 'evict') return;
    const key = keyBytes(e.key);
    const event = e.type === 'expire' && this.flags & NOTIFY.expired ? 'expired' : e.type === 'evict' && this.flags & NOTIFY.evicted ? 'evicted' : undefined;
    if (event !== undefined) this.send(event, key);
    if (this.tracking?.listening === true) this.tracking.invalidate(key, undefined);
  }

  private send(event: string, key: Buffer, afterReplyOf?: number): void {
    if (this.flags & NOTIFY.keyspace) this.pubsub.publish(Buffer.concat([KEYSPACE, key]), Buffer.from(event), false, afterReplyOf);
    if (this.flags & NOTIFY.keyevent) this.pubsub.publish(Buffer.from(`__keyevent@0__:${event}`), key, false, afterReplyOf);
  }
}

const KEYSPACE = Buffer.from('__keyspace@0__:');

/**
 * Whether Redis's command for `op` replies before it signals the change (EXPIRE and friends setting a time, BITFIELD,
 * whose replies are written as it runs): its events then come after the reply on the connection that sent it.
 */
function replyFirst(op: RespOp, r: RespOpResult): boolean {
  return (op.type === 'expire' && r.deleted !== true) || op.type === 'bitfield';
}

const G = NOTIFY.generic;
const S = NOTIFY.string;

/**
 * The events Redis 7.0 publishes for what an op that wrote did (its commands' notifyKeyspaceEvent calls); undefined
 * for none. A put is "set" (and "expire" with an expiry, even one already past, as Redis's SET EXAT; RESTORE says
 * "restore": its plan lists its own events); an expire that deleted the key is "del".
 */
function opEvents(op: RespOp, r: RespOpResult): KeyEvent[] | undefined {
  switch (op.type) {
    case 'put':
      return op.ttlMs !== undefined || op.atMs !== undefined ? [[S, 'set', op.key], [G, 'expire', op.key]] : [[S, 'set', op.key]];
    case 'delete':
      return r.existed === true ? [[G, 'del', op.key]] : undefined;
    case 'expire':
      return [[G, r.deleted === true ? 'del' : 'expire', op.key]];
    case 'persist':
      return [[G, 'persist', op.key]];
    case 'incr':
      return [[S, 'incrby', op.key]];
    case 'incrbyfloat':
      return [[S, 'incrbyfloat', op.key]];
    case 'append':
      return [[S, 'append', op.key]];
    case 'setrange':
      return op.value.length > 0 ? [[S, 'setrange', op.key]] : undefined;
    case 'setbit':
    case 'bitfield':
      return r.changed === true ? [[S, 'setbit', op.key]] : undefined;
    case 'pfadd':
      return r.changed === true ? [[S, 'pfadd', op.key]] : undefined;
    case 'pfmerge':
      return [[S, 'pfadd', op.key]]; // Redis's PFMERGE says "pfadd" too
    case 'pftodense':
      return undefined; // Redis's PFDEBUG notifies nothing (nor signals the key: client-side caching keeps the value it had)
    case 'bitop':
      return (r.n ?? 0) > 0 ? [[S, 'set', op.key]] : r.deleted === true ? [[G, 'del', op.key]] : undefined;
    case 'rename':
      return op.key.equals(op.to) ? undefined : [[G, 'rename_from', op.key], [G, 'rename_to', op.to]];
    case 'copy':
      return [[G, 'copy_to', op.to]];
    case 'msetnx':
      return op.entries.map(([key]): KeyEvent => [S, 'set', key]);
    case 'get':
    case 'ttl':
    case 'check':
    case 'size':
    case 'clear': // Redis 7.0's FLUSHDB publishes nothing
      return undefined;
  }
}

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
