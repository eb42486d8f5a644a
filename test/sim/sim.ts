// Deterministic simulation of a whole cluster on one thread (TigerBeetle's VOPR, FoundationDB style), running
// the real NodeHost: the one Ready loop that ships, with a simulated clock and timers per node (drifting,
// dropping ticks, pausing), a simulated network (loss, duplication, delay, one-way partitions, snapshot streams
// included) and a simulated disk whose unsynced writes a crash loses (disk.ts). Raft's Figure 3 properties,
// committed-entry-lost, read linearizability (lease reads included, checked on the values returned),
// acknowledged-write durability, non-disruption and liveness are checked as it runs.
// Replay any seed with `SEED=<n> npm run sim`.
import { pino } from 'pino';
import { RaftInvariantError } from '../../src/raft/index.js';
import type { ConfChange, Entry, Membership, NodeId, Raft, RaftConfig, SnapshotMeta } from '../../src/raft/index.js';
import { NodeHost } from '../../src/node/host.js';
import type { NodeOptions } from '../../src/node/config.js';
import type { FromNode } from '../../src/node/protocol.js';
import { decodeApplied } from '../../src/node/applied.js';
import type { MemoryStore } from '../../src/storage/memory.js';
import type { Command, Op } from '../../src/storage/command.js';
import { entryPayload } from '../../src/storage/command.js';
import type { QueryResult } from '../../src/node/queries.js';
import { decodeCommands, pack } from '../../src/storage/codec.js';
import { SimDisk, type CrashKind } from './disk.js';
import { World } from './world.js';
import { Prng } from './prng.js';

export type Property =
  | 'Election Safety'
  | 'Leader Append-Only'
  | 'Log Matching'
  | 'Leader Completeness'
  | 'State Machine Safety'
  | 'Committed Entry Lost'
  | 'Read Linearizability'
  | 'Acknowledged Write Lost'
  | 'Non-disruption'
  | 'Liveness'
  | 'Host Failure'
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
  /**
   * Membership changes: this many spare nodes (ids nodes+1..) beside the `nodes` initial voters, and random
   * add-learner / promote / remove changes among the faults; at least `nodes - 1` voters are kept. 0: none.
   */
  spares?: number;
  /**
   * The clients' commands: 'put' (default) only puts of unique values to the checked keys; 'mixed' also sends
   * half its commands to other keys, with every kind of op (expiries of a few ticks, counters, cas, rename...), so
   * that the state digests compare what those ops leave on every replica through crashes and snapshots; and, one
   * command in a hundred, a clear of every key (the checked ones too: the checks take it as a write of each).
   */
  ops?: 'put' | 'mixed';
  /** Fixed values instead of the seed's random choice (e.g. maxMsgBytes: 1 for one entry per append). */
  overrides?: Partial<Pick<RaftConfig, 'preVote' | 'checkQuorum' | 'maxInflightMsgs' | 'maxInflightBytes' | 'maxMsgBytes' | 'maxApplyBytes'>>;
}

export interface SimSummary {
  seed: number;
  nodes: number;
  steps: number;
  ok: boolean;
  violation?: { property: Property; message: string; step: number };
  elections: number;
  maxTerm: number;
  committed: number;
  applied: number;
  proposals: number;
  acknowledged: number;
  readsServed: number;
  leaseReadsServed: number;
  snapshotsInstalled: number;
  snapshotPoints: number;
  transfers: number;
  /** Configuration changes proposed and accepted by a leader, by kind; nodes retired once their removal committed. */
  membership: { addLearner: number; promote: number; remove: number; refused: number; retired: number; finalVoters: number[]; finalLearners: number[] };
  faults: {
    crashes: number;
    powerLosses: number;
    restarts: number;
    restartsDuringSnapshot: number;
    partitions: number;
    oneWayPartitions: number;
    pauses: number;
    slowDisks: number;
    lostWrites: number;
    keptUnsyncedWrites: number;
    dropped: number;
    duplicated: number;
    snapFramesDropped: number;
    snapFramesDuplicated: number;
    ticksDropped: number;
  };
  livenessMs: number;
  nonDisruption: 'checked' | 'skipped';
  config: { preVote: boolean; checkQuorum: boolean; maxInflightMsgs: number; maxMsgBytes: number; maxOutstandingReadies: number; snapshotEveryEntries: number; drift: boolean };
}

/** SIM_LOG=debug|info: the hosts' logs on stdout (replaying one seed). */
const SIM_LOG = process.env['SIM_LOG'];
const TICK_MS = 10;
const HEARTBEAT = 2;
const ELECTION_MIN = 10;
const ELECTION_MAX = 20;
const KEYS = 12;
const enc = new TextEncoder();
const KEY_BYTES = Array.from({ length: KEYS }, (_, i) => enc.encode(`k${i}`));
/** The keys of the 'mixed' workload's other ops. */
const OTHER_KEYS = Array.from({ length: 6 }, (_, i) => enc.encode(`o${i}`));

interface SimNode {
  id: NodeId;
  disk: SimDisk;
  host: NodeHost | undefined;
  /** Applied index and a digest of the state after it, as last observed (process crashes keep them). */
  applied: number;
  commitChecked: number;
  leaderMark: { term: number; lastIndex: number; last: Entry | undefined } | undefined;
  /** A slow disk: syncs take this many ms until `slowUntil`. */
  slowSyncMs: number;
  slowUntil: number;
  syncScheduled: boolean;
  /** A restart is opening the node's storage (opening is asynchronous: no second one meanwhile). */
  starting: boolean;
  /** A spare node: started once a leader accepted a change that adds it. */
  spare: boolean;
  joined: boolean;
  /** Seen in a leader's committed configuration. */
  everMember: boolean;
  /** Removed by a committed change: stopped for good (ids are never reused), as the cluster stops its worker. */
  retired: boolean;
}

interface PendingRead {
  key: number;
  mode: 'lease' | 'linearizable';
  node: NodeId;
  /** Highest index committed, and the index of the key's last acknowledged write, when the read was sent. */
  minIndex: number;
  minKeyIndex: number;
}

