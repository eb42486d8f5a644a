// The write pipeline: writes from every caller are gathered into one proposal (one raft entry) per
// event-loop turn, bounded by maxBatchOps and maxBatchBytes. Every write carries (client, seq) so that
// retries after a leader change apply exactly once; a write is sent only within the session window.
import { bytesWritten, FIELD_BYTES } from '../storage/bitfield.js';
import type { NodeId } from '../raft/types.js';
import type { Op, OpResult } from '../storage/command.js';
import type { DecodedApplied } from '../node/applied.js';
import type { ClusterErrorData } from '../errors.js';
import { ClusterError, ErrorCode } from '../errors.js';
import { nowMs } from '../util/histogram.js';
import { encodeBatch } from '../storage/codec.js';
import { SESSION_WINDOW } from '../storage/apply.js';
import { valueBytes } from './validate.js';
import type { WriteProfile } from './profile.js';
import type { StageTimes } from '../node/protocol.js';
import { checkBusy, type PipelineContext, type SentGroup } from './pipeline.js';

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
  /** Times sent (a write is sent again after a refusal, a leader change or sendAgain()). */
  sends: number;
  /** What the caller gave to tell its writes apart in appliedListeners (batch(): its array of ops). */
  tag: object | undefined;
}

/** How long the ops of a write whose deadline passed are kept, for appliedListeners to hear of it if it is applied after all. */
const LATE_MS = 60_000;

/** The index in `stages` of batch `id`'s stage times, or -1 (an entry's batches are few: one, mostly). */
function batchStages(stages: readonly StageTimes[], id: number): number {
  for (let k = 0; k < stages.length; k++) if (stages[k]!.id === id) return k;
  return -1;
}

/** Exactly once (SESSION_WINDOW): a write is sent only while its seq is within the window above the floor. */
export function inSessionWindow(seq: number, floor: number): boolean {
  return seq < floor + SESSION_WINDOW;
}

/** What a call and each of its ops count toward maxBatchBytes beyond keys and values (also the Keyv store's chunks). */
export const BATCH_OVERHEAD_BYTES = 16;
export const OP_OVERHEAD_BYTES = 8;

/** Bytes of `ops` in a batch: strings estimated at 3 bytes per UTF-16 unit unless `exact`. */
function opsBytes(ops: Op[], exact: boolean): number {
  let bytes = BATCH_OVERHEAD_BYTES;
  for (const op of ops) {
    bytes += ('key' in op ? op.key.length : 0) + ('to' in op ? op.to.length : 0) + OP_OVERHEAD_BYTES;
    if (op.t === 'put' || op.t === 'append' || op.t === 'setrange') bytes += valueBytes(op.value, exact);
    else if (op.t === 'cas') bytes += valueBytes(op.expected, exact) + valueBytes(op.value, exact);
    else if (op.t === 'msetnx') for (const [k, v] of op.pairs) bytes += k.length + valueBytes(v, exact);
    else if (op.t === 'incrbyfloat') bytes += op.by.length; // ASCII when valid
    else if (op.t === 'bitop') for (const k of op.from) bytes += k.length;
    else if (op.t === 'bitfield') bytes += op.fields.length * FIELD_BYTES;
    else if (op.t === 'pfadd') for (const e of op.elements) bytes += valueBytes(e, exact) + OP_OVERHEAD_BYTES;
    else if (op.t === 'pfmerge') for (const k of op.from) bytes += k.length;
    else if (op.t === 'clearprefix') bytes += op.prefix.length;
  }
  return bytes;
}

/**
 * Why a call's writes could never be held within the cache bounds (undefined: they could). Apply would accept them
 * and then evict to the bounds after the entry: the call's own keys, and every other key, before it resolves
 * (found by a review: a put larger than maxBytes emptied the cache). A record is its key and value bytes, at least
 * what is known before apply: an append counts what it appends (its result is longer), a setrange its offset and
 * what it writes there, a setbit or bitfield the bytes up to the last bit it writes, a counter one byte, a copy or
 * rename what the batch wrote to its source before (else nothing), an HLL or bitop result nothing (their lengths
 * are known only when they apply: apply checks them against maxBytes). Every key the ops write counts toward
 * maxKeys, unless a later op of the batch removes it (a delete, a clear, a rename of it).
 */
