// Streaming snapshots between nodes: the core emits a `snapshot` message carrying metadata only;
// the sender streams the state machine in chunks beside it (one LMDB read view, bounded window of
// chunks in flight), and the receiver stages the chunks and steps the message into its core only
// when every chunk is stored. A stream that does not finish within the install timeout is aborted, and the
// sender gives one up sooner when the acknowledgement it waits for does not come (ACK_STALL_MS).
import type { Logger } from 'pino';
import type { Message, NodeId, SnapshotMeta, SnapshotRequest } from '../raft/types.js';
import type { SnapshotStream } from '../storage/types.js';
import type { SnapshotReceiver } from '../adaptor/index.js';
import type { PeerFrame, Transport } from '../transport/types.js';
import type { NodeOptions } from './config.js';
import type { HostRuntime, TimerHandle } from './runtime.js';

/** Chunks in flight per stream: bounds the receiver's queue to WINDOW × chunk size. */
const WINDOW = 4;

/**
 * How long the sender waits for the acknowledgement it needs next (at most the install timeout). A frame of the
 * stream lost on the way (its begin, a chunk, an ack) would otherwise stall it until the install timeout (30 s by
 * default): the stream fails sooner and the core, probing again, starts a new one.
 */
export const ACK_STALL_MS = 5_000;

const SESSIONS_PER_TERM = 2 ** 20;

/**
 * A stream's id, unique across the sender's restarts too: only a leader sends snapshots, and a node leads a term at
 * most once, so a restarted sender (whose counter starts again) never reuses an id a late frame may still carry.
 */
function sessionId(term: number, n: number): number {
  const sid = term * SESSIONS_PER_TERM + (n % SESSIONS_PER_TERM);
  return Number.isSafeInteger(sid) ? sid : n;
}

type Receiving = SnapshotReceiver;

interface OutgoingSession {
  sid: number;
  acked: number;
  wake: (() => void) | undefined;
  failed: string | undefined;
  timer: TimerHandle;
}

export class SnapshotSender {
  private readonly sessions = new Map<NodeId, OutgoingSession>();
  private nextSid = 1;
  private closed = false;

  constructor(
    private readonly self: NodeId,
    private readonly transport: Transport,
    private readonly runtime: Pick<HostRuntime, 'setTimeout' | 'clearTimeout'>,
    private readonly opts: Pick<NodeOptions, 'snapshotInstallTimeoutMs'>,
    private readonly log: Logger,
    private readonly deps: { build(): Promise<SnapshotStream>; report(to: NodeId, ok: boolean): void },
  ) {}

  active(): NodeId[] {
    return [...this.sessions.keys()];
  }

  send(msg: SnapshotRequest): void {
    if (this.closed || this.sessions.has(msg.to)) return;
    const sid = sessionId(msg.term, this.nextSid++);
    const session: OutgoingSession = {
      sid,
      acked: -1,
      wake: undefined,
      failed: undefined,
      timer: this.runtime.setTimeout(() => this.fail(session, 'install timeout'), this.opts.snapshotInstallTimeoutMs),
    };
    this.sessions.set(msg.to, session);
    void this.run(msg, session);
  }

  onFrame(from: NodeId, frame: PeerFrame): void {
    const s = this.sessions.get(from);
    if (!s || !('sid' in frame) || frame.sid !== s.sid) return;
    if (frame.k === 'snap-ack') {
      s.acked = Math.max(s.acked, frame.seq);
    } else if (frame.k === 'snap-abort') {
      s.failed = frame.reason;
    }
    s.wake?.();
  }

  private async run(msg: SnapshotRequest, s: OutgoingSession): Promise<void> {
    const to = msg.to;
    let stream: SnapshotStream | undefined;
    try {
      stream = await this.deps.build();
      this.transport.sendFrame(to, { k: 'snap-begin', sid: s.sid, from: this.self });
      let seq = 0;
      for await (const chunk of stream.chunks) {
        await this.waitFor(s, () => seq - s.acked <= WINDOW);
        this.transport.sendFrame(to, { k: 'snap-chunk', sid: s.sid, from: this.self, seq, data: chunk });
        seq++;
      }
      await this.waitFor(s, () => s.acked >= seq - 1);
      // The stream is a newer point than the core's compaction point: send its real metadata.
      const end: SnapshotRequest = { ...msg, snapshot: stream.meta };
      this.transport.sendFrame(to, { k: 'snap-end', sid: s.sid, from: this.self, msg: end });
      this.log.info({ node: this.self, to, index: stream.meta.index, chunks: seq }, 'snapshot sent');
      this.finish(to, s, true);
    } catch (err) {
      this.log.warn({ node: this.self, to, err: String(err) }, 'snapshot send failed');
      this.transport.sendFrame(to, { k: 'snap-abort', sid: s.sid, from: this.self, reason: String(err) });
      this.finish(to, s, false);
    }
  }

