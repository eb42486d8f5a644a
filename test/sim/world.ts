// The simulated world the real NodeHosts run in: one event queue in simulated time, each node's drifting
// clock and timers on it (runtime.ts's HostRuntime), a network of frames between nodes (transport/types.ts's
// Transport), and pauses (a node whose event loop is stalled runs nothing until the pause ends, then its
// interval timer fires once: dropped ticks, as Node's setInterval drops them).
import type { NodeId } from '../../src/raft/index.js';
import type { HostRuntime, TimerHandle } from '../../src/node/runtime.js';
import type { LinkFaults, PeerFrame, Transport } from '../../src/transport/types.js';
import type { Message } from '../../src/raft/index.js';
import { decodeFrame, encodeFrame, groupByPeer } from '../../src/transport/port.js';
import { Prng } from './prng.js';
import { MinHeap } from '../../src/util/heap.js';

/** SIM_TRACE=1: print every frame sent (replaying one seed). */
const TRACE = process.env['SIM_TRACE'] === '1';
/** The wall clock of every simulated node at simulated time 0 (ms since the epoch). */
const SIM_EPOCH_MS = 1_700_000_000_000;

interface SimEvent {
  at: number;
  seq: number;
  /** The node (and its incarnation) whose event loop runs it; 0 for the world's own events. */
  node: NodeId;
  incarnation: number;
  run: () => void;
  cancelled: boolean;
}

/** Events in (at, seq) order: equal times run in the order they were scheduled. */
function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Per-node conditions the world applies: clock rate, pauses, and the incarnation whose events still run. */
export interface NodeClock {
  /** Local milliseconds per simulated millisecond (1 = no drift). */
  rate: number;
  offset: number;
  incarnation: number;
  alive: boolean;
  /** Simulated time until which this node's event loop is stalled. */
  pausedUntil: number;
  /** Probability that one firing of an interval timer is skipped (an event loop too busy to run it in time). */
  dropTickRate: number;
}

export interface NetFaults {
  /** Directed links that drop everything: `${from}>${to}`. */
  blocked: Set<string>;
  dropRate: number;
  duplicateRate: number;
  /** Extra delay drawn in [0, maxExtraDelayMs) per frame. */
  maxExtraDelayMs: number;
}

export class World {
  now = 0;
  private seq = 0;
  private readonly queue = new MinHeap<SimEvent>(before);
  readonly clocks = new Map<NodeId, NodeClock>();
  private readonly handlers = new Map<NodeId, (from: NodeId, frame: PeerFrame) => void>();
  /** Per directed link, when its last frame lands (links are FIFO). */
  private readonly linkFree = new Map<string, number>();
  readonly net: NetFaults = { blocked: new Set(), dropRate: 0, duplicateRate: 0, maxExtraDelayMs: 0 };
  readonly stats = { events: 0, frames: 0, framesDropped: 0, framesDuplicated: 0, snapFramesDropped: 0, snapFramesDuplicated: 0, ticksDropped: 0 };

  constructor(private readonly rng: Prng) {}

  clock(id: NodeId): NodeClock {
    const c = this.clocks.get(id);
    if (!c) throw new Error(`sim: no clock for node ${id}`);
    return c;
  }

  /** Schedule `run` on `node`'s event loop (0: the world's) `delay` simulated ms from now. */
  schedule(node: NodeId, delay: number, run: () => void): SimEvent {
    const incarnation = node === 0 ? 0 : this.clock(node).incarnation;
    const e: SimEvent = { at: this.now + Math.max(0, delay), seq: this.seq++, node, incarnation, run, cancelled: false };
    this.queue.push(e);
    return e;
  }

  /**
   * Run every event due up to `until`, in order, letting each one's promise continuations settle before the
   * next (the hosts are async: their storage calls resolve in microtasks). Events of a crashed incarnation are
   * dropped; events of a paused node wait until its pause ends.
   */
  async runUntil(until: number): Promise<void> {
    for (;;) {
      const e = this.queue.peek();
      if (!e || e.at > until) break;
      this.queue.pop();
      if (e.cancelled) continue;
      if (e.node !== 0) {
        const c = this.clock(e.node);
        if (!c.alive || c.incarnation !== e.incarnation) continue;
        if (c.pausedUntil > e.at) {
          e.at = c.pausedUntil;
          e.seq = this.seq++;
          this.queue.push(e);
          continue;
        }
      }
      this.now = Math.max(this.now, e.at);
      this.stats.events++;
      e.run();
      await settle();
    }
    this.now = Math.max(this.now, until);
  }

