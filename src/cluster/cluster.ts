// The coordinator: the public client API on the main thread. Writes from every caller are gathered
// into one proposal (one raft entry) per event-loop turn; reads share one ReadIndex round per turn.
// Every write carries (client, seq) so that retries after a leader change apply exactly once.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeId } from '../raft/types.js';
import type { Command, Op, OpResult, Value } from '../storage/command.js';
import type { FromNode } from '../node/protocol.js';
import { decodeApplied, type DecodedApplied } from '../node/applied.js';
import { ClusterError, ErrorCode } from '../errors.js';
import { nowMs, type LatencySummaryMs } from '../util/histogram.js';
import { LatencyHistogram } from '../util/histogram.js';
import { NodeSet } from './nodes.js';
import { packCopy } from '../util/pack.js';
import { checkNodeFolders, nodeOptions, prepareDir, resolveOptions, type ClusterOptions, type ResolvedOptions } from './options.js';
import { acquireClusterLock, type DirLock } from '../storage/lock.js';
import { DATA_FILE } from '../storage/lmdb.js';
import { isStorageError, StorageErrorCode } from '../storage/errors.js';
import { SESSION_WINDOW } from '../storage/apply.js';
import { checkKey, toKey, toValue, valueBytes, oneOf, positiveInt, type KeyInput } from './validate.js';
import { WriteProfile, type Stage } from './profile.js';
import { openStateReader, type StateReader } from './reader.js';
import { WatchHub, type Watch, type WatchOptions, type WatchTarget } from './watch.js';

export type Consistency = 'linearizable' | 'lease' | 'stale';

export interface GetOptions {
  /** Default 'linearizable' (ReadIndex through the leader). 'lease': the leader's lease, no round trip. 'stale': a node's state machine as it is. */
  consistency?: Consistency;
  /** For 'stale' reads: the node to read from (default: the leader if known, else any live node). */
  node?: NodeId;
}

export type BatchOp =
  | { type: 'put'; key: KeyInput; value: Value }
  | { type: 'delete'; key: KeyInput }
  | { type: 'cas'; key: KeyInput; expected: Value | null; value: Value | null };

export interface CasResult {
  /** Whether the value matched `expected` and was replaced. */
  ok: boolean;
  /** The value found when it did not match (null: absent). */
  current: Value | null;
}

export interface BatchResult {
  /** False when a cas in the batch did not match: then no operation of the batch was applied. */
  ok: boolean;
  results: OpResult[];
}

export interface NodeStatus {
  id: NodeId;
  alive: boolean;
  role: string;
  term: number;
  leader: NodeId;
  commit?: number;
  applied?: number;
  lastIndex?: number;
  snapshotIndex?: number;
  error?: string;
}

export interface CoordinatorCounters {
  writes: number;
  reads: number;
  batchesSent: number;
  readRoundsSent: number;
  retries: number;
  timeouts: number;
  busy: number;
  leaderChanges: number;
}

interface PendingWrite {
  seq: number;
  ops: Op[];
  bytes: number;
  resolve: (r: OpResult[]) => void;
  reject: (e: Error) => void;
  enqueuedAt: number;
  deadline: number;
  queued: boolean;
  batchId: number;
  sentAt: number;
  sentTo: NodeId;
}

interface PendingRead {
  keys: Uint8Array[];
  mode: 'linearizable' | 'lease';
  resolve: (v: (Value | undefined)[]) => void;
  reject: (e: Error) => void;
  deadline: number;
  queued: boolean;
  sentAt: number;
}

interface SentGroup<T> {
  node: NodeId;
  items: T[];
  sentAt: number;
}

const SWEEP_MS = 50;

/** Exactly once (SESSION_WINDOW): a write is sent only while its seq is within the window above the floor. */
export function inSessionWindow(seq: number, floor: number): boolean {
  return seq < floor + SESSION_WINDOW;
}

/**
 * start(): the cluster lock's DIR_LOCKED, and a node store's MEMBERSHIP_MISMATCH (reported as STORAGE from
 * its thread), as the stable codes users can act on. (A node store's own lock held by another process
 * stays STORAGE: the cluster lock reports a directory in use first.)
 */
function startError(err: unknown): unknown {
  if (isStorageError(err, StorageErrorCode.DIR_LOCKED)) return new ClusterError(ErrorCode.DIR_LOCKED, err.message, { cause: err });
  const code = err instanceof ClusterError ? (err.cause as { code?: unknown } | undefined)?.code : undefined;
  if (code !== ErrorCode.MEMBERSHIP_MISMATCH) return err;
  return new ClusterError(code, (err as Error).message, { cause: err });
}