  /** Until `cond` holds (acknowledgements came): failed when ACK_STALL_MS pass with no new acknowledgement. */
  private async waitFor(s: OutgoingSession, cond: () => boolean): Promise<void> {
    const ms = Math.min(ACK_STALL_MS, this.opts.snapshotInstallTimeoutMs);
    let stall: TimerHandle | undefined;
    let seen = s.acked;
    try {
      while (!cond()) {
        if (s.failed !== undefined || this.closed) throw new Error(s.failed ?? 'closed');
        if (stall === undefined || s.acked !== seen) {
          if (stall !== undefined) this.runtime.clearTimeout(stall);
          seen = s.acked;
          stall = this.runtime.setTimeout(() => this.fail(s, `no acknowledgement within ${ms} ms`), ms);
        }
        await new Promise<void>((resolve) => (s.wake = resolve));
        s.wake = undefined;
      }
    } finally {
      if (stall !== undefined) this.runtime.clearTimeout(stall);
    }
    if (s.failed !== undefined || this.closed) throw new Error(s.failed ?? 'closed');
  }

  /** The stream's run() throws `reason` at its next wait (its timers are cleared when it finishes). */
  private fail(s: OutgoingSession, reason: string): void {
    s.failed = reason;
    s.wake?.();
  }

  private finish(to: NodeId, s: OutgoingSession, ok: boolean): void {
    this.runtime.clearTimeout(s.timer);
    if (this.sessions.get(to) === s) this.sessions.delete(to);
    if (!this.closed) this.deps.report(to, ok);
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) {
      this.runtime.clearTimeout(s.timer);
      this.fail(s, 'closed');
    }
  }
}

interface IncomingSession {
  sid: number;
  from: NodeId;
  /** Opened lazily on the first chunk, so a flood of begin frames costs no storage work. */
  receiving: Promise<Receiving> | undefined;
  /** Storage work of this session runs one step at a time on this chain. */
  chain: Promise<void>;
  /** Chunks queued on the chain and not yet written: bounded by the sender's window. */
  queued: number;
  nextSeq: number;
  timer: TimerHandle;
  /** Set once every chunk is stored and the message was stepped into the core. */
  deliveredAtRound: number | undefined;
  /** The metadata of the snapshot message delivered: take(meta) hands over only a matching stream. */
  meta: SnapshotMeta | undefined;
  /** take() handed the staged data to the host for installation. */
  taken: boolean;
  failed: boolean;
}

