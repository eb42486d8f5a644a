// Deterministic simulation of a whole cluster on one thread (TigerBeetle's VOPR, FoundationDB style):
// seeded randomness, a simulated clock and network, crashes that keep only what was persisted, and the
// safety properties of Raft's Figure 3 checked after every step. Replay any seed with `SEED=<n> npm run sim`.
import { Raft, RaftInvariantError } from '../../src/raft/index.js';
import type { Entry, HardState, InitialState, Message, NodeId, RaftConfig, Ready, SnapshotMeta } from '../../src/raft/index.js';
import { Prng } from './prng.js';

export type Property =
  | 'Election Safety'
  | 'Leader Append-Only'
  | 'Log Matching'
  | 'Leader Completeness'
  | 'State Machine Safety'
  | 'Committed Entry Lost'
  | 'Read Linearizability'
  | 'Liveness'
  | 'Core Invariant';

export class SimViolation extends Error {
  constructor(
    readonly property: Property,
    detail: string,
    readonly step: number,
  ) {
    super(`${property} violated at step ${step}: ${detail}`);
    this.name = 'SimViolation';
  }
}

export interface SimOptions {
  seed: number;
  nodes: number;
  steps: number;
  testBreak?: RaftConfig['testBreak'];
  /** Fault intensity multiplier (1 = default). */
  chaos?: number;
  /** Fixed config values instead of the seed's random choice (e.g. maxMsgBytes: 1 for one entry per append). */
  overrides?: Partial<Pick<RaftConfig, 'preVote' | 'checkQuorum' | 'maxInflightMsgs' | 'maxInflightBytes' | 'maxMsgBytes' | 'maxApplyBytes'>>;
}

export interface SimSummary {
  seed: number;
  nodes: number;
  steps: number;
  ok: boolean;
  violation?: { property: Property; message: string; step: number };
  elections: number;
  leaderships: number;
  maxTerm: number;
  committed: number;
  applied: number;
  proposals: number;
  readsServed: number;
  snapshotsSent: number;
  snapshotsInstalled: number;
  compactions: number;
  transfers: number;
  faults: { crashes: number; crashesMidReady: number; restarts: number; partitions: number; dropped: number; duplicated: number };
  livenessTicks: number;
  config: { preVote: boolean; checkQuorum: boolean; maxInflightMsgs: number; maxMsgBytes: number };
}

/** The state machine: a hash chain over applied entries, so two replicas agree iff they applied the same sequence. */
interface SmState {
  index: number;
  term: number;
  hash: number;
}

interface Storage {
  hardState: HardState;
  snapshot: { meta: SnapshotMeta; sm: SmState } | undefined;
  entries: Entry[];
}

interface SimNode {
  id: NodeId;
  incarnation: number;
  raft: Raft | undefined;
  storage: Storage;
  /** Durable, like an LMDB state machine: applied entries survive a crash. */
  sm: SmState;
  /** Readies handed out whose host stages are not all done, oldest first (several with asynchronous storage writes). */
  pending: Array<{ rd: Ready; stage: number }>;
  /** Snapshot data streamed beside a snapshot message, awaiting installation (keyed index:term). */
  incoming: Map<string, SmState>;
  /** Highest commit index already registered as committed. */
  commitChecked: number;
  leaderMark: { term: number; lastIndex: number; last: Entry | undefined } | undefined;
}

interface InFlight {
  msg: Message;
  deliverAt: number;
  /** Snapshot data travelling with a snapshot message, and the sender's incarnation for reportSnapshot. */
  snap?: SmState;
  senderIncarnation: number;
}

const HEARTBEAT = 2;
const ELECTION_MIN = 10;
const ELECTION_MAX = 20;

function dataKey(e: { type: number; data: Uint8Array }): string {
  return `${e.type}:${String.fromCharCode(...e.data)}`;
}

function mix(hash: number, e: Entry): number {
  let h = (hash ^ Math.imul(e.index, 0x9e3779b1) ^ Math.imul(e.term, 0x85ebca6b)) >>> 0;
  for (const b of e.data) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
}

export class Simulation {
  private readonly rng: Prng;
  private readonly nodes: SimNode[] = [];
  private readonly ids: NodeId[];
  private net: InFlight[] = [];
  private group = new Map<NodeId, number>();
  private now = 0;
  private stepNo = 0;
  private readonly chaos: number;
  private readonly base: Omit<RaftConfig, 'id' | 'random'>;