function dataKey(e: { type: number; data: Uint8Array }): string {
  let h = 0x811c9dc5 ^ e.type;
  for (const b of e.data) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return `${e.type}:${e.data.length}:${h}`;
}

/**
 * A digest of a state machine (order-independent), read at its log clock (now 0) so it is the same on every
 * replica at one index: each live key's value, remaining ttl and revision, and the records held (expired ones
 * not yet purged included), their bytes and the log clock.
 */
function stateDigest(store: MemoryStore): string {
  let d = 0;
  for (const [key, v] of store.scan({}, { limit: 1000 }, 0)) {
    let h = 0x811c9dc5;
    for (const b of key) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    h = Math.imul(h ^ 0xff, 0x01000193) >>> 0;
    const s = typeof v === 'string' ? v : String.fromCharCode(...v);
    for (let j = 0; j < s.length; j++) h = Math.imul(h ^ s.charCodeAt(j), 0x01000193) >>> 0;
    h = Math.imul(h ^ (store.ttl(key, 0) ?? -1), 0x01000193) >>> 0;
    h = Math.imul(h ^ store.revision(key, 0), 0x01000193) >>> 0;
    d = (d + h) >>> 0;
  }
  const st = store.stats();
  return `${d}:${st.keys}:${st.bytes}:${st.clock}`;
}

export class Simulation {
  private readonly rng: Prng;
  private readonly world: World;
  private readonly nodes: SimNode[] = [];
  private readonly ids: NodeId[];
  private readonly initialVoters: NodeId[];
  private readonly minVoters: number;
  private readonly chaos: number;
  private readonly core: Partial<RaftConfig>;
  private readonly nodeOpts: Omit<NodeOptions, 'id' | 'seed'>;
  private readonly drift: boolean;
  private stepNo = 0;
  /** The commit index of the committed configuration observed last (observeMembership). */
  private configSeenAt = 0;
  private violation: SimViolation | undefined;

  // Observations for the property checks.
  private leaderOfTerm = new Map<number, NodeId>();
  private logIds = new Map<string, { data: string; prevTerm: number | undefined }>();
  private committed = new Map<number, { term: number; data: string; observerTerm: number }>();
  private maxCommitted = 0;
  private digestAt = new Map<number, string>();
  /**
   * Each written value's place once applied anywhere ('v<n>' → place): its log index, plus its command's position
   * in the entry in millionths, so that a write and a clear in one entry are ordered (Math.floor: the index).
   */
  private valueIndex = new Map<string, number>();
  /** The 'mixed' workload's clears (every key removed) by (client, seq), and their places once applied anywhere. */
  private clearProposals = new Set<string>();
  private clearAt = new Map<string, number>();
  /** The places of the clears applied, in order. */
  private clears: number[] = [];
  /** Proposals by (client, seq): the value they write. */
  private proposalsByKey = new Map<string, { key: number; value: string }>();
  /** Per key, the highest log index of an acknowledged write. */
  private lastAcked = new Array<number>(KEYS).fill(0);
  private reads = new Map<number, PendingRead>();
  private nextReadId = 1;
  private nextValue = 1;
  private clientSeq = new Map<number, number>();
  private proposalId = 1;

  readonly summary: SimSummary;

  constructor(private readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    this.world = new World(Prng.derive(opts.seed, 777));
    this.chaos = opts.chaos ?? 1;
    this.initialVoters = Array.from({ length: opts.nodes }, (_, i) => i + 1);
    this.ids = Array.from({ length: opts.nodes + (opts.spares ?? 0) }, (_, i) => i + 1);
    this.minVoters = Math.max(1, opts.nodes - 1);
    const r = Prng.derive(opts.seed, 999);
    // The host's own settings (both on) most of the time; the core's other combinations otherwise.
    const production = r.chance(0.6);
    const preVote = production || r.chance(0.5);
    const checkQuorum = production || r.chance(0.5);
    this.drift = r.chance(0.5);
    this.core = {
      preVote,
      checkQuorum,
      ...(opts.testBreak === undefined ? {} : { testBreak: opts.testBreak }),
      ...(opts.overrides?.preVote === undefined ? {} : { preVote: opts.overrides.preVote }),
      ...(opts.overrides?.checkQuorum === undefined ? {} : { checkQuorum: opts.overrides.checkQuorum }),
    };
    this.nodeOpts = {
      voters: this.initialVoters,
      dir: '',
      storage: 'memory',
      pool: 'inline',
      sync: true,
      timing: { tickMs: TICK_MS, heartbeatTicks: HEARTBEAT, electionTimeoutMinTicks: ELECTION_MIN, electionTimeoutMaxTicks: ELECTION_MAX },
      snapshotEveryEntries: 4 + r.int(40),
      snapshotEveryBytes: 1 << 30,
      snapshotChunkBytes: 32 + r.int(200),
      snapshotInstallTimeoutMs: 10 * TICK_MS * ELECTION_MAX, // a stream that lost a frame stalls until then
      maxInflightMsgs: opts.overrides?.maxInflightMsgs ?? 1 + r.int(4),
      maxInflightBytes: opts.overrides?.maxInflightBytes ?? 64 + r.int(512),
      maxMsgBytes: opts.overrides?.maxMsgBytes ?? 32 + r.int(256),
      maxApplyBytes: opts.overrides?.maxApplyBytes ?? 32 + r.int(256),
      maxOutstandingReadies: 1 + r.int(4),
      maxValueBytes: 1024,
      instrument: r.chance(0.5),
      logLevel: 'silent',
    };
    this.summary = {
      seed: opts.seed,
      nodes: opts.nodes,
      steps: opts.steps,
      ok: true,
      elections: 0,
      maxTerm: 0,
      committed: 0,
      applied: 0,
      proposals: 0,
      acknowledged: 0,
      readsServed: 0,
      leaseReadsServed: 0,
      snapshotsInstalled: 0,
      snapshotPoints: 0,
      transfers: 0,
      membership: { addLearner: 0, promote: 0, remove: 0, refused: 0, retired: 0, finalVoters: [], finalLearners: [] },
      faults: {
        crashes: 0, powerLosses: 0, restarts: 0, restartsDuringSnapshot: 0, partitions: 0, oneWayPartitions: 0, pauses: 0, slowDisks: 0,
        lostWrites: 0, keptUnsyncedWrites: 0, dropped: 0, duplicated: 0, snapFramesDropped: 0, snapFramesDuplicated: 0, ticksDropped: 0,
      },
      livenessMs: 0,
      nonDisruption: 'skipped',
      config: {
        preVote: this.core.preVote ?? true,
        checkQuorum: this.core.checkQuorum ?? true,
        maxInflightMsgs: this.nodeOpts.maxInflightMsgs,
        maxMsgBytes: this.nodeOpts.maxMsgBytes,
        maxOutstandingReadies: this.nodeOpts.maxOutstandingReadies,
        snapshotEveryEntries: this.nodeOpts.snapshotEveryEntries,
        drift: this.drift,
      },
    };
    for (const id of this.ids) {
      const node: SimNode = {
        id,
        disk: undefined as unknown as SimDisk,
        host: undefined,
        applied: 0,
        commitChecked: 0,
        leaderMark: undefined,
        slowSyncMs: 0,
        slowUntil: 0,
        syncScheduled: false,
        starting: false,
        spare: !this.initialVoters.includes(id),
        joined: this.initialVoters.includes(id),
        everMember: this.initialVoters.includes(id),
        retired: false,
      };
      // A spare's bootstrap configuration: the initial voters and itself as a learner (its log or snapshot wins).
      const bootstrap: Membership = node.spare ? { voters: this.initialVoters, learners: [id] } : { voters: this.initialVoters };
      node.disk = new SimDisk(bootstrap, {
        applied: (store, entries) => this.onApplied(node, store, entries),
        installed: (store, meta) => this.onInstalled(node, store, meta),
        logWrite: (entries, prevTerm) => this.checkLogMatching(node, entries, prevTerm),
        pending: () => this.scheduleSync(node),
      });
      // Drift within ±5 %: one process shares one monotonic clock, so real drift is nil; this stands for timer
      // lateness and tick quantization, and stays inside the lease's margin (docs/reliability.md).
      const rate = this.drift ? 0.95 + r.next() * 0.1 : 1;
      this.world.clocks.set(id, { rate, offset: r.int(1000), incarnation: 0, alive: false, pausedUntil: 0, dropTickRate: 0 });
      this.nodes.push(node);
    }
  }