function boundsProblem(ops: Op[], maxKeys: number | undefined, maxBytes: number | undefined): string | undefined {
  const written = new Map<string, number>();
  const many = ops.length > 1 || ops[0]?.t === 'msetnx'; // one op writes one key: its size is all there is to check
  const id = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
  const record = (key: Uint8Array, bytes: number): string | undefined => {
    if (maxBytes !== undefined && bytes > maxBytes) return `a record of ${bytes} bytes (key and value) cannot be held: maxBytes is ${maxBytes}`;
    if (many) written.set(id(key), bytes);
    return undefined;
  };
  for (const op of ops) {
    let problem: string | undefined;
    switch (op.t) {
      case 'msetnx':
        for (const [k, v] of op.pairs) problem ??= record(k, k.length + valueBytes(v, true));
        break;
      case 'put':
      case 'append':
        problem = record(op.key, op.key.length + valueBytes(op.value, true));
        break;
      case 'cas':
        if (op.value !== null) problem = record(op.key, op.key.length + valueBytes(op.value, true));
        break;
      case 'setrange':
        if (valueBytes(op.value, true) > 0) problem = record(op.key, op.key.length + op.offset + valueBytes(op.value, true));
        break;
      case 'setbit':
        problem = record(op.key, op.key.length + Math.floor(op.offset / 8) + 1);
        break;
      case 'bitfield':
        if (bytesWritten(op.fields) > 0) problem = record(op.key, op.key.length + bytesWritten(op.fields));
        break;
      case 'incr':
      case 'incrbyfloat':
        problem = record(op.key, op.key.length + 1);
        break;
      case 'pfadd':
      case 'pfmerge':
      case 'bitop':
        problem = record(op.key, op.key.length);
        break;
      case 'rename':
      case 'copy': {
        const source = many ? id(op.key) : undefined;
        const from = source === undefined ? undefined : written.get(source);
        problem = record(op.to, op.to.length + (from === undefined ? 0 : from - op.key.length));
        if (op.t === 'rename' && source !== undefined && source !== id(op.to)) written.delete(source);
        break;
      }
      // What the batch removes after writing it is not held.
      case 'del':
        if (many) written.delete(id(op.key));
        break;
      case 'clear':
        written.clear();
        break;
      case 'clearprefix': {
        const p = id(op.prefix);
        for (const k of written.keys()) if (k.startsWith(p)) written.delete(k);
        break;
      }
      default:
        break;
    }
    if (problem) return problem;
  }
  if (maxKeys !== undefined && written.size > maxKeys) return `the operations write ${written.size} keys: maxKeys is ${maxKeys}`;
  let total = 0;
  for (const b of written.values()) total += b;
  if (maxBytes !== undefined && total > maxBytes) return `the operations write ${total} bytes of keys and values: maxBytes is ${maxBytes}`;
  return undefined;
}

export class WritePipeline {
  private readonly clientId = (Math.random() * 0xffffffff) >>> 0 || 1;
  private nextSeq = 1;
  private nextBatchId = 1;
  private readonly pending = new Map<number, PendingWrite>(); // unresolved writes, ascending seq
  private sendQueue: PendingWrite[] = [];
  /**
   * Batches sent, for a refusal (onProposalFailed) to send their writes again: a batch goes when its last write
   * resolves (`left`), or requestTimeoutMs after it was sent (a write sent again is counted in its newest batch).
   * Until session 5 they stayed the full requestTimeoutMs: 10 s of writes (about 100 MB at 50k puts/s) held on
   * the main thread's heap, marked over and over by the GC.
   */
  private readonly batches = new Map<number, SentGroup<PendingWrite> & { left: number }>();
  /** Bytes of the writes sent and not resolved nor queued again (flush() keeps them within maxInflightWriteBytes). */
  private sentBytes = 0;
  /** Bytes of the writes not resolved, queued or sent (submit() keeps them within maxPendingWriteBytes). */
  private pendingBytes = 0;
  /** Writes a leader refused while handing leadership over: queued again by the next sweep or leader change (onProposalFailed). */
  private parked: PendingWrite[] = [];
  /** Per node: the newest batch of which a write resolved, and when (sendAgain()). */
  private readonly resolvedFrom = new Map<NodeId, { batchId: number; at: number }>();