  // Global observations for the property checks.
  private leaderOfTerm = new Map<number, NodeId>();
  private logIds = new Map<string, { data: string; prevTerm: number | undefined }>();
  private committed = new Map<number, { term: number; data: string; observerTerm: number }>();
  private maxCommitted = 0;
  private smHashAt = new Map<number, number>();
  private readMin = new Map<number, number>();
  private nextReadId = 1;
  private nextValue = 1;

  readonly summary: SimSummary;

  constructor(private readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    this.chaos = opts.chaos ?? 1;
    this.ids = Array.from({ length: opts.nodes }, (_, i) => i + 1);
    const r = Prng.derive(opts.seed, 999);
    this.base = {
      voters: this.ids,
      heartbeatTicks: HEARTBEAT,
      electionTimeoutMinTicks: ELECTION_MIN,
      electionTimeoutMaxTicks: ELECTION_MAX,
      preVote: r.chance(0.7),
      checkQuorum: r.chance(0.7),
      maxInflightMsgs: 1 + r.int(4),
      maxInflightBytes: 16 + r.int(64),
      maxMsgBytes: 8 + r.int(32),
      maxApplyBytes: 8 + r.int(32),
      // Asynchronous storage writes (the host's default): up to this many Readies in flight at once.
      maxOutstandingReadies: 1 + r.int(4),
      ...(opts.testBreak === undefined ? {} : { testBreak: opts.testBreak }),
      ...opts.overrides,
    };
    this.summary = {
      seed: opts.seed,
      nodes: opts.nodes,
      steps: opts.steps,
      ok: true,
      elections: 0,
      leaderships: 0,
      maxTerm: 0,
      committed: 0,
      applied: 0,
      proposals: 0,
      readsServed: 0,
      snapshotsSent: 0,
      snapshotsInstalled: 0,
      compactions: 0,
      transfers: 0,
      faults: { crashes: 0, crashesMidReady: 0, restarts: 0, partitions: 0, dropped: 0, duplicated: 0 },
      livenessTicks: 0,
      config: {
        preVote: this.base.preVote,
        checkQuorum: this.base.checkQuorum,
        maxInflightMsgs: this.base.maxInflightMsgs,
        maxMsgBytes: this.base.maxMsgBytes,
      },
    };
    for (const id of this.ids) {
      const node: SimNode = {
        id,
        incarnation: 0,
        raft: undefined,
        storage: { hardState: { term: 0, vote: 0, commit: 0 }, snapshot: undefined, entries: [] },
        sm: { index: 0, term: 0, hash: 0 },
        pending: [],
        incoming: new Map(),
        commitChecked: 0,
        leaderMark: undefined,
      };
      this.nodes.push(node);
      this.start(node);
      this.group.set(id, 0);
    }
  }

  /** Runs the chaos phase then the liveness phase; never throws (violations go into the summary). */
  run(): SimSummary {
    try {
      for (this.stepNo = 1; this.stepNo <= this.opts.steps; this.stepNo++) {
        this.chaosStep();
        this.processReadies(0.3);
        this.checkSafety();
      }
      this.checkLiveness();
    } catch (err) {
      this.summary.ok = false;
      if (err instanceof SimViolation) {
        this.summary.violation = { property: err.property, message: err.message, step: err.step };
      } else {
        const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        const property: Property = err instanceof RaftInvariantError ? 'Core Invariant' : 'Core Invariant';
        this.summary.violation = { property, message: `at step ${this.stepNo}: ${message}`, step: this.stepNo };
      }
    }
    this.finishSummary();
    return this.summary;
  }

  // ───────────────────────────── Nodes ─────────────────────────────

  private start(node: SimNode): void {
    const random = Prng.derive(this.opts.seed, node.id * 1000 + node.incarnation);
    const config: RaftConfig = { ...this.base, id: node.id, random: (n) => random.int(n) };
    const st = node.storage;
    const initial: InitialState = {
      hardState: { ...st.hardState },
      snapshot: st.snapshot?.meta,
      entries: [...st.entries],
      applied: node.sm.index,
    };
    node.raft = new Raft(config, initial);
    node.commitChecked = Math.max(node.raft.log.snapshotIndex, node.commitChecked === 0 ? 0 : 0);
    node.leaderMark = undefined;
  }