  /** Runs the chaos phase, then liveness and non-disruption; never throws (violations go into the summary). */
  async run(): Promise<SimSummary> {
    try {
      for (const n of this.nodes) if (n.joined) await this.start(n);
      for (this.stepNo = 1; this.stepNo <= this.opts.steps; this.stepNo++) {
        await this.world.runUntil(this.world.now + this.rng.next() * 4);
        this.throwIfViolated();
        this.chaosStep();
        this.checkSafety();
      }
      await this.checkLiveness();
      await this.checkNonDisruption();
      this.checkDurability();
      this.throwIfViolated();
    } catch (err) {
      this.summary.ok = false;
      const v = this.violation ?? err;
      if (v instanceof SimViolation) {
        this.summary.violation = { property: v.property, message: v.message, step: v.step };
      } else {
        const message = v instanceof Error ? `${v.name}: ${v.message}` : String(v);
        this.summary.violation = { property: v instanceof RaftInvariantError ? 'Core Invariant' : 'Host Failure', message: `at step ${this.stepNo}: ${message}`, step: this.stepNo };
      }
    }
    this.finishSummary();
    return this.summary;
  }

  private fail(property: Property, detail: string): never {
    const v = new SimViolation(property, detail, this.stepNo);
    this.violation ??= v;
    throw v;
  }

  /** A violation seen inside a host callback (which must not throw into the host) ends the run at the next step. */
  private throwIfViolated(): void {
    if (this.violation) throw this.violation;
  }

  private record(property: Property, detail: string): void {
    this.violation ??= new SimViolation(property, detail, this.stepNo);
  }

  // ───────────────────────────── Nodes ─────────────────────────────

  private async start(n: SimNode): Promise<void> {
    const clock = this.world.clock(n.id);
    clock.incarnation++;
    clock.alive = true;
    clock.pausedUntil = 0;
    const incarnation = clock.incarnation;
    const opts: NodeOptions = { ...this.nodeOpts, id: n.id, seed: (this.opts.seed * 7919 + n.id * 104729 + incarnation) >>> 0, ...(n.spare ? { learners: [n.id] } : {}) };
    const host = await NodeHost.open(opts, {
      runtime: this.world.runtime(n.id),
      transport: this.world.transport(n.id, incarnation),
      openStorage: () => Promise.resolve(n.disk.open()),
      toMain: (msg) => this.fromNode(n, incarnation, msg),
      log: SIM_LOG ? pino({ level: SIM_LOG, base: { node: n.id }, mixin: () => ({ ms: Math.round(this.world.now * 10) / 10 }) }) : pino({ enabled: false }),
      core: this.core,
    });
    n.host = host;
    n.commitChecked = host.raft.log.snapshotIndex;
    n.leaderMark = undefined;
    host.start();
    if (n.disk.pendingSyncs() > 0) this.scheduleSync(n);
  }

  private crash(n: SimNode, kind: CrashKind): void {
    if (!n.host) return;
    this.collectStats(n.host);
    const clock = this.world.clock(n.id);
    clock.alive = false;
    clock.incarnation++; // what the old incarnation scheduled never runs
    this.world.forget(n.id);
    n.disk.crash(kind, this.rng.int(n.disk.pendingSyncs() + 1));
    n.host = undefined;
    n.syncScheduled = false;
    this.summary.faults.crashes++;
    if (kind === 'power') this.summary.faults.powerLosses++;
  }

  private collectStats(h: NodeHost): void {
    this.summary.elections += h.raft.stats.elections;
    this.summary.snapshotsInstalled += h.counters.snapshotsReceived;
    this.summary.snapshotPoints += h.counters.snapshotPoints;
  }

  private alive(): SimNode[] {
    return this.nodes.filter((n) => n.host !== undefined);
  }

