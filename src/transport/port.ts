// The MessagePort transport: a full mesh of MessageChannels created by the coordinator.
// Raft messages are grouped per destination and encoded once per Ready (msgpackr); the encoded
// bytes are copied out of msgpackr's shared buffer and transferred, not cloned.
import type { MessagePort } from 'node:worker_threads';
import type { Message, NodeId } from '../raft/types.js';
import { packCopy, unpackBytes } from '../util/pack.js';
import type { LinkFaults, PeerFrame, Transport } from './types.js';

export function encodeFrame(frame: PeerFrame): Uint8Array {
  return packCopy(frame); // its own ArrayBuffer: safe to transfer
}

export function decodeFrame(bytes: Uint8Array): PeerFrame {
  return unpackBytes<PeerFrame>(bytes);
}

/** Raft messages grouped per destination, in order: one frame per peer. */
export function groupByPeer(msgs: Message[]): Map<NodeId, Message[]> {
  const byPeer = new Map<NodeId, Message[]>();
  for (const m of msgs) {
    let list = byPeer.get(m.to);
    if (!list) byPeer.set(m.to, (list = []));
    list.push(m);
  }
  return byPeer;
}

export interface PortTransportStats {
  framesSent: number;
  framesDropped: number;
  framesReceived: number;
  badFrames: number;
}

export class PortTransport implements Transport {
  private readonly ports = new Map<NodeId, MessagePort>();
  private handler: ((from: NodeId, frame: PeerFrame) => void) | undefined;
  private faults: LinkFaults = { blocked: [], dropRate: 0, delayMs: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly stats: PortTransportStats = { framesSent: 0, framesDropped: 0, framesReceived: 0, badFrames: 0 };
  private closed = false;

  constructor(
    private readonly random: () => number,
    private readonly onBadFrame: (from: NodeId, err: unknown) => void,
  ) {}

  /** Attach (or replace, after the peer restarted) the port to `peer`. */
  setPort(peer: NodeId, port: MessagePort): void {
    const old = this.ports.get(peer);
    if (old) old.close();
    this.ports.set(peer, port);
    port.on('message', (data: unknown) => this.receive(peer, data));
    port.on('messageerror', (err) => this.onBadFrame(peer, err));
  }

  setFaults(faults: LinkFaults): void {
    this.faults = { blocked: [...faults.blocked], dropRate: faults.dropRate, delayMs: faults.delayMs };
  }

  onFrame(handler: (from: NodeId, frame: PeerFrame) => void): void {
    this.handler = handler;
  }

  sendRaft(msgs: Message[]): void {
    if (msgs.length === 0) return;
    if (msgs.length === 1) {
      const m = msgs[0]!;
      this.sendFrame(m.to, { k: 'raft', msgs });
      return;
    }
    for (const [to, list] of groupByPeer(msgs)) this.sendFrame(to, { k: 'raft', msgs: list });
  }

  sendFrame(to: NodeId, frame: PeerFrame): void {
    if (this.closed) return;
    const port = this.ports.get(to);
    const f = this.faults;
    if (!port || f.blocked.includes(to) || (f.dropRate > 0 && this.random() < f.dropRate)) {
      this.stats.framesDropped++;
      return;
    }
    const bytes = encodeFrame(frame);
    this.stats.framesSent++;
    if (f.delayMs > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.closed) port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
      }, f.delayMs);
      this.timers.add(timer);
      return;
    }
    port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  }

  /** Test-only: handle `data` as if it had arrived from `from` (fuzzing the receive path of a live node). */
  inject(from: NodeId, data: unknown): void {
    this.receive(from, data);
  }

  private receive(from: NodeId, data: unknown): void {
    if (this.closed || !this.handler) return;
    this.stats.framesReceived++;
    let frame: PeerFrame;
    try {
      if (!(data instanceof Uint8Array)) throw new Error('frame is not bytes');
      frame = decodeFrame(data);
      if (frame === null || typeof frame !== 'object' || typeof (frame as { k?: unknown }).k !== 'string') {
        throw new Error('frame has no kind');
      }
    } catch (err) {
      this.stats.badFrames++;
      this.onBadFrame(from, err);
      return;
    }
    this.handler(from, frame);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const p of this.ports.values()) p.close();
    this.ports.clear();
  }
}