export class SnapshotReceiverSlot {
  /** The stream being received. */
  private current: IncomingSession | undefined;
  /**
   * The stream stepped into the core, until the next Ready installs it (take) or passes it by
   * (afterReady). A new stream neither aborts it nor touches storage meanwhile: the store stages one
   * receive at a time, so a new one would supersede the data the core is about to install.
   */
  private handover: IncomingSession | undefined;
  /** Resolves when no hand-over is pending: a new stream's storage work waits on it. */
  private handoverDone: Promise<void> = Promise.resolve();
  private endHandover: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly self: NodeId,
    private readonly transport: Transport,
    private readonly runtime: Pick<HostRuntime, 'setTimeout' | 'clearTimeout'>,
    private readonly opts: Pick<NodeOptions, 'snapshotInstallTimeoutMs'>,
    private readonly log: Logger,
    private readonly deps: { begin(): Promise<Receiving>; deliver(msg: Message, from: NodeId): void; round(): number; leader(): NodeId },
  ) {}

  onFrame(from: NodeId, frame: PeerFrame): void {
    if (this.closed) return;
    if (frame.k === 'snap-begin') return this.begin(from, frame.sid);
    const s = this.current;
    if (!s || s.from !== from || !('sid' in frame) || frame.sid !== s.sid || s.failed) return;
    if (frame.k === 'snap-chunk') this.chunk(s, frame.seq, frame.data);
    else if (frame.k === 'snap-end') this.end(s, frame.msg);
    else if (frame.k === 'snap-abort') this.abort(s, `sender aborted: ${String(frame.reason)}`, false);
  }

  private begin(from: NodeId, sid: unknown): void {
    // Snapshots come from the leader only (§7); from anyone else they are stale or hostile. (A node that
    // does not know the leader yet accepts the stream; the core still judges the snapshot message.)
    const leader = this.deps.leader();
    if (typeof sid !== 'number' || !Number.isSafeInteger(sid) || (leader !== 0 && from !== leader)) return;
    if (this.handover && this.handover.from === from && this.handover.sid === sid) return; // duplicate of the delivered one
    if (this.current) {
      if (this.current.from === from && this.current.sid === sid) return; // duplicate
      this.abort(this.current, 'superseded by a newer snapshot', false);
    }
    const s: IncomingSession = {
      sid,
      from,
      receiving: undefined,
      chain: Promise.resolve(),
      queued: 0,
      nextSeq: 0,
      timer: this.runtime.setTimeout(() => this.abort(s, 'install timeout', true), this.opts.snapshotInstallTimeoutMs),
      deliveredAtRound: undefined,
      meta: undefined,
      taken: false,
      failed: false,
    };
    s.chain = this.handoverDone;
    this.current = s;
  }

  private chunk(s: IncomingSession, seq: unknown, data: unknown): void {
    // A session's chunks come in order; one seen already is a duplicate (a network that repeats frames): no news.
    if (typeof seq === 'number' && seq < s.nextSeq && data instanceof Uint8Array) return;
    if (seq !== s.nextSeq || !(data instanceof Uint8Array)) return this.abort(s, 'chunk out of order or malformed', true);
    if (s.queued >= 2 * WINDOW) return this.abort(s, 'sender ignored the chunk window', true);
    s.nextSeq++;
    s.queued++;
    this.run(s, async () => {
      s.receiving ??= this.deps.begin(); // on the chain: after any pending hand-over
      await (await s.receiving).write(data);
      s.queued--;
      this.transport.sendFrame(s.from, { k: 'snap-ack', sid: s.sid, from: this.self, seq: seq as number });
    });
  }

  private end(s: IncomingSession, msg: Message): void {
    this.run(s, async () => {
      if (!s.receiving) throw new Error('snapshot ended before any chunk');
      const receiving = await s.receiving;
      // Only a whole stream of the snapshot the message names goes to the core: once the core accepts the message
      // its log moves to that point, and an install that fails then ends the node. A repeated begin and end of a
      // finished session, with a chunk lost between, would otherwise get there (simulation seed 50979, 7 nodes).
      if (typeof msg === 'object' && msg !== null && msg.type === 'snapshot') await receiving.check(msg.snapshot);
      if (this.current !== s) return;
      // Complete: from now on only the core decides (within its next Ready), not the install timer.
      this.runtime.clearTimeout(s.timer);
      this.current = undefined;
      this.handover = s;
      this.handoverDone = new Promise((resolve) => (this.endHandover = resolve));
      s.meta = typeof msg === 'object' && msg !== null && msg.type === 'snapshot' ? msg.snapshot : undefined;
      s.deliveredAtRound = this.deps.round();
      this.deps.deliver(msg, s.from);
    });
  }

  private run(s: IncomingSession, step: () => Promise<void>): void {
    s.chain = s.chain
      .then(() => (s.failed ? undefined : step()))
      .catch((err) => this.abort(s, String(err), true));
  }

  /** The core accepted snapshot `meta`: hand over the staged data of the stream delivered with that metadata. */
  async take(meta: SnapshotMeta): Promise<Receiving | undefined> {
    const s = this.handover;
    if (!s || s.failed || s.taken || !s.receiving || !s.meta || s.meta.index !== meta.index || s.meta.term !== meta.term) return undefined;
    s.taken = true;
    this.log.debug({ node: this.self, from: s.from, index: meta.index }, 'installing received snapshot');
    return s.receiving;
  }

  /**
   * Called after each Ready (and after its install, if any): the hand-over ends. A delivered snapshot
   * the core did not install (stale) is discarded; then the next stream may use storage.
   */
  afterReady(round: number): void {
    const s = this.handover;
    if (!s || (!s.taken && round <= s.deliveredAtRound!)) return;
    this.handover = undefined;
    if (!s.taken) this.abort(s, 'rejected by the core', false);
    const done = this.endHandover;
    this.endHandover = undefined;
    void s.chain.then(done, done);
  }

  private abort(s: IncomingSession, reason: string, tellSender: boolean): void {
    if (s.failed) return;
    s.failed = true;
    this.runtime.clearTimeout(s.timer);
    if (this.current === s) this.current = undefined;
    this.log.warn({ node: this.self, from: s.from, reason }, 'snapshot receive aborted');
    if (tellSender) this.transport.sendFrame(s.from, { k: 'snap-abort', sid: s.sid, from: this.self, reason });
    const receiving = s.receiving;
    if (receiving) s.chain = s.chain.then(() => receiving).then((r) => r.abort()).catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    if (this.current) this.abort(this.current, 'closed', false);
    if (this.handover && !this.handover.taken) this.abort(this.handover, 'closed', false);
    this.handover = undefined;
    this.endHandover?.();
  }
}