  private scheduleSync(n: SimNode): void {
    if (n.syncScheduled || !n.host) return;
    n.syncScheduled = true;
    const slow = this.world.now < n.slowUntil ? n.slowSyncMs : 0;
    this.world.schedule(0, 0.05 + this.rng.next() * 0.5 + slow, () => {
      n.syncScheduled = false;
      if (!n.host) return;
      n.disk.syncOne();
      if (n.disk.pendingSyncs() > 0) this.scheduleSync(n);
    });
  }

  /** What a node tells the coordinator: acknowledgements, read answers, failures. */
  private fromNode(n: SimNode, incarnation: number, msg: FromNode): void {
    if (this.world.clock(n.id).incarnation !== incarnation) return;
    switch (msg.t) {
      case 'applied': {
        const d = decodeApplied(msg.bytes);
        for (let i = 0; i < d.count; i++) this.acknowledge(d.client(i), d.seq(i));
        break;
      }
      case 'read-ok':
        this.readAnswered(n, msg.id, msg.index, msg.values);
        break;
      case 'read-failed':
        this.reads.delete(msg.id);
        break;
      case 'fatal':
        this.record('Host Failure', `node ${n.id} failed: ${msg.error.message}`);
        break;
      default:
        break;
    }
  }

  // ───────────────────────────── Chaos ─────────────────────────────

  private chaosStep(): void {
    const c = this.chaos;
    const actions: [number, () => void][] = [
      [0.25, () => this.clientPropose()],
      [0.1, () => this.clientRead()],
      [0.004, () => this.requestSnapshot()],
      [0.004, () => this.transfer()],
      [0.006 * c, () => this.crashSome('process')],
      [0.004 * c, () => this.crashSome('power')],
      [0.003 * c, () => this.crashDuringSnapshot()],
      [0.03, () => void this.restartSome()],
      [0.004 * c, () => this.partition()],
      [0.003 * c, () => this.oneWayPartition()],
      [0.008, () => this.heal()],
      [0.003 * c, () => this.pause()],
      [0.003 * c, () => this.slowDisk()],
      [0.005, () => this.setNetworkWeather()],
      ...(this.opts.spares ? ([[0.015, () => void this.changeMembership()]] as [number, () => void][]) : []),
    ];
    let y = this.rng.next();
    for (const [weight, action] of actions) {
      if (y < weight) return action();
      y -= weight;
    }
  }

  private leaders(): SimNode[] {
    return this.alive().filter((n) => n.host!.raft.status().role === 'leader');
  }

  private clientTarget(): SimNode | undefined {
    const leaders = this.leaders();
    return this.rng.chance(0.85) && leaders.length > 0 ? this.rng.pick(leaders) : this.rng.pick(this.alive());
  }

  private clientPropose(): void {
    const target = this.clientTarget();
    if (!target?.host) return;
    const count = 1 + this.rng.int(3);
    const cmds: Command[] = [];
    for (let i = 0; i < count; i++) {
      const client = 1 + this.rng.int(4);
      const seq = (this.clientSeq.get(client) ?? 0) + 1;
      this.clientSeq.set(client, seq);
      if (this.opts.ops === 'mixed' && this.rng.chance(0.5)) {
        // Now and then a clear (FLUSHDB), alone in its command: it removes the checked keys too, which the reads'
        // and durability checks then take as a write of every key (null) at its place.
        const clear = this.rng.chance(0.02);
        if (clear) this.clearProposals.add(`${client}:${seq}`);
        cmds.push({ client, seq, floor: seq, ops: clear ? [{ t: 'clear' }] : this.mixedOps() });
        continue;
      }
      const key = this.rng.int(KEYS);
      const value = `v${this.nextValue++}`;
      this.proposalsByKey.set(`${client}:${seq}`, { key, value });
      cmds.push({ client, seq, floor: seq, ops: [{ t: 'put', key: KEY_BYTES[key]!, value }] });
    }
    target.host.onMain({ t: 'propose', id: this.proposalId++, data: pack(cmds), sentAt: 0 });
    this.summary.proposals += count;
  }

  /** One or two ops of any kind on the other keys (never the checked ones: their reads expect unique values). */
  private mixedOps(): Op[] {
    const r = this.rng;
    const key = (): Uint8Array => OTHER_KEYS[r.int(OTHER_KEYS.length)]!;
    const ttl = (): number => 1 + r.int(30 * TICK_MS);
    const value = (): string => (r.chance(0.3) ? String(r.int(20) - 5) : `w${this.nextValue++}`);
    const one = (): Op => {
      const k = key();
      switch (r.int(18)) {
        case 0: return { t: 'put', key: k, value: value(), ...(r.chance(0.5) ? { ttlMs: ttl() } : {}) };
        case 1: return { t: 'put', key: k, value: value(), ...(r.chance(0.5) ? { keepTtl: true } : { cond: r.chance(0.5) ? 'nx' : 'xx' }) };
        case 2: return { t: 'del', key: k };
        case 3: return { t: 'incr', key: k, by: r.chance(0.2) ? '4611686018427387904' : r.int(7) - 3, ...(r.chance(0.3) ? { ttlMs: ttl() } : {}) };
        case 4: return { t: 'cas', key: k, expected: r.chance(0.3) ? null : String(r.int(20) - 5), value: r.chance(0.2) ? null : value() };
        case 5: return r.chance(0.7) ? { t: 'expire', key: k, ttlMs: ttl() - 5 * TICK_MS } : { t: 'expire', key: k, ttlMs: ttl(), cond: r.pick(['nx', 'xx', 'gt', 'lt'] as const)! };
        case 6: return { t: 'persist', key: k };
        case 7: return { t: 'append', key: k, value: value() };
        case 8: return { t: 'setrange', key: k, offset: r.int(6), value: 'z' };
        case 9: return { t: 'rename', key: k, to: key(), ...(r.chance(0.4) ? { nx: true } : {}) };
        case 10: return { t: 'incrbyfloat', key: k, by: r.pick(['0.1', '-2.5', '1e3'])!, ...(r.chance(0.3) ? { ttlMs: ttl() } : {}) };
        case 11: return { t: 'setbit', key: k, offset: r.int(40), bit: r.chance(0.5) ? 1 : 0 };
        case 12: return { t: 'bitop', key: k, op: r.pick(['and', 'or', 'xor'] as const)!, from: [key(), key()] };
        case 13: return { t: 'bitfield', key: k, fields: [{ op: 'incrby', signed: r.chance(0.5), bits: 1 + r.int(12), offset: r.int(30), value: String(r.int(300) - 100), ...(r.chance(0.5) ? { overflow: r.pick(['sat', 'fail'] as const)! } : {}) }] };
        case 14: return { t: 'copy', key: k, to: key(), ...(r.chance(0.4) ? { replace: true } : {}) };
        case 15: return { t: 'msetnx', pairs: [[k, value()], [key(), value()]] };
        case 16: return r.chance(0.6) ? { t: 'pfadd', key: k, elements: Array.from({ length: r.int(4) }, value) } : r.chance(0.7) ? { t: 'pfmerge', key: k, from: [key()] } : { t: 'pftodense', key: k };
        // A prefix clear of every other key, or of this one alone (no draw of its own: the seeds' sequences stay).
        default: return r.pick<Op>([{ t: 'get', key: k }, { t: 'ttl', key: k }, { t: 'size' }, { t: 'clearprefix', prefix: k[1]! % 2 === 0 ? k.subarray(0, 1) : k }])!;
      }
    };
    return r.chance(0.3) ? [one(), one()] : [one()];
  }