  private crash(node: SimNode): void {
    if (node.raft === undefined) return;
    this.collectStats(node.raft);
    node.raft = undefined;
    node.pending = [];
    node.incoming.clear();
    this.summary.faults.crashes++;
  }

  private restart(node: SimNode): void {
    if (node.raft !== undefined) return;
    node.incarnation++;
    this.start(node);
    this.summary.faults.restarts++;
  }

  private alive(): SimNode[] {
    return this.nodes.filter((n) => n.raft !== undefined);
  }

  private node(id: NodeId): SimNode {
    const n = this.nodes[id - 1];
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  private collectStats(r: Raft): void {
    this.summary.elections += r.stats.elections;
    this.summary.leaderships += r.stats.leaderships;
    this.summary.snapshotsSent += r.stats.snapshotsSent;
  }

  // ───────────────────────────── The chaos phase ─────────────────────────────

  private chaosStep(): void {
    const x = this.rng.next();
    const c = this.chaos;
    if (x < 0.15) return this.tickAll();
    if (x < 0.8) return this.deliverSome(1 + this.rng.int(this.opts.nodes));
    const actions: [number, () => void][] = [
      [0.3, () => this.clientPropose()],
      [0.15, () => this.clientRead()],
      [0.05, () => this.compactSome()],
      [0.02, () => this.transfer()],
      [0.03 * c, () => this.crashSome()],
      [0.03 * c, () => this.crashMidReady()],
      [0.08, () => this.restartSome()],
      [0.02 * c, () => this.partition()],
      [0.04, () => this.heal()],
    ];
    let y = this.rng.next();
    for (const [weight, action] of actions) {
      if (y < weight) return action();
      y -= weight;
    }
    return this.tickAll();
  }

  private tickAll(): void {
    this.now++;
    for (const n of this.alive()) n.raft?.tick();
  }

  private connected(a: NodeId, b: NodeId): boolean {
    return this.group.get(a) === this.group.get(b);
  }

  private send(from: SimNode, msg: Message, lossy: boolean): void {
    const delay = this.rng.int(4);
    const entry: InFlight = { msg, deliverAt: this.now + delay, senderIncarnation: from.incarnation };
    if (msg.type === 'snapshot') {
      entry.snap = this.attachSnapshot(from, msg);
      this.net.push(entry);
      return;
    }
    if (lossy && this.rng.chance(0.05 * this.chaos)) {
      this.summary.faults.dropped++;
      return;
    }
    this.net.push(entry);
    if (lossy && this.rng.chance(0.03 * this.chaos)) {
      this.summary.faults.duplicated++;
      this.net.push({ ...entry, deliverAt: this.now + this.rng.int(6) });
    }
  }

  /** The host streams snapshot data beside the message; it may rewrite the meta to its newer applied point. */
  private attachSnapshot(from: SimNode, msg: Message & { type: 'snapshot' }): SmState {
    const stored = from.storage.snapshot;
    if (from.sm.index > msg.snapshot.index && this.rng.chance(0.5)) {
      msg.snapshot = { index: from.sm.index, term: from.sm.term, membership: { voters: [...this.ids] } };
      return { ...from.sm };
    }
    if (stored !== undefined && stored.meta.index === msg.snapshot.index) return { ...stored.sm };
    if (from.sm.index >= msg.snapshot.index) {
      msg.snapshot = { index: from.sm.index, term: from.sm.term, membership: { voters: [...this.ids] } };
      return { ...from.sm };
    }
    throw new Error(`sim: node ${from.id} has no snapshot data for index ${msg.snapshot.index}`);
  }

  /** Delivers up to `count` due messages, each picked at random among the due ones (reordering). */
  private deliverSome(count: number): void {
    const due: number[] = [];
    for (let i = 0; i < this.net.length; i++) if ((this.net[i]?.deliverAt ?? Infinity) <= this.now) due.push(i);
    if (due.length === 0) return this.tickAll();
    const picked = new Set<number>();
    for (let k = 0; k < count && picked.size < due.length; k++) {
      const i = this.rng.pick(due);
      if (i !== undefined) picked.add(i);
    }
    const batch = [...picked].sort((a, b) => a - b).map((i) => this.net[i]);
    this.net = this.net.filter((_, i) => !picked.has(i));
    for (const f of batch) if (f !== undefined) this.deliver(f);
  }

  private deliver(f: InFlight): void {
    const { msg } = f;
    const to = this.node(msg.to);
    const sender = this.node(msg.from);
    const ok = to.raft !== undefined && this.connected(msg.from, msg.to);
    if (msg.type === 'snapshot') {
      if (ok && f.snap !== undefined) {
        to.incoming.set(`${msg.snapshot.index}:${msg.snapshot.term}`, f.snap);
        to.raft?.step(msg);
      }
      if (sender.raft !== undefined && sender.incarnation === f.senderIncarnation) sender.raft.reportSnapshot(msg.to, ok);
      return;
    }
    if (ok) to.raft?.step(msg);
  }

  /** Clients mostly find the leader (some node that believes it leads), sometimes ask anyone. */
  private clientTarget(): SimNode | undefined {
    const leaders = this.alive().filter((n) => n.raft?.status().role === 'leader');
    return this.rng.chance(0.8) && leaders.length > 0 ? this.rng.pick(leaders) : this.rng.pick(this.alive());
  }

  private clientPropose(): void {
    const target = this.clientTarget();
    if (target?.raft === undefined) return;
    const count = 1 + this.rng.int(3);
    const datas = Array.from({ length: count }, () => new TextEncoder().encode(`v${this.nextValue++}`));
    const r = target.raft.propose(datas);
    if (r.ok) this.summary.proposals += count;
  }

  private clientRead(): void {
    const target = this.clientTarget();
    if (target?.raft === undefined) return;
    const id = this.nextReadId++;
    this.readMin.set(id, this.maxCommitted);
    const r = this.rng.chance(0.5) ? target.raft.leaseRead(id) : target.raft.readIndex(id);
    if (!r.ok) this.readMin.delete(id);
  }

  private compactSome(): void {
    const n = this.rng.pick(this.alive());
    if (n?.raft === undefined || n.pending.length > 0) return;
    const snapIndex = n.raft.log.snapshotIndex;
    if (n.sm.index - snapIndex < 5) return;
    const meta: SnapshotMeta = { index: n.sm.index, term: n.sm.term, membership: { voters: [...this.ids] } };
    n.storage.snapshot = { meta, sm: { ...n.sm } };
    n.storage.entries = n.storage.entries.filter((e) => e.index > meta.index);
    n.raft.compact(meta);
    this.summary.compactions++;
  }

  private transfer(): void {
    const leader = this.alive().find((n) => n.raft?.status().role === 'leader');
    const to = this.rng.pick(this.ids.filter((id) => id !== leader?.id));
    if (leader?.raft === undefined || to === undefined) return;
    if (leader.raft.transferLeadership(to)) this.summary.transfers++;
  }

  private crashSome(): void {
    const n = this.rng.pick(this.alive());
    if (n !== undefined && this.alive().length > 1) this.crash(n);
  }

  private restartSome(): void {
    const n = this.rng.pick(this.nodes.filter((x) => x.raft === undefined));
    if (n !== undefined) this.restart(n);
  }

  private partition(): void {
    for (const id of this.ids) this.group.set(id, this.rng.int(2));
    this.summary.faults.partitions++;
  }

  private heal(): void {
    for (const id of this.ids) this.group.set(id, 0);
  }

  /** A crash between any two steps of the host's Ready loop loses everything after it. */
  private crashMidReady(): void {
    const n = this.rng.pick(this.alive().filter((x) => x.pending.length > 0));
    if (n === undefined) return;
    this.runStages(n, 1 + this.rng.int(5));
    this.crash(n);
    this.summary.faults.crashesMidReady++;
  }

  // ───────────────────────────── The host's Ready loop ─────────────────────────────

  /** `asyncChance`: probability that a node's persistence is still "in flight" this step (the core keeps stepping). */
  private processReadies(asyncChance: number): void {
    for (const n of this.nodes) {
      for (let round = 0; round < 4 && n.raft !== undefined; round++) {
        const canTake = n.raft.hasReady();
        if (n.pending.length > 0 && (!canTake || this.rng.chance(0.5))) {
          if (this.rng.chance(asyncChance)) break;
          this.runStages(n, 6);
          continue;
        }
        if (!canTake) break;
        this.takeReady(n);
      }
    }
  }

  private takeReady(n: SimNode): void {
    const raft = n.raft;
    if (raft === undefined) return;
    const rd = raft.ready();
    this.checkLogMatching(n, rd.entries);
    // As the host does: installing a snapshot waits until every earlier storage write is done.
    if (rd.snapshot !== undefined) while (n.pending.length > 0 && n.raft !== undefined) this.runStages(n, 6);
    n.pending.push({ rd, stage: 0 });
    // Stage 0: leader appends/heartbeats/snapshots/timeout-now may leave before persistence (§10.2.1).
    for (const m of rd.messages) this.send(n, m, true);
  }

  /** Runs the pending Ready's stages up to and including `upto` (1 snapshot, 2 entries, 3 hard state, 4 persisted messages, 5 apply, 6 advance). */
  private runStages(n: SimNode, upto: number): void {
    const p = n.pending[0];
    if (p === undefined) return;
    while (p.stage < upto && n.raft !== undefined) {
      p.stage++;
      this.runStage(n, p.rd, p.stage);
    }
    if (p.stage >= 6 && n.pending[0] === p) n.pending.shift();
  }

  private runStage(n: SimNode, rd: Ready, stage: number): void {
    const raft = n.raft;
    if (raft === undefined) return;
    switch (stage) {
      case 1:
        if (rd.snapshot !== undefined) this.installSnapshot(n, rd.snapshot);
        return;
      case 2:
        return this.persistEntries(n, rd.entries);
      case 3:
        if (rd.hardState !== undefined) n.storage.hardState = { ...rd.hardState };
        return;
      case 4:
        for (const m of rd.persistedMessages) this.send(n, m, true);
        return;
      case 5:
        for (const e of rd.committedEntries) this.apply(n, e);
        for (const rs of rd.readStates) this.checkRead(n, raft, rs.id, rs.index);
        return;
      case 6:
        return raft.advance(rd);
    }
  }

  private installSnapshot(n: SimNode, meta: SnapshotMeta): void {
    const key = `${meta.index}:${meta.term}`;
    const data = n.incoming.get(key);
    if (data === undefined) throw new Error(`sim: node ${n.id} must install snapshot ${key} but has no data for it`);
    this.checkSmHash(n.id, data);
    n.storage.snapshot = { meta, sm: { ...data } };
    n.storage.entries = [];
    n.sm = { ...data };
    for (const k of [...n.incoming.keys()]) if (Number(k.split(':')[0]) <= meta.index) n.incoming.delete(k);
    this.summary.snapshotsInstalled++;
  }

  private persistEntries(n: SimNode, ents: Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const st = n.storage;
    const base = st.snapshot?.meta.index ?? 0;
    const keep = first.index - base - 1;
    if (keep < 0 || keep > st.entries.length) {
      throw new Error(`sim: node ${n.id} persists entries from ${first.index} but storage holds (${base}, ${base + st.entries.length}]`);
    }
    st.entries.length = keep;
    st.entries.push(...ents);
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index !== n.sm.index + 1) {
      throw new SimViolation('State Machine Safety', `node ${n.id} applies ${e.index} after ${n.sm.index}`, this.stepNo);
    }
    this.registerCommitted(n, e);
    n.sm = { index: e.index, term: e.term, hash: mix(n.sm.hash, e) };
    this.checkSmHash(n.id, n.sm);
    this.summary.applied = Math.max(this.summary.applied, e.index);
  }