export class Cluster {
  private readonly nodes: NodeSet;
  private readonly clientId = (Math.random() * 0xffffffff) >>> 0 || 1;
  private nextSeq = 1;
  private nextBatchId = 1;
  private nextReadId = 1;
  private readonly pending = new Map<number, PendingWrite>(); // unresolved writes, ascending seq
  private sendQueue: PendingWrite[] = [];
  private readonly batches = new Map<number, SentGroup<PendingWrite>>();
  private readQueue: PendingRead[] = [];
  private readonly readGroups = new Map<number, SentGroup<PendingRead> & { mode: 'linearizable' | 'lease' }>();
  private flushScheduled = false;
  private stopped = false;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly readers = new Map<NodeId, StateReader>();
  private readonly retryAfterMs: number;
  /** LMDB: this cluster's hold on `dir` against other clusters (released by stop()). */
  private dirLock: DirLock | undefined;
  readonly profile = new WriteProfile();
  private readonly readLatency = new LatencyHistogram();
  private readonly watches: WatchHub;
  readonly counters: CoordinatorCounters = { writes: 0, reads: 0, batchesSent: 0, readRoundsSent: 0, retries: 0, timeouts: 0, busy: 0, leaderChanges: 0 };

  private constructor(
    private readonly opts: ResolvedOptions,
    readonly dir: string,
    private readonly ownDir: boolean,
  ) {
    this.nodes = new NodeSet({
      message: (id, msg) => this.onNodeMessage(id, msg),
      down: (id) => {
        this.scheduleFlush();
        this.watches.nodeDown(id);
      },
      leaderChanged: () => {
        this.onLeaderChanged();
        this.watches.leaderChanged();
      },
    });
    this.watches = new WatchHub({
      leader: () => this.nodes.leader,
      alive: () => this.nodes.alive().filter((h) => h.worker !== undefined).map((h) => h.id), // not one being crashed
      post: (id, msg) => this.nodes.post(id, msg),
    });
    const t = opts.timing;
    this.retryAfterMs = 2 * t.electionTimeoutMaxTicks * t.tickMs;
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** Start a cluster: one worker thread per node, each with its own storage; resolves once a leader is elected. */
  static async start(options?: ClusterOptions): Promise<Cluster> {
    const o = resolveOptions(options);
    const ownDir = o.dir === undefined;
    const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'threadraft-'));
    const dirLock = o.storage === 'lmdb' ? Cluster.holdDir(dir, o.nodes, ownDir) : undefined;
    const cluster = new Cluster(o, dir, ownDir);
    cluster.dirLock = dirLock;
    try {
      const voters = Array.from({ length: o.nodes }, (_, i) => i + 1);
      const all = voters.map((id) => {
        const nodeDir = join(dir, `node-${id}`);
        if (o.storage === 'lmdb') mkdirSync(nodeDir, { recursive: true });
        return nodeOptions(o, id, voters, nodeDir);
      });
      await cluster.nodes.startAll(all);
      await cluster.waitForLeader(o.startTimeoutMs);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw startError(err);
    }
  }

  /** LMDB: check `dir` before anything is created in it, hold it against other clusters, check its node folders against `nodes`. */
  private static holdDir(dir: string, nodes: number, ownDir: boolean): DirLock {
    if (!ownDir) prepareDir(dir);
    let lock: DirLock;
    try {
      lock = acquireClusterLock(dir);
    } catch (err) {
      throw startError(err);
    }
    try {
      checkNodeFolders(dir, nodes, DATA_FILE);
    } catch (err) {
      lock.release();
      throw err;
    }
    return lock;
  }

  // ───────────────────────────── writes ─────────────────────────────

  /** Write `value` under `key`. Resolves once the write is committed by a majority and applied on the leader. */
  async put(key: KeyInput, value: Value): Promise<void> {
    this.checkOpen();
    const op: Op = { t: 'put', key: toKey(key), value: toValue(value, this.opts.maxValueBytes, false) };
    await this.submit([op]);
  }

  /** Delete `key`. Resolves to whether it existed. */
  async delete(key: KeyInput): Promise<boolean> {
    this.checkOpen();
    const [r] = await this.submit([{ t: 'del', key: toKey(key) }]);
    return r?.existed === true;
  }

  /** Compare-and-set: replace the value of `key` with `value` (null: delete) if it is `expected` (null: absent). */
  async cas(key: KeyInput, expected: Value | null, value: Value | null): Promise<CasResult> {
    this.checkOpen();
    const max = this.opts.maxValueBytes;
    const op: Op = { t: 'cas', key: toKey(key), expected: toValue(expected, max, true), value: toValue(value, max, true) };
    const [r] = await this.submit([op]);
    return { ok: r?.ok === true, current: r?.ok ? (op.value ?? null) : (r?.current ?? null) };
  }

  /** Many operations as one atomic unit: all apply, or (when a cas does not match) none does. */
  async batch(ops: BatchOp[]): Promise<BatchResult> {
    this.checkOpen();
    if (!Array.isArray(ops) || ops.length === 0) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch needs a non-empty array of operations');
    positiveInt('batch length', ops.length, 1, this.opts.maxBatchOps);
    const max = this.opts.maxValueBytes;
    const converted = ops.map((o): Op => {
      if (o === null || typeof o !== 'object') throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'batch operations must be objects');
      const type = oneOf('batch op type', (o as { type?: unknown }).type, ['put', 'delete', 'cas'] as const);
      if (type === 'put') return { t: 'put', key: toKey(o.key), value: toValue((o as { value: unknown }).value, max, false) };
      if (type === 'delete') return { t: 'del', key: toKey(o.key) };
      const c = o as { expected: unknown; value: unknown };
      return { t: 'cas', key: toKey(o.key), expected: toValue(c.expected, max, true), value: toValue(c.value, max, true) };
    });
    const results = await this.submit(converted);
    return { ok: results.every((r) => r.ok), results };
  }

  private submit(ops: Op[]): Promise<OpResult[]> {
    const size = (exact: boolean): number => {
      let bytes = 16;
      for (const op of ops) {
        bytes += ('key' in op ? op.key.length : 0) + 8;
        if (op.t === 'put') bytes += valueBytes(op.value, exact);
        else if (op.t === 'cas') bytes += valueBytes(op.expected, exact) + valueBytes(op.value, exact);
      }
      return bytes;
    };
    let bytes = size(false);
    if (bytes > this.opts.maxBatchBytes) bytes = size(true); // strings were estimated at 3 bytes per UTF-16 unit
    if (bytes > this.opts.maxBatchBytes) {
      return Promise.reject(new ClusterError(ErrorCode.INVALID_ARGUMENT, `operation is ${bytes} bytes; maxBatchBytes is ${this.opts.maxBatchBytes}`));
    }
    if (this.pending.size + this.readQueue.length >= this.opts.maxPendingOps) {
      this.counters.busy++;
      return Promise.reject(new ClusterError(ErrorCode.BUSY, `${this.pending.size} operations pending (maxPendingOps ${this.opts.maxPendingOps}); retry later`));
    }
    this.counters.writes++;
    return new Promise<OpResult[]>((resolve, reject) => {
      const now = nowMs();
      const w: PendingWrite = {
        seq: this.nextSeq++, ops, bytes, resolve, reject, enqueuedAt: now, deadline: now + this.opts.requestTimeoutMs,
        queued: true, batchId: 0, sentAt: 0, sentTo: 0,
      };
      this.pending.set(w.seq, w);
      this.sendQueue.push(w);
      this.scheduleFlush();
    });
  }

  // ───────────────────────────── reads ─────────────────────────────

  /**
   * Read `key`. Resolves to the value (a string if a string was written, a Uint8Array (Buffer) if bytes
   * were written) or undefined when absent.
   */
  async get(key: KeyInput, options: GetOptions = {}): Promise<Value | undefined> {
    this.checkOpen();
    if (options === null || typeof options !== 'object') throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'get options must be an object');
    const consistency = options.consistency === undefined ? 'linearizable' : oneOf('consistency', options.consistency, ['linearizable', 'lease', 'stale'] as const);
    if (options.node !== undefined && consistency !== 'stale') {
      throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `get: node applies to consistency 'stale' only (a ${consistency} read goes through the leader)`);
    }
    this.counters.reads++;
    if (consistency === 'stale') return this.staleRead(checkKey(key), options.node);
    const [v] = await this.queueRead([toKey(key)], consistency);
    return v;
  }

  /** A string key goes as is to an LMDB reader (which writes it into LMDB's key buffer); memory storage needs bytes. */
  private staleRead(key: string | Uint8Array, node: NodeId | undefined): Value | undefined | Promise<Value | undefined> {
    const id = this.staleNode(node);
    const reader = this.reader(id);
    if (reader) return reader.get(key);
    return this.queueRead([typeof key === 'string' ? toKey(key) : key], 'stale', id).then((v) => v[0]);
  }

  private staleNode(node: NodeId | undefined): NodeId {
    const id = node ?? this.nodes.leader ?? this.nodes.alive()[0]?.id;
    if (id === undefined) throw new ClusterError(ErrorCode.NO_QUORUM, 'no live node to read from');
    const h = this.nodes.get(id);
    if (!h.alive) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${id} is down`);
    return id;
  }

  /**
   * A stale read, synchronously: `key` as node `node` (default: the leader) has applied it, read from its
   * LMDB environment on this thread with no round trip and no promise. For the in-process cache use; LMDB
   * storage only (memory storage lives in the node threads: use get(key, { consistency: 'stale' })).
   */
  peek(key: KeyInput, node?: NodeId): Value | undefined {
    this.checkOpen();
    const k = checkKey(key);
    if (this.opts.storage !== 'lmdb') throw new ClusterError(ErrorCode.INVALID_ARGUMENT, "peek() needs storage 'lmdb'; use get(key, { consistency: 'stale' })");
    this.counters.reads++;
    return this.reader(this.staleNode(node))!.get(k);
  }

  private reader(id: NodeId): StateReader | undefined {
    if (this.opts.storage !== 'lmdb') return undefined;
    let r = this.readers.get(id);
    if (!r) {
      r = openStateReader(this.nodes.get(id).options.dir);
      this.readers.set(id, r);
    }
    return r;
  }

  private queueRead(keys: Uint8Array[], mode: 'linearizable' | 'lease' | 'stale', node?: NodeId): Promise<(Value | undefined)[]> {
    if (this.pending.size + this.readQueue.length >= this.opts.maxPendingOps) {
      this.counters.busy++;
      return Promise.reject(new ClusterError(ErrorCode.BUSY, 'too many operations pending; retry later'));
    }
    return new Promise((resolve, reject) => {
      const now = nowMs();
      if (mode === 'stale') {
        // Memory storage: only the node's thread can read its state machine.
        const id = this.nextReadId++;
        const r: PendingRead = { keys, mode: 'linearizable', resolve, reject, deadline: now + this.opts.requestTimeoutMs, queued: false, sentAt: now };
        this.readGroups.set(id, { node: node!, items: [r], sentAt: now, mode: 'linearizable' });
        this.nodes.post(node!, { t: 'read', id, mode: 'stale', keys });
        return;
      }
      this.readQueue.push({ keys, mode, resolve, reject, deadline: now + this.opts.requestTimeoutMs, queued: true, sentAt: 0 });
      this.scheduleFlush();
    });
  }

  // ───────────────────────────── watch ─────────────────────────────

  /** Change events of a key or a prefix, as an async iterable (docs/api.md, "Watch"). */
  watch(target: WatchTarget, options?: WatchOptions): Watch {
    this.checkOpen();
    return this.watches.watch(target, options);
  }

  // ───────────────────────────── the flush: one message per leader per turn ─────────────────────────────

  private scheduleFlush(): void {
    if (this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.stopped) return;
    const leader = this.nodes.leader;
    if (leader === undefined) return; // writes wait for a leader (or their deadline)
    this.flushWrites(leader);
    this.flushReads(leader);
  }

  private flushWrites(leader: NodeId): void {
    const floor = this.floor();
    // Writes beyond the session window wait (their deadline runs) until the floor advances.
    const queue = this.sendQueue.filter((w) => inSessionWindow(w.seq, floor));
    if (queue.length === 0) return;
    this.sendQueue = queue.length === this.sendQueue.length ? [] : this.sendQueue.filter((w) => !inSessionWindow(w.seq, floor));
    let i = 0;
    while (i < queue.length) {
      const batch: PendingWrite[] = [];
      let bytes = 0;
      while (i < queue.length && batch.length < this.opts.maxBatchOps) {
        const w = queue[i]!;
        if (!this.pending.has(w.seq)) {
          i++; // resolved or expired meanwhile
          continue;
        }
        if (batch.length > 0 && bytes + w.bytes > this.opts.maxBatchBytes) break;
        batch.push(w);
        bytes += w.bytes;
        i++;
      }
      if (batch.length > 0) this.sendBatch(leader, batch, floor);
    }
  }

  private sendBatch(leader: NodeId, batch: PendingWrite[], floor: number): void {
    const commands: Command[] = batch.map((w) => ({ client: this.clientId, seq: w.seq, floor, ops: w.ops }));
    const data = packCopy(commands); // its own ArrayBuffer: safe to transfer
    const id = this.nextBatchId++;
    const sentAt = nowMs();
    for (const w of batch) {
      w.queued = false;
      w.batchId = id;
      w.sentAt = sentAt;
      w.sentTo = leader;
    }
    this.batches.set(id, { node: leader, items: batch, sentAt });
    this.counters.batchesSent++;
    if (!this.nodes.post(leader, { t: 'propose', id, data, sentAt }, [data.buffer as ArrayBuffer])) this.requeue(batch);
  }

  private flushReads(leader: NodeId): void {
    if (this.readQueue.length === 0) return;
    const queue = this.readQueue;
    this.readQueue = [];
    const now = nowMs();
    for (const mode of ['linearizable', 'lease'] as const) {
      const items = queue.filter((r) => r.mode === mode);
      if (items.length === 0) continue;
      const id = this.nextReadId++;
      for (const r of items) {
        r.queued = false;
        r.sentAt = now;
      }
      this.readGroups.set(id, { node: leader, items, sentAt: now, mode });
      this.counters.readRoundsSent++;
      const keys = this.opts.storage === 'lmdb' ? null : items.flatMap((r) => r.keys);
      if (!this.nodes.post(leader, { t: 'read', id, mode, keys })) this.requeueReads(id);
    }
  }

  /** The lowest seq still unresolved: the state machine may forget results below it. */
  private floor(): number {
    const first = this.pending.keys().next();
    return first.done ? this.nextSeq : first.value;
  }

  private requeue(writes: PendingWrite[]): void {
    let any = false;
    for (const w of writes) {
      if (w.queued || !this.pending.has(w.seq)) continue;
      w.queued = true;
      this.sendQueue.push(w);
      any = true;
    }
    if (!any) return;
    this.sendQueue.sort((a, b) => a.seq - b.seq);
    this.scheduleFlush();
  }

  private requeueReads(groupId: number): void {
    const g = this.readGroups.get(groupId);
    if (!g) return;
    this.readGroups.delete(groupId);
    for (const r of g.items) {
      r.queued = true;
      this.readQueue.push(r);
    }
    this.scheduleFlush();
  }

  // ───────────────────────────── replies from nodes ─────────────────────────────

  private onNodeMessage(from: NodeId, msg: FromNode): void {
    switch (msg.t) {
      case 'applied':
        this.onApplied(decodeApplied(msg.bytes));
        break;
      case 'proposal-failed': {
        const g = this.batches.get(msg.id);
        this.batches.delete(msg.id);
        this.nodes.hint(from, msg.error.leader);
        if (g) {
          this.counters.retries++;
          this.requeue(g.items);
        }
        break;
      }
      case 'read-ok':
        this.onReadOk(from, msg.id, msg.values);
        break;
      case 'watch-events':
      case 'watch-compacted':
        this.watches.onMessage(from, msg);
        break;
      case 'ready':
        this.watches.nodeReady(from);
        break;
      case 'read-failed': {
        if (msg.error.code === ErrorCode.NOT_LEADER) {
          this.nodes.hint(from, msg.error.leader);
          this.requeueReads(msg.id);
        } else {
          const g = this.readGroups.get(msg.id);
          this.readGroups.delete(msg.id);
          for (const r of g?.items ?? []) r.reject(ClusterError.fromJSON(msg.error));
        }
        break;
      }
      default:
        break;
    }
  }

  private onApplied(a: DecodedApplied): void {
    const reply = nowMs();
    const byBatch = a.stages.length > 0 ? new Map(a.stages.map((s) => [s.id, s])) : undefined;
    for (let i = 0; i < a.count; i++) {
      if (a.client(i) !== this.clientId) continue;
      const w = this.pending.get(a.seq(i));
      if (!w) continue;
      this.pending.delete(w.seq);
      const st = byBatch?.get(w.batchId);
      if (st && !a.duplicate(i)) this.profile.record(w.enqueuedAt, w.sentAt, st, reply);
      w.resolve(a.results(i) as OpResult[]);
    }
    if (this.sendQueue.length > 0) this.scheduleFlush(); // the floor may have advanced: writes held by the session window
  }

  private onReadOk(from: NodeId, id: number, values: (Value | undefined)[] | null): void {
    const g = this.readGroups.get(id);
    if (!g) return;
    this.readGroups.delete(id);
    const now = nowMs();
    let offset = 0;
    const reader = values === null ? this.reader(from) : undefined;
    for (const r of g.items) {
      this.readLatency.recordMs(now - r.sentAt);
      try {
        if (values !== null) {
          r.resolve(values.slice(offset, offset + r.keys.length));
          offset += r.keys.length;
        } else {
          // The leader has applied up to the read index: its LMDB state machine answers on this thread.
          r.resolve(r.keys.map((k) => reader!.get(k)));
        }
      } catch (err) {
        r.reject(new ClusterError(ErrorCode.STORAGE, `read failed: ${String(err)}`, { cause: err }));
      }
    }
  }

  private onLeaderChanged(): void {
    this.counters.leaderChanges++;
    if (this.nodes.leader === undefined) return;
    // Resend what the previous leader may have lost; the state machine deduplicates by (client, seq).
    const sent = [...this.pending.values()].filter((w) => !w.queued);
    if (sent.length > 0) this.counters.retries++;
    this.requeue(sent);
    for (const id of [...this.readGroups.keys()]) {
      const g = this.readGroups.get(id)!;
      if (g.node !== this.nodes.leader) this.requeueReads(id);
    }
    this.scheduleFlush();
  }

  /** Deadlines and retries: a bounded sweep every SWEEP_MS. */
  private sweep(): void {
    if (this.stopped) return;
    const now = nowMs();
    this.nodes.recoverLeader();
    const leader = this.nodes.leader;
    const code = leader === undefined ? ErrorCode.NO_QUORUM : ErrorCode.TIMEOUT;
    const retry: PendingWrite[] = [];
    for (const w of this.pending.values()) {
      if (w.deadline <= now) {
        this.pending.delete(w.seq);
        this.counters.timeouts++;
        w.reject(new ClusterError(code, `write not acknowledged within ${this.opts.requestTimeoutMs} ms; it may still take effect`));
      } else if (!w.queued && now - w.sentAt > this.retryAfterMs) {
        retry.push(w);
      }
    }
    if (retry.length > 0) {
      this.counters.retries++;
      this.requeue(retry);
    }
    this.sendQueue = this.sendQueue.filter((w) => this.pending.has(w.seq));
    if (this.sendQueue.length > 0) this.scheduleFlush(); // expired writes may have moved the floor
    for (const [id, b] of this.batches) if (now - b.sentAt > this.opts.requestTimeoutMs) this.batches.delete(id);
    this.expireReads(now, code);
  }

  private expireReads(now: number, code: ErrorCode): void {
    const expired = (r: PendingRead): boolean => {
      if (r.deadline > now) return false;
      this.counters.timeouts++;
      r.reject(new ClusterError(code, `read not answered within ${this.opts.requestTimeoutMs} ms`));
      return true;
    };
    this.readQueue = this.readQueue.filter((r) => !expired(r));
    for (const [id, g] of this.readGroups) {
      g.items = g.items.filter((r) => !expired(r));
      if (g.items.length === 0) this.readGroups.delete(id);
      else if (now - g.sentAt > this.retryAfterMs) this.requeueReads(id);
    }
  }

  // ───────────────────────────── leader, status, metrics ─────────────────────────────

  /** The leader the coordinator currently sends to, or undefined during an election and after stop(). */
  leader(): NodeId | undefined {
    return this.stopped ? undefined : this.nodes.leader;
  }

  /** Wait until a leader is known (rejects with NO_QUORUM after timeoutMs, a finite number >= 0). */
  async waitForLeader(timeoutMs = this.opts.startTimeoutMs): Promise<NodeId> {
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'waitForLeader: timeoutMs must be a finite number >= 0');
    }
    const deadline = Date.now() + timeoutMs;
    for (let first = true; first || Date.now() < deadline; first = false) {
      this.checkOpen();
      const l = this.nodes.leader;
      if (l !== undefined) return l;
      const failed = this.nodes.alive().length === 0 ? [...this.nodes.handles.values()].find((h) => h.fatal) : undefined;
      if (failed) throw new ClusterError(ErrorCode.STORAGE, `node ${failed.id} failed: ${failed.fatal}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new ClusterError(ErrorCode.NO_QUORUM, `no leader elected within ${timeoutMs} ms`);
  }

  async status(): Promise<NodeStatus[]> {
    this.checkOpen();
    return Promise.all(
      this.nodes.ids().map(async (id): Promise<NodeStatus> => {
        const h = this.nodes.get(id);
        const base: NodeStatus = { id, alive: h.alive, role: h.alive ? h.role : 'down', term: h.term, leader: h.leader };
        if (h.fatal !== undefined) base.error = h.fatal;
        if (!h.alive || !h.control) return base;
        try {
          const s = (await h.control.status()) as Record<string, number>;
          return { ...base, term: s.term ?? h.term, commit: s.commit ?? 0, applied: s.applied ?? 0, lastIndex: s.lastIndex ?? 0, snapshotIndex: s.snapshotIndex ?? 0 };
        } catch (err) {
          return { ...base, error: String(err) };
        }
      }),
    );
  }

  /** Counters and latency summaries: the coordinator's write-path stages and every live node's own. */
  async metrics(): Promise<ClusterMetrics> {
    this.checkOpen();
    const prof = this.profile.summary();
    const nodes = await Promise.all(
      this.nodes.alive().map(async (h) => {
        try {
          const m = await h.control!.metrics();
          const histograms = Object.fromEntries(Object.entries(m.histograms).map(([k, v]) => [k, LatencyHistogram.decode(v).summary()]));
          return { id: h.id, role: h.role, term: h.term, counters: m.counters as unknown as Record<string, number>, histograms };
        } catch (err) {
          // A node that did not answer (it is stopping, or died meanwhile) is reported as such, not as zeros.
          return { id: h.id, role: h.role, term: h.term, counters: {}, histograms: {}, unavailable: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    return {
      leader: this.nodes.leader,
      coordinator: { ...this.counters, pending: this.pending.size },
      writeStages: prof.stages,
      writeTotal: prof.total,
      stageSumP50Ms: prof.stageSumP50Ms,
      readIndexRound: this.readLatency.summary(),
      nodes,
    };
  }

  /** Forget recorded latencies (e.g. after a warm-up), on the coordinator and every live node. */
  async resetMetrics(): Promise<void> {
    this.profile.reset();
    this.readLatency.reset();
    await Promise.all(this.nodes.alive().map((h) => h.control?.resetMetrics().catch(() => undefined)));
  }

  // ───────────────────────────── control plane and faults ─────────────────────────────

  /** Ask the leader to hand leadership to `id` (§3.10). Resolves once `id` is the leader. */
  async transferLeadership(id: NodeId, timeoutMs = 5_000): Promise<void> {
    this.checkOpen();
    const target = this.nodes.get(id);
    if (!target.alive) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${id} is down`);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const leader = this.nodes.leader;
      if (leader === id) return;
      if (leader !== undefined) await this.nodes.get(leader).control?.transferLeadership(id).catch(() => false);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new ClusterError(ErrorCode.TIMEOUT, `leadership did not move to node ${id} within ${timeoutMs} ms`);
  }

  /**
   * Take a snapshot point on node `id` (default: every live node): its log is compacted and purged up to
   * what it has applied. Resolves with the node's new snapshot index.
   */
  async snapshot(id?: NodeId, timeoutMs = 5_000): Promise<Array<{ id: NodeId; snapshotIndex: number }>> {
    this.checkOpen();
    const targets = id === undefined ? this.nodes.alive() : [this.nodes.get(id)];
    return Promise.all(targets.map(async (h) => {
      if (!h.alive || !h.control) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${h.id} is down`);
      const before = (await h.control.status()) as { applied?: number };
      await h.control.requestSnapshot();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = (await h.control.status()) as { snapshotIndex?: number };
        if ((s.snapshotIndex ?? 0) >= (before.applied ?? 0)) return { id: h.id, snapshotIndex: s.snapshotIndex ?? 0 };
        if (Date.now() > deadline) throw new ClusterError(ErrorCode.TIMEOUT, `node ${h.id} took no snapshot within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }));
  }

  /** Terminate node `id`'s worker abruptly, as a process crash would. */
  async crash(id: NodeId): Promise<void> {
    this.checkOpen();
    await this.nodes.crash(id);
  }

  /** Start node `id` again on its directory. */
  async restart(id: NodeId): Promise<void> {
    this.checkOpen();
    await this.nodes.restart(id);
  }

  /** Cut the cluster into groups that cannot reach each other (the coordinator still reaches every node). */
  async partition(...groups: NodeId[][]): Promise<void> {
    this.checkOpen();
    const ids = this.nodes.ids();
    const groupOf = new Map<NodeId, number>();
    groups.forEach((g, i) => {
      if (!Array.isArray(g)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'partition: each group must be an array of node ids');
      g.forEach((id) => {
        this.nodes.get(id);
        if (groupOf.has(id)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `partition: node ${id} is in more than one group`);
        groupOf.set(id, i);
      });
    });
    await Promise.all(ids.map((id) => {
      const mine = groupOf.get(id);
      const blocked = ids.filter((o) => o !== id && groupOf.get(o) !== mine);
      return this.nodes.setFaults(id, { ...this.nodes.faultsOf(id), blocked });
    }));
  }

  /** Remove partitions (link delay and drop rate stay as set). */
  async heal(): Promise<void> {
    this.checkOpen();
    await Promise.all(this.nodes.ids().map((id) => this.nodes.setFaults(id, { ...this.nodes.faultsOf(id), blocked: [] })));
  }

  /** Delay and drop messages between nodes (all links, or those from the nodes listed). */
  async setLinkFaults(faults: { delayMs?: number; dropRate?: number; nodes?: NodeId[] }): Promise<void> {
    this.checkOpen();
    const dropRate = faults.dropRate ?? 0;
    const delayMs = faults.delayMs ?? 0;
    if (typeof dropRate !== 'number' || !(dropRate >= 0 && dropRate <= 1)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'dropRate must be in [0, 1]');
    positiveInt('delayMs', delayMs, 0, 60_000);
    if (faults.nodes !== undefined && !Array.isArray(faults.nodes)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'nodes must be an array of node ids');
    const ids = faults.nodes ?? this.nodes.ids();
    for (const id of ids) this.nodes.get(id); // an unknown node is NODE_UNAVAILABLE, before any fault is set
    await Promise.all(ids.map((id) => this.nodes.setFaults(id, { ...this.nodes.faultsOf(id), dropRate, delayMs })));
  }

  /** Test-only: deliver raw frames to node `id` as if peer `from` had sent them. Resolves to that node's count of malformed frames. */
  async injectFramesForTest(id: NodeId, from: NodeId, frames: unknown[]): Promise<number> {
    this.checkOpen();
    const h = this.nodes.get(id);
    if (!h.alive || !h.control) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${id} is down`);
    return h.control.inject(from, frames);
  }

  /** Test-only: block node `id`'s thread for `ms` (a busy loop). Resolves when the node is responsive again. */
  async stallNodeForTest(id: NodeId, ms: number): Promise<void> {
    this.checkOpen();
    const h = this.nodes.get(id);
    if (!h.alive || !h.control) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${id} is down`);
    await h.control.stallForTest(ms);
  }

  /**
   * Test-only: a lease read of `key` sent to node `id` itself, bypassing leader routing and retries.
   * Resolves to what that node read, or rejects with its error (NOT_LEADER when it is no longer leader).
   */
  async leaseReadOnNodeForTest(id: NodeId, key: KeyInput): Promise<Value | undefined> {
    this.checkOpen();
    const h = this.nodes.get(id);
    if (!h.alive || !h.control) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${id} is down`);
    const r = await h.control.leaseReadForTest(toKey(key));
    if (!r.ok) throw ClusterError.fromJSON(r.error);
    return r.value;
  }

  /** Node ids and whether each is running. */
  members(): Array<{ id: NodeId; alive: boolean }> {
    return this.nodes.ids().map((id) => ({ id, alive: this.nodes.get(id).alive }));
  }

  get options(): Readonly<ResolvedOptions> {
    return this.opts;
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  private checkOpen(): void {
    if (this.stopped) throw new ClusterError(ErrorCode.CLUSTER_STOPPED, 'the cluster was stopped');
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Stop every node, pool and storage environment. Pending calls reject with CLUSTER_STOPPED. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.sweepTimer);
    this.watches.close();
    const err = new ClusterError(ErrorCode.CLUSTER_STOPPED, 'the cluster was stopped');
    for (const w of this.pending.values()) w.reject(err);
    this.pending.clear();
    this.sendQueue = [];
    for (const r of this.readQueue) r.reject(err);
    for (const g of this.readGroups.values()) for (const r of g.items) r.reject(err);
    this.readQueue = [];
    this.readGroups.clear();
    await this.nodes.stopAll(5_000);
    for (const r of this.readers.values()) r.close();
    this.readers.clear();
    this.dirLock?.release();
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ClusterMetrics {
  leader: NodeId | undefined;
  coordinator: CoordinatorCounters & { pending: number };
  writeStages: Record<Stage, LatencySummaryMs>;
  writeTotal: LatencySummaryMs;
  stageSumP50Ms: number;
  readIndexRound: LatencySummaryMs;
  /** Per live node; `unavailable` (with empty counters and histograms) when the node did not answer. */
  nodes: Array<{ id: NodeId; role: string; term: number; counters: Record<string, number>; histograms: Record<string, LatencySummaryMs>; unavailable?: string }>;
}