  private acknowledge(client: number, seq: number): void {
    if (this.clearProposals.delete(`${client}:${seq}`)) {
      const at = this.clearAt.get(`${client}:${seq}`);
      if (at === undefined) return this.record('Acknowledged Write Lost', `clear ${client}:${seq} acknowledged but never applied`);
      for (let k = 0; k < KEYS; k++) this.lastAcked[k] = Math.max(this.lastAcked[k]!, at);
      this.summary.acknowledged++;
      return;
    }
    const p = this.proposalsByKey.get(`${client}:${seq}`);
    if (!p) return;
    this.proposalsByKey.delete(`${client}:${seq}`);
    const index = this.valueIndex.get(p.value);
    if (index === undefined) return this.record('Acknowledged Write Lost', `${p.value} acknowledged but never applied`);
    this.lastAcked[p.key] = Math.max(this.lastAcked[p.key]!, index);
    this.summary.acknowledged++;
  }

  private clientRead(): void {
    const target = this.clientTarget();
    if (!target?.host) return;
    const id = this.nextReadId++;
    const key = this.rng.int(KEYS);
    const mode = this.rng.chance(0.6) ? 'lease' : 'linearizable';
    this.reads.set(id, { key, mode, node: target.id, minIndex: this.maxCommitted, minKeyIndex: this.lastAcked[key]! });
    target.host.onMain({ t: 'read', id, mode, queries: [{ q: 'get', key: KEY_BYTES[key]! }] });
  }

  /**
   * A read served at `index` must see every write committed before it was sent, and the value returned must be
   * the key's acknowledged write or a later one: a lease read from a deposed leader would return an older one.
   */
  private readAnswered(n: SimNode, id: number, index: number, values: QueryResult[] | null): void {
    const r = this.reads.get(id);
    if (!r) return;
    this.reads.delete(id);
    this.summary.readsServed++;
    if (r.mode === 'lease') this.summary.leaseReadsServed++;
    if (index < r.minIndex) return this.record('Read Linearizability', `${r.mode} read ${id} on node ${n.id} served at index ${index} but ${r.minIndex} was committed before it was sent`);
    const v = values?.[0];
    // Absent: removed by a clear the node had applied when it answered (it reads its state as it stands then, at
    // `index` or later), or never written.
    const vi = v === undefined ? this.clearedBy(n.applied) : this.valueIndex.get(String(v));
    if (vi === undefined) return this.record('Read Linearizability', `${r.mode} read ${id} on node ${n.id} returned ${String(v)}, never applied anywhere`);
    if (vi < r.minKeyIndex) {
      this.record('Read Linearizability', `${r.mode} read ${id} of k${r.key} on node ${n.id} returned the write at index ${vi}; the write at ${r.minKeyIndex} was acknowledged before the read was sent`);
    }
  }

  /** The place of the last clear applied at or before log index `index` (0: none): where a key read as absent was written. */
  private clearedBy(index: number): number {
    let at = 0;
    for (const c of this.clears) if (Math.floor(c) <= index) at = c;
    return at;
  }

  private requestSnapshot(): void {
    this.rng.pick(this.alive())?.host?.requestSnapshot();
  }

  private transfer(): void {
    const leader = this.leaders()[0];
    const to = this.rng.pick(this.ids.filter((id) => id !== leader?.id));
    if (!leader?.host || to === undefined) return;
    if (leader.host.transferLeadership(to)) this.summary.transfers++;
  }

  private crashSome(kind: CrashKind): void {
    const n = this.rng.pick(this.alive());
    if (n && this.alive().length > 1) this.crash(n, kind);
  }

  /** Restarts during snapshot transfer: crash a node that is sending or receiving a stream. */
  private crashDuringSnapshot(): void {
    const busy = this.alive().filter((n) => {
      const s = n.host!.status() as { snapshotSending?: number[] };
      return (s.snapshotSending?.length ?? 0) > 0 || this.alive().some((m) => ((m.host!.status() as { snapshotSending?: number[] }).snapshotSending ?? []).includes(n.id));
    });
    const n = this.rng.pick(busy);
    if (!n) return;
    this.crash(n, this.rng.chance(0.5) ? 'power' : 'process');
    this.summary.faults.restartsDuringSnapshot++;
    this.world.schedule(0, this.rng.next() * TICK_MS * ELECTION_MIN, () => void this.restart(n));
  }