  /** Called with each write's ops as it is accepted (before it is queued): the RESP server's WATCH (src/resp/watches.ts). */
  readonly listeners = new Set<(ops: readonly Op[]) => void>();
  /**
   * Called with each write's ops, results and tag once the leader applied it, before its caller is answered: the RESP
   * server's client-side caching (src/resp/tracking.ts).
   */
  readonly appliedListeners = new Set<(ops: readonly Op[], results: readonly OpResult[], tag: object | undefined) => void>();
  /**
   * While appliedListeners listen: the ops of sent writes rejected at their deadline (their outcome unknown), by seq,
   * for LATE_MS (and within maxPendingOps and maxPendingWriteBytes): one applied after all is told to the listeners
   * then too (with no tag: its caller heard nothing).
   */
  private readonly late = new Map<number, { ops: Op[]; bytes: number; at: number }>();
  private lateBytes = 0;

  constructor(private readonly ctx: PipelineContext, private readonly profile: WriteProfile) {}

  /** Writes not yet resolved. */
  get size(): number {
    return this.pending.size;
  }

  /** `ops` as one atomic command; resolves to their results once applied on the leader. */
  submit(ops: Op[], tag?: object): Promise<OpResult[]> {
    const { opts } = this.ctx;
    let bytes = opsBytes(ops, false);
    if (bytes > opts.maxBatchBytes) bytes = opsBytes(ops, true);
    if (bytes > opts.maxBatchBytes) {
      return Promise.reject(new ClusterError(ErrorCode.INVALID_ARGUMENT, `operation is ${bytes} bytes; maxBatchBytes is ${opts.maxBatchBytes}`));
    }
    if (opts.maxKeys !== undefined || opts.maxBytes !== undefined) {
      const problem = boundsProblem(ops, opts.maxKeys, opts.maxBytes);
      if (problem) return Promise.reject(new ClusterError(ErrorCode.INVALID_ARGUMENT, problem));
    }
    const busy = checkBusy(this.ctx, () => `${this.pending.size} operations pending (maxPendingOps ${opts.maxPendingOps}); retry later`);
    if (busy) return Promise.reject(busy);
    if (this.pendingBytes > 0 && this.pendingBytes + bytes > opts.maxPendingWriteBytes) {
      this.ctx.counters.busy++;
      return Promise.reject(new ClusterError(ErrorCode.BUSY, `${this.pendingBytes} bytes of writes pending (maxPendingWriteBytes ${opts.maxPendingWriteBytes}); retry later`));
    }
    this.ctx.counters.writes++;
    if (this.listeners.size > 0) for (const listener of this.listeners) listener(ops);
    return new Promise<OpResult[]>((resolve, reject) => {
      const now = nowMs();
      const w: PendingWrite = {
        seq: this.nextSeq++, ops, bytes, resolve, reject, enqueuedAt: now, deadline: now + opts.requestTimeoutMs,
        queued: true, batchId: 0, sentAt: 0, sentTo: 0, sends: 0, tag,
      };
      this.pending.set(w.seq, w);
      this.pendingBytes += bytes;
      this.sendQueue.push(w);
      this.ctx.scheduleFlush();
    });
  }

  /**
   * Send what is queued to `leader`: as few batches as the bounds allow, while the writes sent and unresolved stay
   * within maxInflightWriteBytes (one batch goes whatever its size when nothing is in flight). The rest wait here,
   * in order, and go as the leader applies (onApplied schedules a flush).
   */
  flush(leader: NodeId): void {
    const floor = this.floor();
    const { maxBatchOps, maxBatchBytes, maxInflightWriteBytes } = this.ctx.opts;
    const queue = this.sendQueue;
    this.sendQueue = [];
    const held: PendingWrite[] = [];
    let batch: PendingWrite[] = [];
    let bytes = 0;
    let full = false;
    for (const w of queue) {
      if (!this.pending.has(w.seq)) continue; // resolved or expired meanwhile
      // Writes beyond the session window wait (their deadline runs) until the floor advances.
      if (full || !inSessionWindow(w.seq, floor)) {
        held.push(w);
        continue;
      }
      if (batch.length === maxBatchOps || (batch.length > 0 && bytes + w.bytes > maxBatchBytes)) {
        this.sendBatch(leader, batch, floor);
        batch = [];
        bytes = 0;
      }
      const sent = this.sentBytes + bytes;
      if (sent > 0 && sent + w.bytes > maxInflightWriteBytes) {
        full = true;
        held.push(w);
        continue;
      }
      batch.push(w);
      bytes += w.bytes;
    }
    if (batch.length > 0) this.sendBatch(leader, batch, floor);
    // A batch the leader could not be sent was queued again meanwhile (requeue()): keep the queue in seq order.
    if (this.sendQueue.length > 0) {
      held.push(...this.sendQueue);
      held.sort((a, b) => a.seq - b.seq);
    }
    this.sendQueue = held;
  }