  /** The HostRuntime of `id`'s current incarnation: its drifting clock and timers on the world's queue. */
  runtime(id: NodeId): HostRuntime {
    const c = this.clock(id);
    const toSim = (ms: number): number => ms / c.rate;
    return {
      now: () => c.offset + this.now * c.rate,
      // A fixed epoch plus the simulated time: entry stamps, and so every run, stay deterministic.
      wallNow: () => SIM_EPOCH_MS + this.now,
      setTimeout: (fn, ms) => this.schedule(id, toSim(ms), fn),
      clearTimeout: (h: TimerHandle) => {
        (h as SimEvent).cancelled = true;
      },
      setInterval: (fn, ms) => {
        const handle = { cancelled: false };
        const fire = (): void => {
          if (handle.cancelled) return;
          // A stalled loop runs an overdue interval once, then waits a whole interval again (Node's behaviour);
          // a busy one sometimes misses a firing altogether. The host counts ticks by its clock either way.
          if (this.rng.chance(c.dropTickRate)) this.stats.ticksDropped++;
          else fn();
          this.schedule(id, toSim(ms), fire);
        };
        this.schedule(id, toSim(ms), fire);
        return handle;
      },
      clearInterval: (h: TimerHandle) => {
        (h as { cancelled: boolean }).cancelled = true;
      },
      setImmediate: (fn) => void this.schedule(id, 0, fn),
    };
  }

  /** The Transport of `id`: frames are encoded as the MessagePort transport encodes them, and delivered later. */
  transport(id: NodeId, incarnation: number): Transport & { setFaults(f: LinkFaults): void } {
    const world = this;
    return {
      sendRaft(msgs: Message[]): void {
        for (const [to, l] of groupByPeer(msgs)) this.sendFrame(to, { k: 'raft', msgs: l });
      },
      sendFrame(to: NodeId, frame: PeerFrame): void {
        if (world.clock(id).incarnation !== incarnation) return;
        world.send(id, to, frame);
      },
      onFrame(handler): void {
        world.handlers.set(id, handler);
      },
      close(): void {},
      setFaults(): void {},
    };
  }

  private send(from: NodeId, to: NodeId, frame: PeerFrame): void {
    if (TRACE) console.log(JSON.stringify({ ms: Math.round(this.now * 10) / 10, from, to, k: frame.k, blocked: this.net.blocked.has(`${from}>${to}`), msgs: frame.k === 'raft' ? frame.msgs.map((m) => m.type).join(',') : '' }));
    this.stats.frames++;
    const snap = frame.k !== 'raft';
    if (this.net.blocked.has(`${from}>${to}`) || this.rng.chance(this.net.dropRate)) {
      this.stats.framesDropped++;
      if (snap) this.stats.snapFramesDropped++;
      return;
    }
    const bytes = encodeFrame(frame);
    const deliver = (): void => {
      const c = this.clock(to);
      const h = this.handlers.get(to);
      if (!c.alive || !h) return;
      h(from, decodeFrame(bytes));
    };
    const delay = (): number => 0.05 + this.rng.next() * 1.5 + (this.net.maxExtraDelayMs > 0 ? this.rng.next() * this.net.maxExtraDelayMs : 0);
    // A link is FIFO, as a MessageChannel is: a frame never lands before one sent earlier on the same link.
    const link = `${from}>${to}`;
    const at = Math.max(this.now + delay(), this.linkFree.get(link) ?? 0);
    this.linkFree.set(link, at);
    this.deliverLater(to, at - this.now, deliver);
    if (this.rng.chance(this.net.duplicateRate)) {
      // A duplicate lands later, anywhere among the frames after it (the one fault that reorders a link).
      this.stats.framesDuplicated++;
      if (snap) this.stats.snapFramesDuplicated++;
      this.deliverLater(to, at - this.now + this.rng.next() * 5, deliver);
    }
  }

  private deliverLater(to: NodeId, delay: number, deliver: () => void): void {
    // Scheduled as a world event that hands the frame to whichever incarnation of `to` is up when it lands.
    this.schedule(0, delay, () => {
      const c = this.clock(to);
      if (!c.alive) return;
      this.schedule(to, 0, deliver);
    });
  }

  forget(id: NodeId): void {
    this.handlers.delete(id);
  }
}

/**
 * Let every promise continuation queued so far run, and those they queue. A process.nextTick queued from a
 * microtask runs only once V8 has drained the whole microtask queue (Node's processTicksAndRejections), so it
 * waits exactly as long as a setImmediate would (the hosts queue nothing of their own on Node's loop: their
 * timers and setImmediate are the world's events), without a turn of libuv's loop per event: half the wall time.
 * Seeds replay unchanged: the summaries of 750 seeds in five configurations (membership changes, triple faults,
 * one-byte messages) were identical either way.
 */
function settle(): Promise<void> {
  return new Promise((r) => process.nextTick(r));
}
