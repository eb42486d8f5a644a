// watch(): change events of a key or a prefix, as an async iterable (docs/api.md, "Watch").
// Every live node keeps a bounded ring of its recent events while anyone watches (src/node/watch.ts); the
// coordinator holds ONE subscription, to one node (the leader when it subscribes), for the union of what its
// watchers watch, and fans the events out to per-watcher bounded buffers. Every replica applies the same events at
// the same revisions, so when that node goes down the coordinator subscribes to another from the oldest revision a
// watcher still needs; each watcher skips revisions below its own `next`, so none sees a gap or a duplicate.
import { LatencyHistogram, nowMs } from '../util/histogram.js';
import type { NodeId } from '../raft/types.js';
import type { ChangeEvent, Key, Value } from '../storage/command.js';
import { LIMITS } from '../storage/command.js';
import { asBuffer } from '../storage/codec.js';
import type { FromNode, ToNode } from '../node/protocol.js';
import { filterMatches } from '../node/watch.js';
import { ClusterError, ErrorCode, isClusterError } from '../errors.js';
import { positiveInt, type KeyInput } from './validate.js';
import { optionsObject, unknownKey } from './cache-args.js';

export type WatchTarget = { key: KeyInput } | { prefix: KeyInput };

export interface WatchOptions {
  /** The first revision to deliver (a log index); default: after what the serving node has applied. */
  fromRevision?: number;
  /** Ends the watch (cleanly, as `break` does). */
  signal?: AbortSignal;
  /** Events buffered for a slow consumer before the watch ends with WATCH_OVERFLOW (default 1024). */
  bufferSize?: number;
}

export interface WatchEvent<V = Value> {
  type: ChangeEvent['type'];
  /** A string when the watch was given a string (decoded as UTF-8), else a Buffer. */
  key: string | Uint8Array;
  /** The new value (put only), decoded by the cluster's codec (raw: a string if written as a string, else a Buffer). */
  value?: V;
  /** The log index of the entry that applied it; the events of one entry share it and come together. */
  revision: number;
}

export const WATCH_DEFAULTS = {
  bufferSize: 1024,
  maxBufferSize: 1_000_000,
  /** A watcher's buffer also overflows beyond this many bytes of keys and values (one revision always fits an empty buffer). */
  maxBufferBytes: 16 * 1024 * 1024,
  /** Watchers per cluster (then BUSY). */
  maxWatchers: 1024,
  /** The nodes keep their rings this long after the last watcher ended, so it can resume. */
  retainLingerMs: 30_000,
  /** With no node to subscribe to, try again this often. */
  retryMs: 100,
} as const;

/** What the hub needs of the node set. */
export interface WatchNodes {
  leader(): NodeId | undefined;
  alive(): NodeId[];
  post(id: NodeId, msg: ToNode): boolean;
  /** The cluster's value codec. */
  decode(v: Value): unknown;
}

const WATCH_OPTION_KEYS: readonly string[] = ['fromRevision', 'signal', 'bufferSize'];
const WATCH_TARGET_KEYS: readonly string[] = ['key', 'prefix'];

function invalid(message: string): ClusterError {
  return new ClusterError(ErrorCode.INVALID_ARGUMENT, message);
}

/** A watched key or prefix as bytes; a prefix may be empty (every key). */
function targetBytes(target: unknown): { bytes: Key; prefix: boolean; strings: boolean } {
  if (target === null || typeof target !== 'object') throw invalid('watch needs { key } or { prefix }');
  const unknown = unknownKey(target, WATCH_TARGET_KEYS);
  if (unknown !== undefined) throw invalid(`watch target: unknown field ${unknown} (it takes key or prefix)`);
  const t = target as { key?: unknown; prefix?: unknown };
  if ((t.key === undefined) === (t.prefix === undefined)) throw invalid('watch needs exactly one of key and prefix');
  const prefix = t.prefix !== undefined;
  const v = prefix ? t.prefix : t.key;
  let bytes: Uint8Array;
  if (typeof v === 'string') bytes = Buffer.from(v, 'utf8');
  else if (v instanceof Uint8Array) bytes = v.slice();
  else throw invalid(`watch ${prefix ? 'prefix' : 'key'} must be a string or a Uint8Array`);
  if (!prefix && bytes.length === 0) throw invalid('watch key must not be empty');
  if (bytes.length > LIMITS.maxKeyBytes) throw invalid(`watch ${prefix ? 'prefix' : 'key'} is ${bytes.length} bytes; the limit is ${LIMITS.maxKeyBytes}`);
  return { bytes, prefix, strings: typeof v === 'string' };
}