  private sendBatch(leader: NodeId, batch: PendingWrite[], floor: number): void {
    const data = encodeBatch(this.clientId, floor, batch); // its own ArrayBuffer: safe to transfer
    const id = this.nextBatchId++;
    const sentAt = nowMs();
    for (const w of batch) {
      w.queued = false;
      w.batchId = id;
      w.sentAt = sentAt;
      w.sentTo = leader;
      if (++w.sends > 1) this.ctx.counters.resends++;
      this.sentBytes += w.bytes;
    }
    this.batches.set(id, { node: leader, items: batch, sentAt, left: batch.length });
    this.ctx.counters.batchesSent++;
    if (!this.ctx.nodes.post(leader, { t: 'propose', id, data, sentAt }, [data.buffer as ArrayBuffer])) this.requeue(batch);
  }

  /** The lowest seq still unresolved: the state machine may forget results below it. */
  private floor(): number {
    const first = this.pending.keys().next();
    return first.done ? this.nextSeq : first.value;
  }

  /** Queue sent writes again: to go at the next flush, or with `park` at the next sweep. */
  private requeue(writes: PendingWrite[], park = false): void {
    const again: PendingWrite[] = [];
    for (const w of writes) {
      if (w.queued || !this.pending.has(w.seq)) continue;
      w.queued = true;
      this.sentBytes -= w.bytes;
      again.push(w);
    }
    if (again.length === 0) return;
    if (park) this.parked.push(...again);
    else this.queueInOrder(again);
  }

  /** Add `writes` (sent ones: at most SESSION_WINDOW) to the send queue, keeping it in seq order, and flush in the next turn. */
  private queueInOrder(writes: PendingWrite[]): void {
    this.sendQueue.push(...writes);
    this.sendQueue.sort((a, b) => a.seq - b.seq);
    this.ctx.scheduleFlush();
  }

  /**
   * The leader applied entries: resolve this client's writes among them. Instrumented (the entries carry their
   * batches' stage times): each write's queue time and total are recorded, and each batch's shared stages once, with
   * the count of its writes (WriteProfile.recordBatch).
   */
  onApplied(a: DecodedApplied): void {
    const reply = nowMs();
    const stages = a.stages;
    const counted = stages.length > 0 ? new Array<number>(stages.length).fill(0) : undefined;
    const sentOf = counted ? new Array<number>(stages.length).fill(0) : undefined;
    for (let i = 0; i < a.count; i++) {
      if (a.client(i) !== this.clientId) continue;
      const w = this.pending.get(a.seq(i));
      if (!w) {
        const l = this.late.size > 0 ? this.late.get(a.seq(i)) : undefined;
        if (l !== undefined) {
          this.late.delete(a.seq(i));
          this.lateBytes -= l.bytes;
          for (const listener of this.appliedListeners) listener(l.ops, a.results(i), undefined);
        }
        continue;
      }
      this.settle(w);
      // A write sent more than once may have resolved by an earlier batch's entry: only its time counts.
      const batchId = w.sends === 1 ? w.batchId : 0;
      const last = this.resolvedFrom.get(w.sentTo);
      if (last === undefined) this.resolvedFrom.set(w.sentTo, { batchId, at: reply });
      else {
        last.batchId = Math.max(last.batchId, batchId);
        last.at = reply;
      }
      if (counted && !a.duplicate(i)) {
        const k = batchStages(stages, w.batchId);
        if (k >= 0) {
          this.profile.record(w.enqueuedAt, w.sentAt, stages[k]!, reply);
          counted[k]! += 1;
          sentOf![k] = w.sentAt;
        }
      }
      const results = a.results(i) as OpResult[];
      if (this.appliedListeners.size > 0) for (const listener of this.appliedListeners) listener(w.ops, results, w.tag);
      w.resolve(results);
    }
    if (counted) for (let k = 0; k < stages.length; k++) if (counted[k]! > 0) this.profile.recordBatch(sentOf![k]!, stages[k]!, reply, counted[k]!);
    if (this.sendQueue.length > 0) this.ctx.scheduleFlush(); // the floor may have advanced: writes held by the session window
  }

