import type { Message, NodeId } from '../raft/types.js';

/** A frame between two nodes: a batch of raft messages, or one step of a snapshot stream. */
export type PeerFrame =
  | { k: 'raft'; msgs: Message[] }
  | { k: 'snap-begin'; sid: number; from: NodeId }
  | { k: 'snap-chunk'; sid: number; from: NodeId; seq: number; data: Uint8Array }
  | { k: 'snap-end'; sid: number; from: NodeId; msg: Message }
  | { k: 'snap-ack'; sid: number; from: NodeId; seq: number }
  | { k: 'snap-abort'; sid: number; from: NodeId; reason: string };

/** How a node reaches its peers. One implementation over MessagePorts; the simulation has its own. */
export interface Transport {
  /** Send raft messages, grouped per destination, one frame per peer. */
  sendRaft(msgs: Message[]): void;
  sendFrame(to: NodeId, frame: PeerFrame): void;
  onFrame(handler: (from: NodeId, frame: PeerFrame) => void): void;
  close(): void;
}

/** Per-link fault injection, applied by the sender. */
export interface LinkFaults {
  /** Peers this node cannot reach (partition). */
  blocked: NodeId[];
  /** Probability in [0, 1] that a message to a peer is dropped. */
  dropRate: number;
  /** Added one-way delay in ms for messages to peers. */
  delayMs: number;
}
