// The read pipeline: linearizable and lease reads share one barrier round (ReadIndex §6.4, or the leader's
// lease §6.4.1) per mode per event-loop turn; once the leader has applied the read index, the read's queries
// are answered by the state reader of the storage kind: LMDB on this thread, memory by the node itself.
// Stale reads skip the barrier; those only a node's thread answers (memory storage, size()) go to one node and stay
// with it: a leader change or a slow answer does not move them (only their node going down does).
import type { NodeId } from '../raft/types.js';
import type { Value } from '../storage/command.js';
import type { ClusterErrorData } from '../errors.js';
import { ClusterError, ErrorCode } from '../errors.js';
import { LatencyHistogram, nowMs } from '../util/histogram.js';
import { boundedReadTime, realWallNow } from '../util/clock.js';
import { LmdbStateReader } from '../storage/index.js';
import { needsNode, runQuery, type QueryResult, type ReadQuery } from '../node/queries.js';
import { toKey } from './validate.js';
import { checkBusy, type PipelineContext, type SentGroup } from './pipeline.js';

export type Consistency = 'linearizable' | 'lease' | 'stale';
type BarrierMode = 'linearizable' | 'lease';
type ReadMode = BarrierMode | 'stale';

interface PendingRead {
  queries: ReadQuery[];
  resolve: (v: QueryResult[]) => void;
  reject: (e: Error) => void;
  deadline: number;
  queued: boolean;
  sentAt: number;
  mode: ReadMode;
  /** A stale read: the node its caller named (undefined: the leader, else any live node). */
  node?: NodeId | undefined;
  /** Rejected at its deadline while its round was out: it keeps its place there, whose answers come by position. */
  expired?: boolean;
}

type ReadGroup = SentGroup<PendingRead> & { mode: ReadMode };

/** Where a node's state machine is read, by storage kind. */
export interface StateReaders {
  /** True: reads are answered on this thread (`answer`, `get`); false: the node answers the queries sent with the read. */
  readonly local: boolean;
  /**
   * The queries against node `id`'s state as it is now, at this thread's Date.now(), moved back by as much as this
   * thread's real clock is past `bound` (the leader's readBound: no later than its pending writes' stamps).
   */
  answer(id: NodeId, queries: ReadQuery[], bound?: number): QueryResult[];
  /** The stale get fast path: a string key is written into the reader's key buffer as UTF-8, no Buffer made. */
  get(id: NodeId, key: string | Uint8Array): Value | undefined;
  /** Node `id` was removed from the cluster: close what reads it (before its directory is deleted). */
  forget(id: NodeId): void;
  close(): void;
}

/**
 * LMDB: the node's state environment opened read-only on the main thread (LMDB allows many reader threads), so
 * once the leader has applied a read index the coordinator answers without a hop to a worker.
 */
export class LmdbReaders implements StateReaders {
  readonly local = true;
  private readonly readers = new Map<NodeId, LmdbStateReader>();

  constructor(private readonly dirOf: (id: NodeId) => string) {}

  private reader(id: NodeId): LmdbStateReader {
    let r = this.readers.get(id);
    if (!r) {
      r = LmdbStateReader.open(this.dirOf(id));
      this.readers.set(id, r);
    }
    return r;
  }

  answer(id: NodeId, queries: ReadQuery[], bound = Infinity): QueryResult[] {
    const r = this.reader(id);
    const now = boundedReadTime(Date.now(), realWallNow(), bound);
    return r.view(() => queries.map((q) => runQuery(r, q, now)));
  }

  get(id: NodeId, key: string | Uint8Array): Value | undefined {
    return this.reader(id).get(key);
  }

  forget(id: NodeId): void {
    this.readers.get(id)?.close();
    this.readers.delete(id);
  }

  close(): void {
    for (const r of this.readers.values()) r.close();
    this.readers.clear();
  }
}

/** Memory storage lives in the node threads: every read's queries go to the node. */
export class NodeReaders implements StateReaders {
  readonly local = false;

  answer(): never {
    throw new Error('memory storage is read by its node thread only');
  }

  get(): never {
    throw new Error('memory storage is read by its node thread only');
  }

  forget(): void {
    // nothing held on this thread
  }

  close(): void {}
}

export class ReadPipeline {
  private nextReadId = 1;
  private queue: PendingRead[] = [];
  private readonly groups = new Map<number, ReadGroup>();
  /** Reads in the rounds out (not expired): with the queue, what maxPendingOps bounds. */
  private sent = 0;
  /** Round trips of barrier reads (the coordinator's readIndexRound metric). */
  readonly latency = new LatencyHistogram();
  /** Told each barrier round's time as it completes (watchRounds): the RESP server's latency monitor. */
  private readonly roundWatchers = new Set<(ms: number) => void>();