  /** `w` is resolved (or rejected): it is no longer pending, and its batch is gone once all of the batch's are. */
  private settle(w: PendingWrite): void {
    this.pending.delete(w.seq);
    this.pendingBytes -= w.bytes;
    if (!w.queued) this.sentBytes -= w.bytes;
    const g = this.batches.get(w.batchId);
    if (g !== undefined && --g.left === 0) this.batches.delete(w.batchId);
  }

  /**
   * A node refused a batch: follow its hint and send the batch again. A leader that names itself is handing
   * leadership over and refuses every proposal until it is done: its batch goes again at the next sweep (every
   * write refused, sent again at once, refused again, until the transfer ended, otherwise).
   */
  onProposalFailed(from: NodeId, id: number, error: ClusterErrorData): void {
    const g = this.batches.get(id);
    this.batches.delete(id);
    this.ctx.nodes.hint(from, error.leader);
    if (!g) return;
    this.ctx.counters.retries++;
    this.requeue(g.items, error.leader === from);
  }

  /**
   * Resend what the previous leader may have lost; the state machine deduplicates by (client, seq). What a leader
   * handing over refused goes now too: its transfer is over.
   */
  onLeaderChanged(): void {
    const sent = [...this.pending.values()].filter((w) => !w.queued);
    if (sent.length > 0) this.ctx.counters.retries++;
    this.unpark();
    this.requeue(sent);
  }

  /** The writes parked by a refusal during a leadership transfer join the queue (in seq order). */
  private unpark(): void {
    if (this.parked.length === 0) return;
    const parked = this.parked;
    this.parked = [];
    this.queueInOrder(parked);
  }

  /** Deadlines (rejected with `code`) and retries of writes sent too long ago. */
  sweep(now: number, code: ErrorCode): void {
    const { requestTimeoutMs } = this.ctx.opts;
    this.unpark();
    const retry: PendingWrite[] = [];
    for (const w of this.pending.values()) {
      if (w.deadline <= now) {
        this.settle(w);
        this.ctx.counters.timeouts++;
        const { maxPendingOps, maxPendingWriteBytes } = this.ctx.opts;
        if (w.sends > 0 && this.appliedListeners.size > 0 && this.late.size < maxPendingOps && this.lateBytes + w.bytes <= maxPendingWriteBytes) {
          this.late.set(w.seq, { ops: w.ops, bytes: w.bytes, at: now });
          this.lateBytes += w.bytes;
        }
        w.reject(new ClusterError(code, `write not acknowledged within ${requestTimeoutMs} ms; it may still take effect`));
      } else if (!w.queued && this.sendAgain(w, now)) {
        retry.push(w);
      }
    }
    if (retry.length > 0) {
      this.ctx.counters.retries++;
      this.requeue(retry);
    }
    this.sendQueue = this.sendQueue.filter((w) => this.pending.has(w.seq));
    if (this.sendQueue.length > 0) this.ctx.scheduleFlush(); // expired writes may have moved the floor
    for (const [id, b] of this.batches) if (now - b.sentAt > requestTimeoutMs) this.batches.delete(id);
    for (const [seq, l] of this.late) {
      if (now - l.at <= LATE_MS) break; // in the order they timed out
      this.late.delete(seq);
      this.lateBytes -= l.bytes;
    }
  }

  /**
   * Whether sent write `w` was lost, so that it must be sent again: a later batch to the same node resolved while
   * w's did not (entries of one term commit in the order proposed, so w's entry was cut off with a term that node
   * led, and it leads again: no leader change was seen), or that node resolved nothing of this client's for
   * retryAfterMs since w was sent (it is stuck, or was deposed unseen). Not because w is merely slow: until session
   * 31 every write unresolved after retryAfterMs was sent again, so a leader behind by more than that (1,600 calls of
   * 200 KB in flight) was sent each write about four times, and the copies starved the writes (congestion collapse).
   */
  private sendAgain(w: PendingWrite, now: number): boolean {
    const last = this.resolvedFrom.get(w.sentTo);
    if (last !== undefined && last.batchId > w.batchId) return true;
    const retryAfterMs = this.ctx.retryAfterMs;
    return now - w.sentAt > retryAfterMs && (last === undefined || now - last.at > retryAfterMs);
  }

  /** Reject every pending write with `err` (stop()). */
  rejectAll(err: Error): void {
    for (const w of this.pending.values()) w.reject(err);
    this.pending.clear();
    this.sendQueue = [];
    this.parked = [];
    this.sentBytes = 0;
    this.pendingBytes = 0;
    this.late.clear();
    this.lateBytes = 0;
  }
}