function eventBytes(e: ChangeEvent): number {
  const v = e.value;
  return e.key.length + (v === undefined ? 0 : typeof v === 'string' ? 2 * v.length : v.length);
}

/** One watcher: a filter, the next revision it wants, and its bounded buffer. Iterate it with `for await`. */
export class Watch<V = Value> implements AsyncIterableIterator<WatchEvent<V>> {
  /** The first subscription whose events this watcher may take (one made after it joined). */
  readonly sinceSub: number;
  /** Every event below this revision was buffered (or was not watched); undefined until the start is known. */
  want: number | undefined;
  private buffer: Array<{ e: WatchEvent<V>; bytes: number; at: number }> = [];
  private head = 0;
  private bytes = 0;
  private ended: { error?: ClusterError } | undefined;
  private readonly waiters: Array<{ resolve: (r: IteratorResult<WatchEvent<V>>) => void; reject: (e: Error) => void }> = [];
  private readonly onAbort = (): void => void this.return();

  /** @internal Made by Cluster.watch(): its parameters are the coordinator's. */
  constructor(
    private readonly hub: WatchHub,
    readonly filter: { keys: Key[]; prefixes: Key[] },
    private readonly strings: boolean,
    fromRevision: number | undefined,
    private readonly bufferSize: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.sinceSub = hub.nextSubId;
    this.started = new Promise<number>((resolve, reject) => (this.settleStart = { resolve, reject }));
    this.started.catch(() => undefined); // a watch that ends before it starts need not be awaited
    if (fromRevision !== undefined) this.begin(fromRevision);
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /**
   * Resolves to the first revision this watch delivers once it is known (at once with `fromRevision`; otherwise
   * when the serving node answered: every change applied from then on is delivered). Rejects if the watch ends first.
   */
  readonly started: Promise<number>;
  private settleStart: { resolve: (rev: number) => void; reject: (e: Error) => void } | undefined;

  /** The watch starts at `revision` (the hub learnt where, or the caller said). */
  begin(revision: number): void {
    this.want = revision;
    this.settleStart?.resolve(revision);
    this.settleStart = undefined;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Where to resume to receive everything next() has not returned: after WATCH_OVERFLOW or WATCH_COMPACTED, exactly
   * the first revision not delivered. A revision cut by `break` comes again whole. Undefined until the watch started.
   */
  get nextRevision(): number | undefined {
    return this.head < this.buffer.length ? this.buffer[this.head]!.e.revision : this.want;
  }

  /** Events buffered and not yet returned by next() (at most bufferSize, or one revision's). */
  get buffered(): number {
    return this.buffer.length - this.head;
  }

  next(): Promise<IteratorResult<WatchEvent<V>>> {
    try {
      const r = this.take();
      if (r) return Promise.resolve(r);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** `break` out of `for await`, or cancel: ends now, dropping what is buffered, and releases the subscription. */
  return(): Promise<IteratorResult<WatchEvent<V>>> {
    if (this.head < this.buffer.length) this.want = this.buffer[this.head]!.e.revision;
    this.buffer = [];
    this.head = 0;
    this.bytes = 0;
    this.end(undefined);
    this.ended = {};
    this.wake();
    return Promise.resolve({ value: undefined, done: true });
  }

  /**
   * The events of one revision matching this watcher: buffered together or not at all. A full buffer ends the
   * watcher with WATCH_OVERFLOW (after what it holds is consumed); an empty one always takes a whole revision.
   */
  offer(revision: number, events: readonly ChangeEvent[], at: number): void {
    if (this.ended || this.want === undefined || revision < this.want) return;
    const matched = events.filter((e) => filterMatches(this.filter, e.key));
    if (matched.length > 0) {
      const sizes = matched.map(eventBytes);
      const bytes = sizes.reduce((a, b) => a + b, 0);
      const held = this.buffer.length - this.head;
      if (held > 0 && (held + matched.length > this.bufferSize || this.bytes + bytes > WATCH_DEFAULTS.maxBufferBytes)) {
        const msg = `watch buffer full (${held} events; bufferSize ${this.bufferSize}): the consumer is too slow; resume from revision ${revision}`;
        this.end(new ClusterError(ErrorCode.WATCH_OVERFLOW, msg));
        return;
      }
      let out: WatchEvent<V>[];
      try {
        out = matched.map((e) => this.toPublic(e));
      } catch (err) {
        // A value the codec cannot read (NOT_DECODABLE): this watcher ends at that revision, as a get would fail.
        this.end(isClusterError(err) ? err : new ClusterError(ErrorCode.NOT_DECODABLE, String(err), { cause: err }));
        return;
      }
      out.forEach((e, i) => this.buffer.push({ e, bytes: sizes[i]!, at }));
      this.bytes += bytes;
    }
    this.want = revision + 1;
    this.wake();
  }

  /** Every matching event up to `upTo` was offered. */
  reached(upTo: number): void {
    if (!this.ended && this.want !== undefined && this.want <= upTo) this.want = upTo + 1;
  }

  /** End: buffered events are still delivered, then `error` is thrown once (or the iterator is done). */
  end(error: ClusterError | undefined): void {
    if (this.ended) return;
    this.ended = error ? { error } : {};
    this.settleStart?.reject(error ?? new ClusterError(ErrorCode.CLUSTER_STOPPED, 'the watch ended before it started'));
    this.settleStart = undefined;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.hub.remove(this);
    this.wake();
  }

  private take(): IteratorResult<WatchEvent<V>> | undefined {
    if (this.head < this.buffer.length) {
      const slot = this.buffer[this.head]!;
      this.buffer[this.head++] = undefined as unknown as { e: WatchEvent<V>; bytes: number; at: number };
      this.bytes -= slot.bytes;
      this.hub.delivered(slot.at);
      if (this.head === this.buffer.length) {
        this.buffer = [];
        this.head = 0;
      }
      return { value: slot.e, done: false };
    }
    if (!this.ended) return undefined;
    const error = this.ended.error;
    if (!error) return { value: undefined, done: true };
    this.ended = {}; // thrown once; then done
    throw error;
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      let r: IteratorResult<WatchEvent<V>> | undefined;
      try {
        r = this.take();
      } catch (err) {
        this.waiters.shift()!.reject(err as Error);
        continue;
      }
      if (!r) return;
      this.waiters.shift()!.resolve(r);
    }
  }

  private toPublic(e: ChangeEvent): WatchEvent<V> {
    const key = this.strings ? asBuffer(e.key).toString('utf8') : asBuffer(e.key);
    const out: WatchEvent<V> = { type: e.type, key, revision: e.revision };
    if (e.value !== undefined) out.value = this.hub.decode(e.value) as V;
    return out;
  }
}

interface Subscription {
  id: number;
  node: NodeId;
  from: number | null;
  started: boolean;
  /** Nodes that answered 'compacted' for this `from`, and the oldest revision any of them retains. */
  tried: Set<NodeId>;
  oldest: number;
}

/** The coordinator's side: watchers, the one subscription, and the nodes' retention. */
export class WatchHub {
  /** Watchers of any value type (the codec decoded their values). */
  private readonly watchers = new Set<Watch<any>>();
  private sub: Subscription | undefined;
  nextSubId = 1;
  private retaining = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private resubscribeScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly nodes: WatchNodes) {}

  decode(v: Value): unknown {
    return this.nodes.decode(v);
  }

  /** Events handed to watchers (next() returned them), and how long after their node applied them. */
  private readonly latency = new LatencyHistogram();
  private deliveredCount = 0;

  delivered(at: number): void {
    this.deliveredCount++;
    this.latency.recordMs(nowMs() - at);
  }

  /** For metrics(): watchers now, the node serving them, events delivered, and the apply → delivery latency (ms). */
  stats(): { watchers: number; node: NodeId | undefined; retaining: boolean; delivered: number; deliveryMs: ReturnType<LatencyHistogram['summary']> } {
    return { watchers: this.watchers.size, node: this.sub?.node, retaining: this.retaining, delivered: this.deliveredCount, deliveryMs: this.latency.summary() };
  }

  resetStats(): void {
    this.deliveredCount = 0;
    this.latency.reset();
  }

  watch<V>(target: WatchTarget, options: WatchOptions = {}): Watch<V> {
    if (this.closed) throw new ClusterError(ErrorCode.CLUSTER_STOPPED, 'the cluster was stopped');
    optionsObject('watch', options, WATCH_OPTION_KEYS);
    const t = targetBytes(target);
    const from = options.fromRevision === undefined ? undefined : positiveInt('fromRevision', options.fromRevision, 1, Number.MAX_SAFE_INTEGER);
    const bufferSize = options.bufferSize === undefined ? WATCH_DEFAULTS.bufferSize : positiveInt('bufferSize', options.bufferSize, 1, WATCH_DEFAULTS.maxBufferSize);
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalid('signal must be an AbortSignal');
    if (this.watchers.size >= WATCH_DEFAULTS.maxWatchers) throw new ClusterError(ErrorCode.BUSY, `${this.watchers.size} watchers (the limit); end one first`);
    const filter = t.prefix ? { keys: [], prefixes: [t.bytes] } : { keys: [t.bytes], prefixes: [] };
    const w = new Watch<V>(this, filter, t.strings, from, bufferSize, signal);
    if (signal?.aborted) {
      w.end(undefined);
      return w;
    }
    this.watchers.add(w);
    this.retain(true);
    this.scheduleResubscribe(); // the subscription must carry the new filter (and maybe older revisions)
    return w;
  }

  /** A watcher ended: when none is left, drop the subscription; the nodes keep their rings for a while. */
  remove(w: Watch<any>): void {
    if (!this.watchers.delete(w) || this.watchers.size > 0) return;
    this.unsubscribe();
    if (this.closed) return;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = setTimeout(() => this.retain(false), WATCH_DEFAULTS.retainLingerMs);
    this.lingerTimer.unref();
  }

  onMessage(from: NodeId, msg: Extract<FromNode, { t: 'watch-events' | 'watch-compacted' }>): void {
    const sub = this.sub;
    if (!sub || msg.sub !== sub.id || from !== sub.node) return; // an earlier subscription's, already replaced
    if (msg.t === 'watch-compacted') return this.onCompacted(sub, msg.oldest);
    if (!sub.started) {
      sub.started = true;
      for (const w of this.watchers) if (w.want === undefined && w.sinceSub <= sub.id) w.begin(msg.upTo + 1);
    }
    const targets = [...this.watchers].filter((w) => w.sinceSub <= sub.id);
    const events = msg.events;
    for (let i = 0; i < events.length; ) {
      const revision = events[i]!.revision;
      let j = i;
      while (j < events.length && events[j]!.revision === revision) j++;
      const group = events.slice(i, j);
      for (const w of targets) w.offer(revision, group, msg.at);
      i = j;
    }
    for (const w of targets) w.reached(msg.upTo);
  }

  /** A node (re)started: it keeps a ring too while anyone watches; a hub without a node subscribes now. */
  nodeReady(id: NodeId): void {
    if (this.retaining) this.nodes.post(id, { t: 'watch-retain', on: true });
    if (!this.sub && this.watchers.size > 0) this.scheduleResubscribe();
  }

  /** A new leader: serve from it (a partitioned or lagging node would hold watchers back). */
  leaderChanged(): void {
    const leader = this.nodes.leader();
    if (this.sub && leader !== undefined && this.sub.node !== leader) this.scheduleResubscribe();
  }

  /** The serving node went down (crash, failure): subscribe to another from what the watchers still need. */
  nodeDown(id: NodeId): void {
    if (this.sub?.node !== id) return;
    this.sub = undefined;
    this.scheduleResubscribe();
  }

  /** cluster.stop(): every watcher ends cleanly after what it buffered. */
  close(): void {
    this.closed = true;
    clearTimeout(this.lingerTimer);
    clearTimeout(this.retryTimer);
    for (const w of [...this.watchers]) w.end(undefined);
    this.sub = undefined;
  }


  private retain(on: boolean): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (on === this.retaining) return;
    this.retaining = on;
    for (const id of this.nodes.alive()) this.nodes.post(id, { t: 'watch-retain', on });
  }

  private scheduleResubscribe(): void {
    if (this.resubscribeScheduled) return;
    this.resubscribeScheduled = true;
    queueMicrotask(() => {
      this.resubscribeScheduled = false;
      this.resubscribe(new Set(), Number.MAX_SAFE_INTEGER);
    });
  }

  /** The oldest revision a watcher still needs (null: only new watchers, who start after what the node applied). */
  private neededFrom(): number | null {
    let from: number | null = null;
    for (const w of this.watchers) if (w.want !== undefined && (from === null || w.want < from)) from = w.want;
    return from;
  }

  /** Subscribe to the leader if it is live and not in `tried`, else to another live node; none: try again soon. */
  private resubscribe(tried: Set<NodeId>, oldest: number): void {
    this.unsubscribe();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.closed || this.watchers.size === 0) return;
    const leader = this.nodes.leader();
    const candidates = this.nodes.alive().filter((id) => !tried.has(id));
    if (leader !== undefined && candidates.includes(leader)) candidates.unshift(leader);
    const from = this.neededFrom();
    const filter = this.unionFilter();
    for (const node of candidates) {
      const sub: Subscription = { id: this.nextSubId++, node, from, started: false, tried, oldest };
      if (!this.nodes.post(node, { t: 'watch-sub', sub: sub.id, from, keys: filter.keys, prefixes: filter.prefixes })) continue;
      this.sub = sub;
      return;
    }
    this.retryTimer = setTimeout(() => this.scheduleResubscribe(), WATCH_DEFAULTS.retryMs);
    this.retryTimer.unref();
  }