  constructor(private readonly ctx: PipelineContext, private readonly readers: StateReaders) {}

  /** Tell `watcher` each barrier round's time (ms: its slowest read's) as it completes; returns how to stop. */
  watchRounds(watcher: (ms: number) => void): () => void {
    this.roundWatchers.add(watcher);
    return () => this.roundWatchers.delete(watcher);
  }

  /** Reads pending: queued, or sent and not answered. */
  get size(): number {
    return this.queue.length + this.sent;
  }

  private addGroup(id: number, g: ReadGroup): void {
    this.groups.set(id, g);
    this.sent += g.items.length;
  }

  /** Take round `id` out (answered, failed or sent again): its reads that have not expired, in place, and all. */
  private takeGroup(id: number): { live: PendingRead[]; all: PendingRead[]; mode: ReadMode } | undefined {
    const g = this.groups.get(id);
    if (!g) return undefined;
    this.groups.delete(id);
    const live = g.items.filter((r) => r.expired !== true);
    this.sent -= live.length;
    return { live, all: g.items, mode: g.mode };
  }

  /** One key's value. A stale read on LMDB is answered synchronously, with no promise made. */
  get(key: string | Uint8Array, consistency: Consistency, node: NodeId | undefined): Value | undefined | Promise<Value | undefined> {
    this.ctx.counters.reads++;
    if (consistency === 'stale' && this.readers.local) return this.readers.get(this.staleNode(node), key);
    return this.query([{ q: 'get', key: typeof key === 'string' ? toKey(key) : key }], consistency, node).then((r) => r[0] as Value | undefined);
  }

  /** Many queries, answered from one state (one read index, or one stale view). */
  query(queries: ReadQuery[], consistency: Consistency, node: NodeId | undefined): Promise<QueryResult[]> {
    if (consistency !== 'stale') return this.enqueue(queries, consistency);
    if (!this.readers.local || needsNode(queries)) return this.sendStale(node, queries);
    const id = this.staleNode(node);
    try {
      return Promise.resolve(this.readers.answer(id, queries));
    } catch (err) {
      return Promise.reject(readFailed(err));
    }
  }

  /** The node a stale read goes to: `node`, else the leader, else any live node. */
  staleNode(node: NodeId | undefined): NodeId {
    const id = node ?? this.ctx.nodes.leader ?? this.ctx.nodes.alive()[0]?.id;
    if (id === undefined) throw new ClusterError(ErrorCode.NO_QUORUM, 'no live node to read from');
    const h = this.ctx.nodes.get(id);
    if (!h.alive) throw new ClusterError(ErrorCode.NODE_UNAVAILABLE, `node ${id} is down`);
    return id;
  }

  private enqueue(queries: ReadQuery[], mode: BarrierMode): Promise<QueryResult[]> {
    const busy = checkBusy(this.ctx, () => 'too many operations pending; retry later');
    if (busy) return Promise.reject(busy);
    return new Promise((resolve, reject) => {
      const deadline = nowMs() + this.ctx.opts.requestTimeoutMs;
      this.queue.push({ queries, mode, resolve, reject, deadline, queued: true, sentAt: 0 });
      this.ctx.scheduleFlush();
    });
  }

  /** Queries only a node's thread answers (memory storage, or size()): sent to one node, no barrier. */
  private sendStale(node: NodeId | undefined, queries: ReadQuery[]): Promise<QueryResult[]> {
    const busy = checkBusy(this.ctx, () => 'too many operations pending; retry later');
    if (busy) return Promise.reject(busy);
    return new Promise((resolve, reject) => {
      const now = nowMs();
      const r: PendingRead = { queries, mode: 'stale', node, resolve, reject, deadline: now + this.ctx.opts.requestTimeoutMs, queued: false, sentAt: now };
      this.postStale(r);
    });
  }

  /** Send stale read `r` to its node: the one its caller named, else the leader, else any live node. */
  private postStale(r: PendingRead): void {
    let node: NodeId;
    try {
      node = this.staleNode(r.node);
    } catch (err) {
      r.reject(err as Error);
      return;
    }
    const id = this.nextReadId++;
    r.sentAt = nowMs();
    this.addGroup(id, { node, items: [r], sentAt: r.sentAt, mode: 'stale' });
    this.ctx.nodes.post(node, { t: 'read', id, mode: 'stale', queries: r.queries, now: Date.now(), wall: realWallNow() });
  }