  // ───────────────────────────── Properties (Figure 3 and more) ─────────────────────────────

  private checkSafety(): void {
    for (const n of this.nodes) {
      const raft = n.raft;
      if (raft === undefined) continue;
      const s = raft.status();
      this.summary.maxTerm = Math.max(this.summary.maxTerm, s.term);
      if (s.role === 'leader') this.checkLeader(n, raft, s.term);
      else n.leaderMark = undefined;
      this.registerCommits(n, raft, s.term);
    }
  }

  private checkLeader(n: SimNode, raft: Raft, term: number): void {
    // Election Safety: at most one leader per term.
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== n.id) {
      throw new SimViolation('Election Safety', `nodes ${other} and ${n.id} are both leaders of term ${term}`, this.stepNo);
    }
    const log = raft.log;
    const mark = n.leaderMark;
    if (mark === undefined || mark.term !== term) {
      this.leaderOfTerm.set(term, n.id);
      this.checkLeaderCompleteness(n, raft, term);
    } else if (log.lastIndex < mark.lastIndex || (mark.last !== undefined && mark.lastIndex > log.snapshotIndex && log.entry(mark.lastIndex) !== mark.last)) {
      // Leader Append-Only: a leader never overwrites or deletes entries in its log.
      throw new SimViolation('Leader Append-Only', `leader ${n.id} of term ${term} changed its log below ${mark.lastIndex}`, this.stepNo);
    }
    n.leaderMark = { term, lastIndex: log.lastIndex, last: log.entry(log.lastIndex) };
  }

  /** Leader Completeness: a new leader's log holds every entry committed in earlier terms. */
  private checkLeaderCompleteness(n: SimNode, raft: Raft, term: number): void {
    for (const [index, c] of this.committed) {
      if (c.observerTerm >= term) continue;
      const missing = this.missingFrom(raft, index, c);
      if (missing !== undefined) {
        throw new SimViolation('Leader Completeness', `leader ${n.id} of term ${term}: committed entry ${index} (term ${c.term}) ${missing}`, this.stepNo);
      }
    }
  }

  private missingFrom(raft: Raft, index: number, c: { term: number; data: string }): string | undefined {
    const log = raft.log;
    if (index <= log.snapshotIndex) return undefined; // covered by its snapshot, whose hash the state machine checks pin down
    const e = log.entry(index);
    if (e === undefined) return 'is missing';
    if (e.term !== c.term || dataKey(e) !== c.data) return `is replaced by term ${e.term}`;
    return undefined;
  }

  /** Registers every index a node now considers committed; committed entries never change. */
  private registerCommits(n: SimNode, raft: Raft, term: number): void {
    const log = raft.log;
    if (n.commitChecked < log.snapshotIndex) n.commitChecked = log.snapshotIndex;
    for (let i = n.commitChecked + 1; i <= log.commit; i++) {
      const e = log.entry(i);
      if (e === undefined) throw new Error(`sim: committed entry ${i} missing on node ${n.id}`);
      this.registerCommitted(n, e, term);
    }
    n.commitChecked = Math.max(n.commitChecked, log.commit);
  }

  private registerCommitted(n: SimNode, e: Entry, observerTerm = Infinity): void {
    const known = this.committed.get(e.index);
    const data = dataKey(e);
    if (known !== undefined) {
      if (known.term !== e.term || known.data !== data) {
        throw new SimViolation('State Machine Safety', `node ${n.id} commits (${e.index}, term ${e.term}) but (${e.index}, term ${known.term}) was committed`, this.stepNo);
      }
      known.observerTerm = Math.min(known.observerTerm, observerTerm);
      return;
    }
    const c = { term: e.term, data, observerTerm };
    this.committed.set(e.index, c);
    this.maxCommitted = Math.max(this.maxCommitted, e.index);
    // No committed entry is ever lost: every current leader of a later term must hold it.
    for (const other of this.nodes) {
      const r = other.raft;
      if (r === undefined) continue;
      const s = r.status();
      if (s.role !== 'leader' || s.term <= observerTerm) continue;
      const missing = this.missingFrom(r, e.index, c);
      if (missing !== undefined) {
        throw new SimViolation('Committed Entry Lost', `entry ${e.index} (term ${e.term}) ${missing} on leader ${other.id} of term ${s.term}`, this.stepNo);
      }
    }
  }

  /** Log Matching: the same (index, term) always names the same entry with the same predecessor term. */
  private checkLogMatching(n: SimNode, ents: Entry[]): void {
    const log = n.raft?.log;
    if (log === undefined) return;
    let prevTerm = ents[0] === undefined ? undefined : log.term(ents[0].index - 1);
    for (const e of ents) {
      const key = `${e.index}:${e.term}`;
      const data = dataKey(e);
      const known = this.logIds.get(key);
      if (known === undefined) this.logIds.set(key, { data, prevTerm });
      else if (known.data !== data || (known.prevTerm !== undefined && prevTerm !== undefined && known.prevTerm !== prevTerm)) {
        throw new SimViolation('Log Matching', `node ${n.id} holds a different entry at (${e.index}, term ${e.term})`, this.stepNo);
      }
      prevTerm = e.term;
    }
  }

  /** State Machine Safety: every replica that applied up to index i is in the same state. */
  private checkSmHash(id: NodeId, sm: SmState): void {
    if (sm.index === 0) return;
    const h = this.smHashAt.get(sm.index);
    if (h === undefined) this.smHashAt.set(sm.index, sm.hash);
    else if (h !== sm.hash) {
      throw new SimViolation('State Machine Safety', `node ${id}'s state after index ${sm.index} differs from another replica's`, this.stepNo);
    }
  }

  /**
   * A read served at `index` must see every write committed before the read was requested: `index` reaches
   * that write's index and, in the reader's log, names the same entry (a deposed leader serving a lease read
   * from a diverged log may well have a high enough index).
   */
  private checkRead(n: SimNode, raft: Raft, id: number, index: number): void {
    const min = this.readMin.get(id);
    if (min === undefined) return;
    this.readMin.delete(id);
    this.summary.readsServed++;
    if (index < min) {
      throw new SimViolation('Read Linearizability', `read ${id} served at index ${index} but ${min} was committed before it was requested`, this.stepNo);
    }
    const c = this.committed.get(min);
    const missing = c === undefined ? undefined : this.missingFrom(raft, min, c);
    if (missing !== undefined) {
      throw new SimViolation('Read Linearizability', `read ${id} served by node ${n.id} at index ${index}: committed entry ${min} ${missing} in its log`, this.stepNo);
    }
  }

  // ───────────────────────────── Liveness ─────────────────────────────

  /** After the network heals and every node is up, a leader is elected and a new proposal commits everywhere in bounded time. */
  private checkLiveness(): void {
    this.heal();
    for (const n of this.nodes) this.restart(n);
    const boundTicks = 40 * ELECTION_MAX;
    const marker = new TextEncoder().encode(`live-${this.opts.seed}`);
    let proposedAt = -1;
    let proposal: { index: number; term: number } | undefined;
    for (let t = 0; t < boundTicks; t++) {
      this.tickAll();
      for (let k = 0; k < 6; k++) {
        for (const f of this.takeDue()) this.deliver(f);
        this.processReadies(0);
        this.checkSafety();
      }
      const leader = this.alive().find((n) => n.raft?.status().role === 'leader');
      if (leader?.raft !== undefined && (proposal === undefined || leader.raft.status().term !== proposal.term || t - proposedAt > 4 * ELECTION_MAX)) {
        const r = leader.raft.propose([marker]);
        if (r.ok) {
          proposal = { index: r.lastIndex, term: r.term };
          proposedAt = t;
        }
      }
      const p = proposal;
      if (p !== undefined && this.nodes.every((n) => this.appliedMarker(n, p))) {
        this.summary.livenessTicks = t + 1;
        return;
      }
    }
    const states = this.nodes.map((n) => JSON.stringify({ ...n.raft?.status(), sm: n.sm.index, pending: n.pending.map((p) => p.stage) }));
    throw new SimViolation('Liveness', `no proposal committed on all nodes within ${boundTicks} ticks after healing; nodes: ${states.join(' ')}`, this.stepNo);
  }

  private appliedMarker(n: SimNode, p: { index: number; term: number }): boolean {
    const c = this.committed.get(p.index);
    return n.sm.index >= p.index && c !== undefined && c.term === p.term;
  }

  private takeDue(): InFlight[] {
    const due = this.net.filter((f) => f.deliverAt <= this.now);
    this.net = this.net.filter((f) => f.deliverAt > this.now);
    return due;
  }

  private finishSummary(): void {
    for (const n of this.nodes) if (n.raft !== undefined) this.collectStats(n.raft);
    this.summary.committed = this.maxCommitted;
  }
}

export function runSimulation(opts: SimOptions): SimSummary {
  return new Simulation(opts).run();
}

export function replayCommand(o: SimOptions): string {
  const extra = [
    o.chaos !== undefined && o.chaos !== 1 ? `CHAOS=${o.chaos}` : '',
    o.overrides !== undefined && Object.keys(o.overrides).length > 0 ? `OVERRIDES='${JSON.stringify(o.overrides)}'` : '',
    o.testBreak !== undefined ? `BREAK=${o.testBreak}` : '',
  ].filter((x) => x !== '');
  return ['SEED=' + o.seed, 'NODES=' + o.nodes, 'STEPS=' + o.steps, ...extra, 'npm run sim'].join(' ');
}