  /**
   * The node no longer holds `from`. Another live node may (a follower that installed a snapshot loses its ring,
   * the others keep theirs): try each; when none does, the watchers that need what is gone end with
   * WATCH_COMPACTED and the rest go on.
   */
  private onCompacted(sub: Subscription, oldest: number): void {
    const tried = new Set(sub.tried).add(sub.node);
    const least = Math.min(sub.oldest, oldest);
    if (this.nodes.alive().some((id) => !tried.has(id))) return this.resubscribe(tried, least);
    for (const w of [...this.watchers]) {
      if (w.want !== undefined && w.want < least) {
        w.end(new ClusterError(ErrorCode.WATCH_COMPACTED, `revision ${w.want} is compacted: the nodes retain events from revision ${least}`));
      }
    }
    this.resubscribe(new Set(), Number.MAX_SAFE_INTEGER);
  }

  private unsubscribe(): void {
    const sub = this.sub;
    if (!sub) return;
    this.sub = undefined;
    this.nodes.post(sub.node, { t: 'watch-unsub', sub: sub.id });
  }

  /** The keys and prefixes of every watcher, each once. */
  private unionFilter(): { keys: Key[]; prefixes: Key[] } {
    const keys = new Map<string, Key>();
    const prefixes = new Map<string, Key>();
    for (const w of this.watchers) {
      for (const k of w.filter.keys) keys.set(asBuffer(k).toString('latin1'), k);
      for (const p of w.filter.prefixes) prefixes.set(asBuffer(p).toString('latin1'), p);
    }
    return { keys: [...keys.values()], prefixes: [...prefixes.values()] };
  }
}