  private async restart(n: SimNode): Promise<void> {
    if (n.host || n.starting || n.retired || !n.joined) return;
    this.summary.faults.restarts++;
    n.starting = true;
    try {
      await this.start(n);
    } catch (err) {
      // The disk a crash left must always reopen: a refusal means the host let storage get ahead of itself.
      this.world.clock(n.id).alive = false;
      this.record('Host Failure', `node ${n.id} cannot reopen its storage: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      n.starting = false;
    }
  }

  private async restartSome(): Promise<void> {
    const n = this.rng.pick(this.nodes.filter((x) => !x.host && !x.starting && !x.retired && x.joined));
    if (n) await this.restart(n);
  }

  // ───────────────────────────── Membership ─────────────────────────────

  /** A random one-server change through the leader: add a spare as a learner (starting it), promote a learner, remove a member. */
  private async changeMembership(): Promise<void> {
    const leader = this.leaders()[0];
    if (!leader?.host) return;
    const m = leader.host.raft.membership();
    const kind = this.rng.pick(['add-learner', 'promote', 'remove'] as const)!;
    let id: NodeId | undefined;
    if (kind === 'add-learner') {
      id = this.rng.pick(this.nodes.filter((n) => n.spare && !n.everMember && !n.retired && !m.learners.includes(n.id) && !m.voters.includes(n.id)).map((n) => n.id));
    } else if (kind === 'promote') {
      id = this.rng.pick(m.learners);
    } else {
      const removable = [...m.learners, ...(m.voters.length > this.minVoters ? m.voters : [])];
      id = this.rng.pick(removable);
    }
    if (id === undefined) return;
    const change = { type: kind, id } as ConfChange;
    const r = leader.host.proposeConfChange(change);
    if (!r.ok) {
      this.summary.membership.refused++;
      return;
    }
    this.summary.membership[kind === 'add-learner' ? 'addLearner' : kind]++;
    const n = this.nodes.find((x) => x.id === id)!;
    if (kind === 'add-learner' && !n.joined) {
      n.joined = true;
      this.summary.faults.restarts--; // starting a new node is not a restart
      await this.restart(n);
    }
  }

  /**
   * Track committed configurations: a node in one is a member; a member left out of a committed one is stopped
   * for good (what removeNode does), so it cannot come back with a stale view of the configuration.
   */
  private observeMembership(): void {
    for (const l of this.leaders()) {
      const raft = l.host?.raft;
      if (raft === undefined) continue; // retired by an earlier iteration: a newer committed configuration left it out
      // The configuration committed as of this leader's commit index; a deposed leader's may be older than one
      // already seen, so only the furthest commit index counts.
      if (raft.log.commit < this.configSeenAt) continue;
      this.configSeenAt = raft.log.commit;
      const m = raft.membershipAt(raft.log.commit);
      const members = new Set([...m.voters, ...m.learners]);
      for (const n of this.nodes) {
        if (members.has(n.id)) n.everMember = true;
        else if (n.everMember && !n.retired) this.retire(n);
      }
    }
  }

  private retire(n: SimNode): void {
    n.retired = true;
    this.summary.membership.retired++;
    if (n.host) {
      this.crash(n, 'process');
      this.summary.faults.crashes--;
    }
  }

  /** The members of the configuration a leader holds (every node without membership changes). */
  private members(): NodeId[] {
    const leader = this.leaders()[0];
    if (!leader?.host) return this.nodes.filter((n) => !n.retired && n.joined).map((n) => n.id);
    const m = leader.host.raft.membership();
    return [...m.voters, ...m.learners];
  }

  private partition(): void {
    const side = new Map(this.ids.map((id) => [id, this.rng.int(2)]));
    this.world.net.blocked.clear();
    for (const a of this.ids) for (const b of this.ids) if (side.get(a) !== side.get(b)) this.world.net.blocked.add(`${a}>${b}`);
    this.summary.faults.partitions++;
  }

  private oneWayPartition(): void {
    const a = this.rng.pick(this.ids)!;
    const b = this.rng.pick(this.ids.filter((x) => x !== a))!;
    this.world.net.blocked.add(`${a}>${b}`);
    this.summary.faults.oneWayPartitions++;
  }

  private heal(): void {
    this.world.net.blocked.clear();
  }

  /** A long pause of one node's event loop (a GC or a blocking handler): up to three election timeouts. */
  private pause(): void {
    const n = this.rng.pick(this.alive());
    if (!n) return;
    const c = this.world.clock(n.id);
    // A pause under way is not cut short by another: events already deferred to its end wait until then (a
    // shortened pause had let a node's messages run while its timers still waited: seed 91610 of CHAOS=4).
    c.pausedUntil = Math.max(c.pausedUntil, this.world.now + this.rng.next() * 3 * ELECTION_MAX * TICK_MS);
    this.summary.faults.pauses++;
  }

  /** A slow disk: a node's syncs take up to several election timeouts for a while. */
  private slowDisk(): void {
    const n = this.rng.pick(this.nodes);
    if (!n) return;
    n.slowSyncMs = this.rng.next() * 2 * ELECTION_MAX * TICK_MS;
    n.slowUntil = this.world.now + this.rng.next() * 5 * ELECTION_MAX * TICK_MS;
    this.summary.faults.slowDisks++;
  }

  private setNetworkWeather(): void {
    const c = this.chaos;
    const net = this.world.net;
    net.dropRate = this.rng.chance(0.5) ? 0 : Math.min(0.5, this.rng.next() * 0.1 * c);
    net.duplicateRate = this.rng.chance(0.5) ? 0 : Math.min(0.5, this.rng.next() * 0.06 * c);
    net.maxExtraDelayMs = this.rng.chance(0.7) ? 0 : this.rng.next() * 4 * TICK_MS;
    for (const id of this.ids) this.world.clock(id).dropTickRate = this.rng.chance(0.7) ? 0 : this.rng.next() * 0.3;
  }

  private calm(): void {
    this.heal();
    const net = this.world.net;
    net.dropRate = 0;
    net.duplicateRate = 0;
    net.maxExtraDelayMs = 0;
    for (const n of this.nodes) {
      n.slowUntil = 0;
      const c = this.world.clock(n.id);
      c.dropTickRate = 0; // a pause under way runs to its end (its events are already deferred to then)
    }
  }

  // ───────────────────────────── Observations ─────────────────────────────

  private onApplied(n: SimNode, store: MemoryStore, entries: Entry[]): void {
    for (const e of entries) {
      if (e.index <= n.applied) continue;
      if (e.index !== n.applied + 1) this.record('State Machine Safety', `node ${n.id} applies ${e.index} after ${n.applied}`);
      n.applied = e.index;
      try {
        this.registerCommitted(n, e);
      } catch {
        return; // recorded
      }
      if (e.type === 0 && e.data.length > 0) {
        (decodeCommands(entryPayload(e.data)) ?? []).forEach((c, pos) => {
          const place = e.index + pos / 1e6;
          const id = `${c.client}:${c.seq}`;
          if (c.ops[0]?.t === 'clear' && this.clearProposals.has(id) && !this.clearAt.has(id)) {
            this.clearAt.set(id, place);
            this.clears.push(place);
            this.clears.sort((a, b) => a - b);
          }
          for (const op of c.ops) if (op.t === 'put' && typeof op.value === 'string' && !this.valueIndex.has(op.value)) this.valueIndex.set(op.value, place);
        });
      }
    }
    this.summary.applied = Math.max(this.summary.applied, n.applied);
    const last = entries[entries.length - 1];
    if (last && last.index === n.applied) this.checkDigest(n, n.applied, stateDigest(store));
  }

  private onInstalled(n: SimNode, store: MemoryStore, meta: SnapshotMeta): void {
    n.applied = meta.index;
    this.checkDigest(n, meta.index, stateDigest(store));
  }

  /** State Machine Safety: every replica applied up to index i holds the same state. */
  private checkDigest(n: SimNode, index: number, digest: string): void {
    const known = this.digestAt.get(index);
    if (known === undefined) this.digestAt.set(index, digest);
    else if (known !== digest) this.record('State Machine Safety', `node ${n.id}'s state after index ${index} differs from another replica's`);
  }

  /** Log Matching, on what reaches the disk: the same (index, term) always names the same entry and predecessor term. */
  private checkLogMatching(n: SimNode, ents: readonly Entry[], prevTerm: number | undefined): void {
    let prev = prevTerm;
    for (const e of ents) {
      const key = `${e.index}:${e.term}`;
      const data = dataKey(e);
      const known = this.logIds.get(key);
      if (known === undefined) this.logIds.set(key, { data, prevTerm: prev });
      else if (known.data !== data || (known.prevTerm !== undefined && prev !== undefined && known.prevTerm !== prev)) {
        this.record('Log Matching', `node ${n.id} writes a different entry at (${e.index}, term ${e.term})`);
      }
      prev = e.term;
    }
  }

  // ───────────────────────────── Properties (Figure 3 and more) ─────────────────────────────

  private checkSafety(): void {
    for (const n of this.alive()) {
      const raft = n.host!.raft;
      const s = raft.status();
      this.summary.maxTerm = Math.max(this.summary.maxTerm, s.term);
      if (s.role === 'leader') this.checkLeader(n, raft, s.term);
      else n.leaderMark = undefined;
      this.registerCommits(n, raft, s.term);
    }
    this.throwIfViolated();
    if (this.opts.spares) this.observeMembership();
  }

  private checkLeader(n: SimNode, raft: Raft, term: number): void {
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== n.id) this.fail('Election Safety', `nodes ${other} and ${n.id} are both leaders of term ${term}`);
    const log = raft.log;
    const mark = n.leaderMark;
    if (mark === undefined || mark.term !== term) {
      this.leaderOfTerm.set(term, n.id);
      this.checkLeaderCompleteness(n, raft, term);
    } else if (log.lastIndex < mark.lastIndex || (mark.last !== undefined && mark.lastIndex > log.snapshotIndex && log.entry(mark.lastIndex) !== mark.last)) {
      this.fail('Leader Append-Only', `leader ${n.id} of term ${term} changed its log below ${mark.lastIndex}`);
    }
    n.leaderMark = { term, lastIndex: log.lastIndex, last: log.entry(log.lastIndex) };
  }

  private checkLeaderCompleteness(n: SimNode, raft: Raft, term: number): void {
    for (const [index, c] of this.committed) {
      if (c.observerTerm >= term) continue;
      const missing = this.missingFrom(raft, index, c);
      if (missing !== undefined) this.fail('Leader Completeness', `leader ${n.id} of term ${term}: committed entry ${index} (term ${c.term}) ${missing}`);
    }
  }

  private missingFrom(raft: Raft, index: number, c: { term: number; data: string }): string | undefined {
    const log = raft.log;
    if (index <= log.snapshotIndex) return undefined; // covered by its snapshot, whose state the digest checks pin down
    const e = log.entry(index);
    if (e === undefined) return 'is missing';
    if (e.term !== c.term || dataKey(e) !== c.data) return `is replaced by term ${e.term}`;
    return undefined;
  }

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
        this.fail('State Machine Safety', `node ${n.id} commits (${e.index}, term ${e.term}) but (${e.index}, term ${known.term}) was committed`);
      }
      known.observerTerm = Math.min(known.observerTerm, observerTerm);
      return;
    }
    const c = { term: e.term, data, observerTerm };
    this.committed.set(e.index, c);
    this.maxCommitted = Math.max(this.maxCommitted, e.index);
    for (const other of this.alive()) {
      const r = other.host!.raft;
      const s = r.status();
      if (s.role !== 'leader' || s.term <= observerTerm) continue;
      const missing = this.missingFrom(r, e.index, c);
      if (missing !== undefined) this.fail('Committed Entry Lost', `entry ${e.index} (term ${e.term}) ${missing} on leader ${other.id} of term ${s.term}`);
    }
  }

  // ───────────────────────────── Liveness, non-disruption, durability ─────────────────────────────

  /** After the network heals and every node is up, a leader is elected and a new write commits everywhere in bounded time. */
  private async checkLiveness(): Promise<void> {
    this.calm();
    // A start under way when the chaos phase ended finishes first (a crash in the last step may have ended the node
    // it started: seed 90097 reported a false liveness violation so), then every node that is down starts again.
    for (let i = 0; i < 100 && this.nodes.some((n) => n.starting); i++) await this.world.runUntil(this.world.now + TICK_MS);
    for (const n of this.nodes) await this.restart(n);
    const boundMs = 40 * ELECTION_MAX * TICK_MS;
    const start = this.world.now;
    let proposed: { value: string; at: number; term: number } | undefined;
    while (this.world.now - start < boundMs) {
      await this.world.runUntil(this.world.now + TICK_MS);
      this.throwIfViolated();
      this.checkSafety();
      const leader = this.leaders()[0];
      const term = leader?.host?.raft.status().term;
      if (leader?.host && (proposed === undefined || proposed.term !== term || this.world.now - proposed.at > 4 * ELECTION_MAX * TICK_MS)) {
        const value = `live-${this.nextValue++}`;
        const seq = (this.clientSeq.get(99) ?? 0) + 1;
        this.clientSeq.set(99, seq);
        leader.host.onMain({ t: 'propose', id: this.proposalId++, data: pack([{ client: 99, seq, floor: seq, ops: [{ t: 'put', key: KEY_BYTES[0]!, value }] }]), sentAt: 0 });
        proposed = { value, at: this.world.now, term: term! };
      }
      const index = proposed === undefined ? undefined : this.valueIndex.get(proposed.value);
      const members = this.members();
      if (index !== undefined && this.nodes.every((n) => !members.includes(n.id) || n.applied >= Math.floor(index))) {
        const m = this.leaders()[0]?.host?.raft.membership();
        this.summary.membership.finalVoters = m?.voters ?? [];
        this.summary.membership.finalLearners = m?.learners ?? [];
        this.summary.livenessMs = Math.round(this.world.now - start);
        return;
      }
    }
    const states = this.nodes.map((n) => JSON.stringify({ ...n.host?.raft.status(), id: n.id, retired: n.retired, applied: n.applied, pendingSyncs: n.disk.pendingSyncs() }));
    this.fail('Liveness', `no write committed on all nodes within ${boundMs} ms after healing; nodes: ${states.join(' ')}`);
  }

  /**
   * With pre-vote and check-quorum (the host's settings), a follower cut off for several election timeouts and
   * then reconnected does not raise the term of the majority or unseat its leader (§9.6).
   */
  private async checkNonDisruption(): Promise<void> {
    if (!(this.core.preVote ?? true) || !(this.core.checkQuorum ?? true)) return;
    // Let every pause end and the cluster settle first: only the partition may act in this phase.
    const pausesEnd = Math.max(...this.ids.map((id) => this.world.clock(id).pausedUntil));
    await this.world.runUntil(Math.max(this.world.now, pausesEnd) + 2 * ELECTION_MAX * TICK_MS);
    this.throwIfViolated();
    const leader = this.leaders()[0];
    if (!leader?.host) return;
    const term = leader.host.raft.status().term;
    const members = this.members();
    // Isolate a node the leader's quorum does not need: a learner, or a voter when the others are a majority.
    const m = leader.host.raft.membership();
    const spareVoter = m.voters.length - 1 >= Math.floor(m.voters.length / 2) + 1;
    const isolated = this.rng.pick(members.filter((id) => id !== leader.id && (spareVoter || m.learners.includes(id))));
    if (isolated === undefined) return;
    for (const id of this.ids) {
      if (id === isolated) continue;
      this.world.net.blocked.add(`${id}>${isolated}`);
      this.world.net.blocked.add(`${isolated}>${id}`);
    }
    await this.world.runUntil(this.world.now + 4 * ELECTION_MAX * TICK_MS);
    this.heal();
    await this.world.runUntil(this.world.now + 4 * ELECTION_MAX * TICK_MS);
    this.throwIfViolated();
    for (const n of this.alive()) {
      if (n.id === isolated || !members.includes(n.id)) continue;
      const s = n.host!.raft.status();
      if (s.term !== term) this.fail('Non-disruption', `node ${isolated} rejoined after a partition and node ${n.id}'s term went from ${term} to ${s.term}`);
    }
    if (leader.host?.raft.status().role !== 'leader') this.fail('Non-disruption', `node ${isolated} rejoined after a partition and leader ${leader.id} lost leadership`);
    this.summary.nonDisruption = 'checked';
  }

  /** Every acknowledged write is in every replica's state, or overwritten by a later write of the same key. */
  private checkDurability(): void {
    const members = this.opts.spares ? [...this.summary.membership.finalVoters, ...this.summary.membership.finalLearners] : this.ids;
    for (const n of this.nodes) {
      if (!members.includes(n.id)) continue;
      const store = n.disk.stateForChecks();
      if (!store) continue;
      for (let k = 0; k < KEYS; k++) {
        if (this.lastAcked[k] === 0) continue;
        const v = store.get(KEY_BYTES[k]!);
        const vi = v === undefined ? this.clearedBy(n.applied) : (this.valueIndex.get(String(v)) ?? 0);
        if (vi < this.lastAcked[k]!) this.fail('Acknowledged Write Lost', `node ${n.id} holds k${k} from index ${vi}; the write at ${this.lastAcked[k]} was acknowledged`);
      }
    }
  }

  private finishSummary(): void {
    for (const n of this.nodes) {
      if (n.host) this.collectStats(n.host);
      this.summary.faults.lostWrites += n.disk.stats.lostWrites;
      this.summary.faults.keptUnsyncedWrites += n.disk.stats.keptUnsynced;
    }
    const w = this.world.stats;
    this.summary.faults.dropped = w.framesDropped;
    this.summary.faults.duplicated = w.framesDuplicated;
    this.summary.faults.snapFramesDropped = w.snapFramesDropped;
    this.summary.faults.snapFramesDuplicated = w.snapFramesDuplicated;
    this.summary.faults.ticksDropped = w.ticksDropped;
    this.summary.committed = this.maxCommitted;
  }
}

export function runSimulation(opts: SimOptions): Promise<SimSummary> {
  return new Simulation(opts).run();
}

export function replayCommand(o: SimOptions): string {
  const extra = [
    o.chaos !== undefined && o.chaos !== 1 ? `CHAOS=${o.chaos}` : '',
    o.overrides !== undefined && Object.keys(o.overrides).length > 0 ? `OVERRIDES='${JSON.stringify(o.overrides)}'` : '',
    o.testBreak !== undefined ? `BREAK=${o.testBreak}` : '',
    o.spares ? `SPARES=${o.spares}` : '',
    o.ops === 'mixed' ? 'OPS=mixed' : '',
  ].filter((x) => x !== '');
  return ['SEED=' + o.seed, 'NODES=' + o.nodes, 'STEPS=' + o.steps, ...extra, 'npm run sim'].join(' ');
}
