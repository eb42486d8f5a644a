// Test harness for the pure core: build nodes, run Ready loops by hand, deliver messages with filters.
import { Raft, type Entry, type InitialState, type Message, type NodeId, type RaftConfig, type Ready, type ReadState } from '../../src/raft/index.js';
import { Prng } from '../sim/prng.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export function config(id: NodeId, voters: NodeId[], over: Partial<RaftConfig> = {}): RaftConfig {
  const rng = Prng.derive(7, id);
  return {
    id,
    voters,
    heartbeatTicks: 1,
    electionTimeoutMinTicks: 10,
    electionTimeoutMaxTicks: 20,
    preVote: false,
    checkQuorum: false,
    maxInflightMsgs: 256,
    maxInflightBytes: 1 << 20,
    maxMsgBytes: 1 << 20,
    maxApplyBytes: 1 << 20,
    random: (n) => rng.int(n),
    ...over,
  };
}

export function empty(over: Partial<InitialState> = {}): InitialState {
  return { hardState: { term: 0, vote: 0, commit: 0 }, snapshot: undefined, entries: [], applied: 0, ...over };
}

export function entries(...terms: number[]): Entry[] {
  return terms.map((term, i) => ({ term, index: i + 1, type: 0, data: enc(`e${i + 1}`) }));
}

/** One full host round: ready, (persist), advance. Returns the Ready. */
export function roundTrip(r: Raft): Ready {
  const rd = r.ready();
  r.advance(rd);
  return rd;
}

export type Filter = (m: Message) => boolean;

/** A cluster of cores with a manual network: every message is queued until deliver() runs. */
export class Cluster {
  readonly nodes = new Map<NodeId, Raft>();
  queue: Message[] = [];
  /** Messages for which this returns false are dropped. */
  filter: Filter = () => true;
  readonly applied = new Map<NodeId, Entry[]>();
  readonly reads = new Map<NodeId, ReadState[]>();

  constructor(
    readonly ids: NodeId[],
    over: Partial<RaftConfig> = {},
    initial: (id: NodeId) => InitialState = () => empty(),
  ) {
    for (const id of ids) {
      this.nodes.set(id, new Raft(config(id, ids, over), initial(id)));
      this.applied.set(id, []);
      this.reads.set(id, []);
    }
  }

  get(id: NodeId): Raft {
    const r = this.nodes.get(id);
    if (r === undefined) throw new Error(`no node ${id}`);
    return r;
  }

  /** Run every node's Ready loop once, queueing its messages. */
  flush(): void {
    for (const [id, r] of this.nodes) {
      while (r.hasReady()) {
        const rd = r.ready();
        this.queue.push(...rd.messages, ...rd.persistedMessages);
        this.applied.get(id)?.push(...rd.committedEntries);
        this.reads.get(id)?.push(...rd.readStates);
        r.advance(rd);
      }
    }
  }

  /** Deliver and flush until the network is quiet (bounded). */
  stabilize(maxRounds = 100): void {
    for (let i = 0; i < maxRounds; i++) {
      this.flush();
      if (this.queue.length === 0) return;
      const q = this.queue;
      this.queue = [];
      for (const m of q) if (this.filter(m)) this.nodes.get(m.to)?.step(m);
    }
    throw new Error('cluster did not stabilize');
  }

  tick(n: number, ids: NodeId[] = this.ids): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids) this.get(id).tick();
      this.stabilize();
    }
  }

  isolate(id: NodeId): void {
    this.filter = (m) => m.from !== id && m.to !== id;
  }

  heal(): void {
    this.filter = () => true;
  }

  leader(): NodeId {
    const ls = this.ids.filter((id) => this.get(id).status().role === 'leader');
    if (ls.length !== 1) throw new Error(`expected one leader, found ${ls.length}`);
    return ls[0] as NodeId;
  }
}