  /** One barrier round per mode to `leader`, for every read queued. */
  flush(leader: NodeId): void {
    if (this.queue.length === 0) return;
    const queue = this.queue;
    this.queue = [];
    const now = nowMs();
    for (const mode of ['linearizable', 'lease'] as const) {
      const items = queue.filter((r) => r.mode === mode);
      if (items.length === 0) continue;
      const id = this.nextReadId++;
      for (const r of items) {
        r.queued = false;
        r.sentAt = now;
      }
      this.addGroup(id, { node: leader, items, sentAt: now, mode });
      this.ctx.counters.readRoundsSent++;
      const queries = this.readers.local && !items.some((r) => needsNode(r.queries)) ? null : items.flatMap((r) => r.queries);
      if (!this.ctx.nodes.post(leader, { t: 'read', id, mode, queries, now: Date.now(), wall: realWallNow() })) this.requeue(id);
    }
  }

  /** Round `groupId` again: barrier reads to the queue (the next flush sends them to the leader), a stale read to its node. */
  private requeue(groupId: number): void {
    const g = this.takeGroup(groupId);
    if (!g) return;
    if (g.mode === 'stale') {
      for (const r of g.live) this.postStale(r);
      return;
    }
    for (const r of g.live) {
      r.queued = true;
      this.queue.push(r);
    }
    this.ctx.scheduleFlush();
  }

  /** Node `from` passed the barrier of round `id`: `values` are its answers, or null when this thread answers. */
  onReadOk(from: NodeId, id: number, values: QueryResult[] | null, bound?: number): void {
    const g = this.takeGroup(id);
    if (!g) return;
    const now = nowMs();
    let offset = 0;
    let longest = -1;
    // Answers come by position: a read that expired meanwhile still takes its share (it used to be dropped from the
    // round, and the next read got its answers).
    for (const r of g.all) {
      const start = offset;
      offset += r.queries.length;
      if (r.expired === true) continue;
      const ms = now - r.sentAt;
      this.latency.recordMs(ms);
      longest = Math.max(longest, ms);
      try {
        if (values !== null) {
          r.resolve(values.slice(start, offset));
        } else {
          // The leader has applied up to the read index: its LMDB state machine answers on this thread.
          r.resolve(this.readers.answer(from, r.queries, bound));
        }
      } catch (err) {
        r.reject(readFailed(err));
      }
    }
    if (longest >= 0) for (const w of this.roundWatchers) w(longest);
  }

  onReadFailed(from: NodeId, id: number, error: ClusterErrorData): void {
    if (error.code === ErrorCode.NOT_LEADER) {
      this.ctx.nodes.hint(from, error.leader);
      this.requeue(id);
      return;
    }
    for (const r of this.takeGroup(id)?.live ?? []) r.reject(ClusterError.fromJSON(error));
  }

  /** Rounds sent to a node that no longer leads go again to the new leader. Stale reads stay with their node. */
  onLeaderChanged(leader: NodeId): void {
    for (const [id, g] of [...this.groups]) if (g.mode !== 'stale' && g.node !== leader) this.requeue(id);
  }

  /**
   * Node `id` went down: its stale reads go to another node, or fail NODE_UNAVAILABLE when their caller named it.
   * (Its barrier rounds wait for the next leader: onLeaderChanged.)
   */
  nodeDown(id: NodeId): void {
    for (const [gid, g] of [...this.groups]) if (g.mode === 'stale' && g.node === id) this.requeue(gid);
  }

  /** Deadlines (rejected with `code`) and rounds sent too long ago, sent again. */
  sweep(now: number, code: ErrorCode): void {
    const expired = (r: PendingRead): boolean => {
      if (r.expired === true) return true;
      if (r.deadline > now) return false;
      this.ctx.counters.timeouts++;
      r.expired = true;
      r.reject(new ClusterError(code, `read not answered within ${this.ctx.opts.requestTimeoutMs} ms`));
      return true;
    };
    this.queue = this.queue.filter((r) => !expired(r));
    for (const [id, g] of this.groups) {
      let live = 0;
      for (const r of g.items) {
        if (r.expired === true) continue;
        if (expired(r)) this.sent--;
        else live++;
      }
      if (live === 0) this.groups.delete(id);
      else if (g.mode !== 'stale' && now - g.sentAt > this.ctx.retryAfterMs) this.requeue(id);
    }
  }

  /** Reject every pending read with `err` (stop()). */
  rejectAll(err: Error): void {
    for (const r of this.queue) r.reject(err);
    for (const g of this.groups.values()) for (const r of g.items) if (r.expired !== true) r.reject(err);
    this.queue = [];
    this.groups.clear();
    this.sent = 0;
  }

  /** Close the state readers, once the nodes are stopped. */
  close(): void {
    this.readers.close();
  }
}

function readFailed(err: unknown): ClusterError {
  if (err instanceof ClusterError) return err;
  return new ClusterError(ErrorCode.STORAGE, `read failed: ${String(err)}`, { cause: err });
}
