// NodeHost: drives one pure raft core with the timers, storage and transport it is given (runtime.ts): the
// worker gives it real ones, the deterministic simulation (test/sim/) simulated ones.
// The Ready loop (ARCHITECTURE.md): send leader messages → the log write (entries + hard state + purge,
// synced, on the storage pool; up to maxOutstandingReadies in flight) → apply committed entries whose log
// is durable (on this thread, unsynced) → when the write completes: send acknowledgements, answer clients
// and reads, advance().
import type { Logger } from 'pino';
import { Raft } from '../raft/index.js';
import type { ConfChangeResult, Entry, HardState, LogId, Message, NodeId, RaftConfig, Ready, Role, SnapshotMeta } from '../raft/types.js';
import type { ConfChange } from '../raft/membership.js';
import { assert } from '../raft/assert.js';
import type { NodeStorage } from '../adaptor/index.js';
import type { WriteBatch } from '../storage/types.js';
import { stampEntryData, type CommandResult } from '../storage/command.js';
import { readTime } from '../storage/apply.js';
import { runQuery, type QueryResult, type ReadQuery } from './queries.js';
import { ErrorCode, errorData } from '../errors.js';
import { boundedReadTime } from '../util/clock.js';
import { LatencyHistogram, nowMs, type LatencySummaryMs } from '../util/histogram.js';
import { mulberry32 } from '../util/random.js';
import { ThreadHealth, threadMemory, type PoolHealthCounters, type PoolMemoryCounters, type ThreadHealthCounters, type ThreadMemory } from '../util/thread-health.js';
import type { NodeOptions } from './config.js';
import type { FromNode, LinkFaults, StageTimes, ToNode } from './protocol.js';
import type { PeerFrame, Transport } from '../transport/types.js';
import { SnapshotSender, SnapshotReceiverSlot } from './snapshots.js';
import type { HostRuntime, HostStorage, TimerHandle } from './runtime.js';
import { encodeApplied } from './applied.js';
import { WatchFeed } from './watch.js';

interface PendingProposal {
  id: number;
  received: number;
  persistStart: number;
  persistEnd: number;
  committed: number;
}

/** A read's queries (memory storage: answered here), or null (LMDB: the coordinator reads once told the index is applied). */
interface ReadWork {
  queries: ReadQuery[];
  now: number | undefined;
  /** The coordinator's real wall clock when `now` was read (as `now` unless a test moved Date.now()). */
  wall: number | undefined;
}

/** A barrier read confirmed or not yet: its queries (null: the coordinator answers) and when it was sent. */
interface BarrierRead {
  work: ReadWork | null;
  /** The real wall clock when the coordinator sent the read (this node's clock when it arrived, if not given). */
  since: number;
}

interface PendingRead extends BarrierRead {
  id: number;
  index: number;
}

/** A Ready handed out whose storage write is in flight; finished in hand-out order. */
interface InFlightReady {
  rd: Ready;
  durable: boolean;
  hasBatch: boolean;
  persistStart: number;
  done: boolean;
}

export interface NodeCounters {
  proposals: number;
  proposedEntries: number;
  rejectedProposals: number;
  /** Entries an idle leader proposed to purge expired keys (purgeWhenIdle). */
  idlePurges: number;
  commits: number;
  applies: number;
  readIndexRequests: number;
  elections: number;
  leaderChanges: number;
  snapshotsSent: number;
  snapshotsReceived: number;
  snapshotPoints: number;
  /** Snapshot points a leader held before compacting at them, for a follower the log could still catch up. */
  snapshotPointsHeld: number;
  /** Checkpoints of the state started (CHECKPOINT_COPY_RATIO: not at every snapshot point of a large state). */
  checkpoints: number;
  readyRounds: number;
  storageWrites: number;
  /** Log writes made on the node thread and through the pool (with two stores: writeLog). */
  logWritesInline: number;
  logWritesPooled: number;
  badFrames: number;
}

/** The state machine's cache figures, in a node's metrics. */
export interface CacheCounters {
  /** Records held (expired ones not purged yet included). */
  keys: number;
  /** Keys evicted by maxKeys/maxBytes, and expired keys purged, by this replica since its state was created. */
  evictions: number;
  expirations: number;
  /** Keys with an expiry (expired ones not purged yet included), and the mean ms they have left (0: none, or past). */
  expires: number;
  avgTtlMs: number;
}

/**
 * A node's metrics counters: its own, the cache's, its thread's memory, its pool thread's memory (with a pool), and
 * the threads' health once resetMetrics() started measuring it.
 */
export type NodeMetricsCounters = NodeCounters & CacheCounters & ThreadMemory & Partial<PoolMemoryCounters> & Partial<ThreadHealthCounters & PoolHealthCounters>;

export interface NodeHistograms {
  /** proposal received → its Ready starts persisting (waits behind the previous fsync). */
  leaderQueue: LatencyHistogram;
  /** the leader's storage transaction (entries + hard state + apply), fsync included. */
  leaderFsync: LatencyHistogram;
  /** leader persisted → commit known (waiting for a quorum of follower acknowledgements). */
  replication: LatencyHistogram;
  /** commit known → applied (the next transaction). */
  apply: LatencyHistogram;
  /** follower storage transactions (fsync included). */
  followerFsync: LatencyHistogram;
  /** append sent → acknowledgement received, per follower message. */
  appendRoundTrip: LatencyHistogram;
}

/** What a host is given: its clock and timers, its transport, its storage, and where its outputs go. */
export interface HostDeps {
  runtime: HostRuntime;
  transport: Transport & { setFaults(f: LinkFaults): void };
  openStorage(): Promise<HostStorage>;
  toMain(msg: FromNode, transfer?: ArrayBuffer[]): void;
  log: Logger;
  /** Simulation and tests only: core settings the host otherwise fixes (pre-vote and check-quorum are always on). */
  core?: Partial<Pick<RaftConfig, 'preVote' | 'checkQuorum' | 'testBreak'>>;
}

/** The data of an entry proposed to purge expired keys: its stamp alone, no commands. */
const EMPTY_PAYLOAD = new Uint8Array(0);

/** Bound of the ticks one countElapsed() catches up, in maximum election timeouts. */
const MAX_CATCH_UP_ELECTION_TIMEOUTS = 3;

/** Records a digest in progress hashes per event-loop turn (Cluster.checkReplicas): about 5 ms of this thread at ~5 us a record. */
const DIGEST_RECORDS_PER_TURN = 1024;

/**
 * Where a leader writes its log (with two stores: on its own thread, or through the pool). The pool exists so that
 * the node thread keeps stepping while the disk syncs; it costs two thread hops a write, which buy nothing when no
 * proposal arrives during the write (a closed loop whose writes all wait for the same round). So the leader writes
 * on its own thread until a proposal waits behind such a write (sent before the write ended, handled after it);
 * then through the pool, until QUIET_POOL_WRITES pool writes in a row saw no proposal arrive while they synced.
 */
export class LeaderWriteChoice {
  static readonly QUIET_POOL_WRITES = 4;
  /** Write on the node thread (else through the pool). */
  inline = true;
  private inlineEnd = 0;
  private lastProposal = 0;
  private quiet = 0;

  reset(): void {
    this.inline = true;
    this.inlineEnd = 0;
    this.lastProposal = 0;
    this.quiet = 0;
  }

  /** A proposal sent at `sentAt` is handled at `now` (one clock: nowMs), while pool writes are in flight or not. */
  proposed(sentAt: number, now: number, poolBusy: boolean): void {
    this.lastProposal = now;
    if (this.inline && !poolBusy && sentAt < this.inlineEnd) {
      this.inline = false; // it waited while this thread was writing
      this.quiet = 0;
    }
  }

  /** A write on the node thread ended at `end`. */
  wroteInline(end: number): void {
    this.inlineEnd = end;
  }

  /** A pool write that started at `started` ended; `inFlight` pool writes are still under way. */
  wrotePooled(started: number, inFlight: number): void {
    if (this.inline) return;
    this.quiet = this.lastProposal < started ? this.quiet + 1 : 0;
    if (this.quiet >= LeaderWriteChoice.QUIET_POOL_WRITES && inFlight === 0) this.inline = true;
  }
}

/**
 * A checkpoint copies the whole state file (LMDB). A state larger than CHECKPOINT_FREE_BYTES is copied only once the
 * entry data applied since the last copy began is at least 1/CHECKPOINT_COPY_RATIO of what it would copy, so that
 * checkpoints copy at most about this many times the data written. (Taken at every snapshot point, a 500 MB state of
 * 1 MB values was copied every 64 entries, 64 MiB: 8 bytes copied per byte written, on each node, and the disk
 * saturated.) The price: the log on disk keeps up to half the state's size of entries more, which a restart after a
 * machine crash re-applies.
 */
const CHECKPOINT_COPY_RATIO = 2;
const CHECKPOINT_FREE_BYTES = 64 * 1024 * 1024;

/** Snapshot points due that a leader holds at most for a follower catching up (each about one interval of log). */
const MAX_HELD_POINTS = 2;

export class NodeHost {
  readonly id: NodeId;
  private core!: Raft;
  /** The core, for observers (the simulation's property checks read its log and role). Never step it from outside. */
  get raft(): Raft {
    return this.core;
  }
  /** The log's storage: with LMDB and a pool, a 'log' store in the pool thread (a leader's fsync blocks there). */
  private storage!: NodeStorage;
  /**
   * The state machine's storage, on this thread: with LMDB and a pool, an 'all' store of its own (applying
   * is CPU work without an fsync: it need not queue behind the log's fsyncs; it writes the log while this node
   * follows: writeLog); otherwise the same storage.
   */
  private state!: NodeStorage;
  private stateSync!: NonNullable<NodeStorage['sync']>;
  private digestScheduled = false;
  /** Watch: the ring of recent change events and the coordinator's subscriptions (off until someone watches). */
  private watch!: WatchFeed;
  /** The log is durable up to here (the last entry of the last finished Ready): committed entries up to it may be applied. */
  private persistedTo = 0;
  /** Committed entries handed out but not applied yet (they wait for their own log write), in order. */
  private applyQueue: Entry[] = [];
  /** With two stores: which one wrote the log last (writeLog), and the pool's log writes in flight. */
  private logWriter: 'pool' | 'node' = 'pool';
  private stateWritesLog = false;
  private poolWrites = 0;
  /** A leader's choice of writer (writeLog): on this thread until a proposal waits behind such a write. */
  private readonly leaderWrites = new LeaderWriteChoice();
  /** An asynchronous checkpoint of the state under way, and the purge point that waits for the next one. */
  private checkpointing: Promise<void> | undefined;
  private purgeAfterCheckpoint: LogId | undefined;
  /** A hard state that only moved the commit index, written with the next log write. */
  private pendingHardState: HardState | undefined;
  private tickTimer: TimerHandle | undefined;
  /** runtime.now() up to which elapsed time has been counted on the core's clock (see countElapsed). */
  private tickedUntilMs = 0;
  /** Time was counted since the timeouts were last acted on (onTimer). */
  private timeoutsOwed = false;
  /** The last timer callback found a stall and left the timeouts to this one (onTimer). */
  private timeoutsDeferred = false;
  private driving = false;
  /** Counts core.ready() calls: a snapshot stepped in during round r is installed by a Ready of round > r. */
  private readyRound = 0;
  private kickScheduled = false;
  private stopped = false;
  private stopping = false;
  private stopDone: Promise<void> = new Promise(() => undefined);
  private role: Role = 'follower';
  private leader: NodeId = 0;
  private term = 0;
  private applied = 0;
  /** Snapshot points: every snapshotEveryEntries applied entries we remember a point and compact at the previous one. */
  private nextSnapshotPoint: LogId | undefined;
  /** Points due for compaction that a leader holds for a follower the log can still catch up (releaseHeldPoints). */
  private heldPoints: LogId[] = [];
  private snapshotIndex = 0;
  private purgeTo: LogId | undefined;
  private bytesSincePoint = 0;
  /** Entry data applied since the last checkpoint began (CHECKPOINT_COPY_RATIO). */
  private bytesSinceCheckpoint = 0;
  /** The point waiting for a checkpoint was requested (snapshotAtApplied): it is taken whatever the ratio. */
  private checkpointRequested = false;
  private snapshotRequested = false;
  /** The term and vote known durable: a Ready that changes neither (nor appends) needs no fsync. */
  private durableHardState = { term: 0, vote: 0 };
  /** Readies whose storage writes are in flight, oldest first (asynchronous storage writes). */
  private readonly inflight: InFlightReady[] = [];
  private drained: (() => void) | undefined;
  private readonly pendingProposals = new Map<number, PendingProposal>(); // by log index
  private readonly readsById = new Map<number, BarrierRead>();
  /**
   * The index and time stamp of this node's proposals not yet applied, oldest first (from stampHead): a barrier read
   * is judged no later than the oldest (readBound), since that write will judge expiry at its stamp when it applies.
   */
  private stampIndexes: number[] = [];
  private stampTimes: number[] = [];
  private stampHead = 0;
  private readonly readsWaiting: PendingRead[] = [];
  private readonly appendSentAt = new Map<NodeId, Array<[number, number]>>(); // peer → [lastIndex, sentAt]
  private readonly sender: SnapshotSender;
  private readonly receiver: SnapshotReceiverSlot;
  readonly counters: NodeCounters = {
    proposals: 0, proposedEntries: 0, rejectedProposals: 0, idlePurges: 0, commits: 0, applies: 0, readIndexRequests: 0,
    elections: 0, leaderChanges: 0, snapshotsSent: 0, snapshotsReceived: 0, snapshotPoints: 0, snapshotPointsHeld: 0, checkpoints: 0, readyRounds: 0,
    storageWrites: 0, logWritesInline: 0, logWritesPooled: 0, badFrames: 0,
  };
  readonly histograms: NodeHistograms = {
    leaderQueue: new LatencyHistogram(),
    leaderFsync: new LatencyHistogram(),
    replication: new LatencyHistogram(),
    apply: new LatencyHistogram(),
    followerFsync: new LatencyHistogram(),
    appendRoundTrip: new LatencyHistogram(),
  };
  /**
   * Thread health for the benchmark (issue 15): this thread's event-loop utilization and GC pauses,
   * started by the first resetMetrics() (so hosts that are never measured, as in the simulation,
   * observe nothing) and reported in metrics().counters.
   */
  private health: ThreadHealth | undefined;

  /** Stage timing on (NodeOptions.instrument); switched at run time by setInstrument(). */
  private instrument: boolean;
  private readonly runtime: HostRuntime;
  private readonly transport: HostDeps['transport'];
  private readonly toMain: HostDeps['toMain'];
  private readonly log: Logger;

  private constructor(
    private readonly opts: NodeOptions,
    private readonly deps: HostDeps,
  ) {
    this.id = opts.id;
    this.instrument = opts.instrument;
    this.runtime = deps.runtime;
    this.transport = deps.transport;
    this.toMain = deps.toMain;
    this.log = deps.log;
    const { transport, log, runtime } = deps;
    this.sender = new SnapshotSender(this.id, transport, runtime, opts, log, {
      build: () => this.state.stateMachine.getSnapshotBuilder().then((b) => b.buildSnapshot()),
      report: (to, ok) => {
        this.core.reportSnapshot(to, ok);
        if (ok) this.counters.snapshotsSent++;
        this.kick();
      },
    });
    this.receiver = new SnapshotReceiverSlot(this.id, transport, runtime, opts, log, {
      begin: () => this.state.stateMachine.beginReceivingSnapshot(),
      deliver: (msg, from) => this.stepPeerMessage(from, msg),
      round: () => this.readyRound,
      leader: () => this.leader,
    });
  }

  static async open(opts: NodeOptions, deps: HostDeps): Promise<NodeHost> {
    const host = new NodeHost(opts, deps);
    await host.init();
    return host;
  }

  private async init(): Promise<void> {
    const o = this.opts;
    const storage = await this.deps.openStorage();
    this.storage = storage.log;
    this.state = storage.state;
    this.stateWritesLog = storage.stateWritesLog === true && this.state !== this.storage;
    const sync = this.state.sync;
    if (!sync) {
      await this.storage.close();
      if (this.state !== this.storage) await this.state.close();
      throw new Error('the state storage must run on the node thread');
    }
    this.stateSync = sync;
    this.watch = new WatchFeed((on) => sync.recordEvents(on), (m) => this.toMain(m));
    const initial = await this.storage.loadInitialState();
    this.persistedTo = initial.entries[initial.entries.length - 1]?.index ?? initial.snapshot?.index ?? 0;
    const rand = mulberry32(o.seed);
    const config: RaftConfig = {
      id: o.id,
      voters: o.voters,
      ...(o.learners === undefined ? {} : { learners: o.learners }),
      heartbeatTicks: o.timing.heartbeatTicks,
      electionTimeoutMinTicks: o.timing.electionTimeoutMinTicks,
      electionTimeoutMaxTicks: o.timing.electionTimeoutMaxTicks,
      preVote: true,
      checkQuorum: true,
      maxInflightMsgs: o.maxInflightMsgs,
      maxInflightBytes: o.maxInflightBytes,
      maxMsgBytes: o.maxMsgBytes,
      maxApplyBytes: o.maxApplyBytes,
      maxOutstandingReadies: o.maxOutstandingReadies,
      ...(o.coldStart === true ? { coldStart: true } : {}),
      random: (n) => Math.floor(rand() * n),
      ...this.deps.core,
    };
    this.core = new Raft(config, initial);
    this.applied = initial.applied;
    this.snapshotIndex = initial.snapshot?.index ?? 0;
    this.term = initial.hardState.term;
    this.durableHardState = { term: initial.hardState.term, vote: initial.hardState.vote };
    this.transport.onFrame((from, frame) => this.onFrame(from, frame));
    this.log.info({ node: o.id, applied: this.applied, term: this.term, entries: initial.entries.length }, 'node opened');
  }

  start(): void {
    this.tickedUntilMs = this.runtime.now();
    this.tickTimer = this.runtime.setInterval(() => this.onTimer(), this.opts.timing.tickMs);
    this.toMain({ t: 'ready', id: this.id });
    this.kick();
  }

  /**
   * Counts every whole tickMs of monotonic time elapsed on the core's clock (core.elapse), acting on none of it.
   * A setInterval drops the callbacks an event-loop stall swallows, and a leader's lease (§6.4.1) is counted in
   * ticks: a stalled leader would keep it for longer in real time than its followers' election timeouts.
   * Catch-up is bounded to a few election timeouts (more than any lease or check-quorum interval); the rest is
   * dropped, which only makes this node wait longer before voting, never shorter. Returns the ticks elapsed.
   */
  private countElapsed(): number {
    if (this.tickTimer === undefined) return 0; // not started: time counts from start()
    const t = this.opts.timing;
    const due = Math.floor((this.runtime.now() - this.tickedUntilMs) / t.tickMs);
    if (due <= 0) return 0;
    this.tickedUntilMs += due * t.tickMs;
    this.core.elapse(Math.min(due, MAX_CATCH_UP_ELECTION_TIMEOUTS * t.electionTimeoutMaxTicks));
    this.timeoutsOwed = true;
    return due;
  }

  /**
   * The interval timer: count the time, then act on the timeouts due (campaign, check quorum, heartbeat). A timer
   * more than a tick late found this thread stalled, and what the stall queued is still unread: the leader's
   * heartbeats, the followers' answers. Judged before it, the timeouts would make a follower campaign and a
   * leader step down (check-quorum) for want of messages waiting in its port: 100 callers writing 1 MB values
   * stall every node for 0.3 to 0.8 s at a time, and so deposed the leader every few seconds. So that callback
   * only counts; the event loop reads the ports (its poll phase) before the next one, which acts whatever its
   * own delay.
   */
  private onTimer(): void {
    const due = this.countElapsed();
    if (!this.timeoutsOwed) return;
    if (due > 1 && !this.timeoutsDeferred) {
      this.timeoutsDeferred = true;
      return;
    }
    this.timeoutsDeferred = false;
    this.timeoutsOwed = false;
    this.core.fireTimeouts();
    this.purgeWhenIdle();
    this.kick();
  }

  /**
   * Expired keys are removed by the entries that follow their expiry (docs/storage.md): a leader with nothing in
   * flight proposes an entry of its stamp alone once a key is due, so that an idle cluster removes them too and
   * their watchers hear of it. At most one such entry in flight, and one per tick.
   */
  private purgeWhenIdle(): void {
    if (this.role !== 'leader' || this.core.log.lastIndex !== this.applied) return;
    const stamp = this.runtime.wallNow();
    if (this.stateSync.nextExpiry() > stamp) return;
    if (this.core.propose([stampEntryData(EMPTY_PAYLOAD, stamp)]).ok) this.counters.idlePurges++;
  }

  setFaults(f: LinkFaults): void {
    this.transport.setFaults(f);
  }

  // ───────────────────────────── inputs ─────────────────────────────

  onMain(msg: ToNode): void {
    if (this.stopped) return;
    switch (msg.t) {
      case 'propose':
        this.leaderWrites.proposed(msg.sentAt, nowMs(), this.poolWrites > 0);
        this.propose(msg.id, msg.data);
        break;
      case 'read':
        this.read(msg.id, msg.mode, {
          work: msg.queries === null ? null : { queries: msg.queries, now: msg.now, wall: msg.wall },
          since: msg.wall ?? this.runtime.wallNow(),
        });
        break;
      case 'watch-retain':
        this.watch.retain(msg.on, this.applied);
        break;
      case 'watch-sub':
        this.watch.subscribe(msg.sub, msg.from, { keys: msg.keys, prefixes: msg.prefixes }, this.applied);
        break;
      case 'watch-unsub':
        this.watch.unsubscribe(msg.sub);
        break;
      default:
        break;
    }
  }

  private propose(id: number, data: Uint8Array): void {
    const received = nowMs();
    // The entry's time: every replica computes the same expiries from it (the log clock, docs/storage.md).
    const stamp = this.runtime.wallNow();
    const r = this.core.propose([stampEntryData(data, stamp)]);
    if (!r.ok) {
      this.counters.rejectedProposals++;
      this.toMain({ t: 'proposal-failed', id, error: errorData(ErrorCode.NOT_LEADER, `node ${this.id} is not the leader`, { leader: r.leader }) });
      return;
    }
    this.counters.proposals++;
    this.counters.proposedEntries += r.lastIndex - r.firstIndex + 1;
    this.stampIndexes.push(r.firstIndex);
    this.stampTimes.push(stamp);
    if (this.instrument) {
      this.pendingProposals.set(r.firstIndex, { id, received, persistStart: 0, persistEnd: 0, committed: 0 });
    }
    if (this.log.isLevelEnabled('trace')) this.log.trace({ id, index: r.firstIndex, term: r.term }, 'proposed');
    this.kick();
  }

  private read(id: number, mode: 'linearizable' | 'lease' | 'stale', read: BarrierRead): void {
    if (mode === 'stale') {
      this.runQueries({ id, index: this.applied, ...read });
      return;
    }
    this.counters.readIndexRequests++;
    // The lease is judged on the core's clock (§6.4.1): first count the time a stall kept the timer from
    // firing.
    if (mode === 'lease') this.countElapsed();
    const r = mode === 'lease' ? this.core.leaseRead(id) : this.core.readIndex(id);
    if (!r.ok) {
      this.toMain({ t: 'read-failed', id, error: errorData(ErrorCode.NOT_LEADER, `node ${this.id} is not the leader`, { leader: r.leader }) });
      return;
    }
    this.readsById.set(id, read);
    this.kick();
  }

  private onFrame(from: NodeId, frame: PeerFrame): void {
    if (this.stopped) return;
    switch (frame.k) {
      case 'raft':
        if (!Array.isArray(frame.msgs)) return this.badFrame(from, 'raft frame without messages');
        // Count elapsed time first: the tick a follower hears its leader on starts its stickiness promise
        // (§4.2.3) that the leader's lease relies on, so it must not be a tick from before a stall. The
        // timeouts due are acted on by the timer, after these messages (onTimer).
        this.countElapsed();
        for (const m of frame.msgs) this.stepPeerMessage(from, m);
        break;
      case 'snap-begin':
      case 'snap-chunk':
      case 'snap-end':
      case 'snap-abort':
        this.receiver.onFrame(from, frame);
        if (frame.k === 'snap-abort') this.sender.onFrame(from, frame);
        break;
      case 'snap-ack':
        this.sender.onFrame(from, frame);
        break;
      default:
        this.badFrame(from, 'unknown frame kind');
    }
  }

  badFrame(from: NodeId, reason: unknown): void {
    this.counters.badFrames++;
    this.log.warn({ node: this.id, from, reason: String(reason) }, 'dropped a malformed frame');
  }

  /**
   * The channel names the sender: a message claiming another one is forged or corrupt. (The core hears any sender
   * id, so that a leader of a configuration it has not seen yet reaches it: who can talk is the mesh's business.)
   */
  private stepPeerMessage(from: NodeId, m: Message): void {
    if (m !== null && typeof m === 'object' && (m as { from?: unknown }).from !== from) return this.badFrame(from, 'a message whose sender is not its channel\'s peer');
    this.stepMessage(m);
  }

  private stepMessage(m: Message): void {
    if (m === null || typeof m !== 'object') return this.badFrame(0, 'message is not an object');
    if (m.type === 'append-response' && m.success && this.instrument) this.recordRoundTrip(m.from, m.index);
    this.core.step(m); // the core validates and drops malformed or stale messages itself
    this.kick();
  }

  // ───────────────────────────── the Ready loop ─────────────────────────────

  private kick(): void {
    if (this.driving || this.kickScheduled || this.stopped) return;
    this.kickScheduled = true;
    // setImmediate: gather every message that arrived in this event-loop turn into one Ready.
    this.runtime.setImmediate(() => {
      this.kickScheduled = false;
      void this.drive();
    });
  }

  /**
   * Hand out Readies while the core has them and fewer than maxOutstandingReadies are in flight: while the pool
   * syncs one Ready, this thread keeps stepping and starts the next (etcd's AsyncStorageWrites). Writes run in
   * order on the storage thread; each Ready is finished (acknowledgements sent, clients answered, advance())
   * only once its own write and every earlier one completed.
   */
  private async drive(): Promise<void> {
    if (this.driving) return;
    this.driving = true;
    try {
      while (!this.stopped && this.core.hasReady()) {
        this.readyRound++;
        const rd = this.core.ready();
        if (rd.snapshot) {
          // Installing replaces the state machine and the log: every earlier write must be done first.
          this.sendMessages(rd.messages);
          rd.messages = [];
          await this.drainWrites();
          if (this.stopped) return;
          await this.installSnapshot(rd.snapshot);
        }
        this.startReady(rd);
      }
    } catch (err) {
      this.fatal(err);
    } finally {
      this.driving = false;
    }
  }

  /** The first half of a Ready: send what needs no persistence, start its storage write. */
  private startReady(rd: Ready): void {
    this.counters.readyRounds++;
    if (rd.softState) this.onSoftState(rd.softState.role, rd.softState.leader);
    if (rd.hardState) this.term = rd.hardState.term;
    this.sendMessages(rd.messages);
    this.receiver.afterReady(this.readyRound);
    const durable = this.needsDurability(rd);
    const batch = this.writeBatch(rd, durable);
    const f: InFlightReady = { rd, durable, hasBatch: batch !== undefined, persistStart: nowMs(), done: batch === undefined };
    this.inflight.push(f);
    // Committed entries already in the durable log are applied now, on this thread; the rest after their write.
    for (const e of rd.committedEntries) this.applyQueue.push(e);
    this.applyDurable();
    if (!batch) return this.finishReadies();
    const pooled = this.writeLog(batch, () => {
      f.done = true;
      this.finishReadies();
    });
    // While the log write syncs on the pool, the state's deferred work: off the path of the next apply. (A write on
    // this thread is done already: its acknowledgement goes first, and finishReadies does the work after it.)
    if (pooled) this.stateSync.maintain();
  }

  /**
   * The log write of a Ready. With two stores (LMDB and a pool), a follower or candidate writes on this thread: it
   * has nothing to step until its write is done, and the hops to the pool and back lay on the leader's commit path
   * (docs/storage.md). A leader writes through the pool when proposals arrive while its writes sync, so that this
   * thread keeps stepping (proposing them, sending their appends) meanwhile, and on this thread while none do
   * (LeaderWriteChoice). A write goes to this thread only when no pool write is in flight (writes stay in order),
   * and each store reads the log's mirrors again when the other wrote last. `done` runs once the write is durable;
   * returns whether it went through the pool.
   */
  private writeLog(batch: WriteBatch, done: () => void): boolean {
    const fail = (err: unknown): void => this.fatal(err);
    if (!this.stateWritesLog) {
      this.storage.write(batch).then(done, fail);
      return this.storage.sync === undefined; // through a pool
    }
    const leader = this.role === 'leader';
    if (this.poolWrites === 0 && (!leader || this.leaderWrites.inline)) {
      if (this.logWriter !== 'node') {
        this.logWriter = 'node';
        this.state.refreshLog().catch(fail); // inline: done before it returns
      }
      this.state.write(batch).then(done, fail);
      this.counters.logWritesInline++;
      if (leader) this.leaderWrites.wroteInline(nowMs());
      return false;
    }
    if (this.logWriter !== 'pool') {
      this.logWriter = 'pool';
      this.storage.refreshLog().catch(fail); // queued before the write below
    }
    this.poolWrites++;
    this.counters.logWritesPooled++;
    const started = nowMs();
    this.storage.write(batch).then(() => {
      this.poolWrites--;
      if (this.role === 'leader') this.leaderWrites.wrotePooled(started, this.poolWrites);
      done();
    }, fail);
    return true;
  }

  /**
   * Apply the committed entries whose log write completed (§5.3: a committed entry is durable on a majority;
   * here also locally, so that the state never runs ahead of this node's own log). One state transaction,
   * not synced (the log is the durability point); their clients and the reads they unblock are answered now.
   */
  private applyDurable(): void {
    const durableTo = this.durableTo();
    let n = 0;
    while (n < this.applyQueue.length && this.applyQueue[n]!.index <= durableTo) n++;
    if (n === 0) return;
    const entries = this.applyQueue.splice(0, n);
    const start = nowMs();
    const res = this.stateSync.apply(entries);
    this.counters.storageWrites++;
    if (this.stateSync.digests().digestsPending > 0) this.scheduleDigest();
    if (this.watch.recording) {
      // Before the results: a write's events reach the coordinator before the write resolves.
      this.watch.onApplied(res.events ?? [], entries[entries.length - 1]!.index);
    }
    this.onApplied(entries, res.applied, start, nowMs());
    this.answerReads();
  }

  /**
   * A digest op (Cluster.checkReplicas) reads a view of the whole state: a slice of it per event-loop turn, between
   * this node's Raft steps, so that its writes go on meanwhile; each finished digest goes to the coordinator.
   */
  private scheduleDigest(): void {
    if (this.digestScheduled) return;
    this.digestScheduled = true;
    this.runtime.setImmediate(() => {
      this.digestScheduled = false;
      if (this.stopped) return;
      try {
        const store = this.stateSync.digests();
        const done = store.digestStep(DIGEST_RECORDS_PER_TURN);
        if (done.length > 0) this.toMain({ t: 'digest', digests: done });
        if (store.digestsPending > 0) this.scheduleDigest();
      } catch (err) {
        this.fatal(err);
      }
    });
  }

  /**
   * The last index whose entry in the durable log is the core's: persistedTo, but below the first entry of any log
   * write still in flight. A write that replaces a conflicting suffix (§5.3) starts at or below persistedTo, and
   * until it is durable the durable log holds the entries it replaces: a committed entry there must not be applied
   * yet, or the state would run ahead of the log a crash leaves. (Found by the simulation, seed 70715: a follower
   * applied entry 3 of term 3 while its log still held 3 of term 1; the write was lost in a crash, and the reopen
   * took the state's position for an interrupted snapshot install.)
   */
  private durableTo(): number {
    let to = this.persistedTo;
    for (const f of this.inflight) {
      const first = f.rd.entries[0];
      if (!f.done && first !== undefined && first.index <= to) to = first.index - 1;
    }
    return to;
  }

  /** Finish every Ready at the head of the queue whose write completed, in hand-out order. */
  private finishReadies(): void {
    try {
      while (!this.stopped && this.inflight[0]?.done) this.finishReady(this.inflight.shift()!);
      // Acknowledgements and answers are out: what applies deferred (nothing, usually), if no pool write took it.
      if (!this.stopped) this.stateSync.maintain();
    } catch (err) {
      this.fatal(err);
      return;
    }
    if (this.inflight.length === 0 && this.drained) {
      const d = this.drained;
      this.drained = undefined;
      d();
    }
    this.kick();
  }

  private drainWrites(): Promise<void> {
    if (this.inflight.length === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }

  /** The second half: the Ready is durable (and applied): acknowledge, answer clients and reads, advance. */
  private finishReady(f: InFlightReady): void {
    const { rd } = f;
    this.counters.storageWrites += f.hasBatch ? 1 : 0;
    // The log ends where this write left it (a truncating append can shorten it; never below commit).
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry) this.persistedTo = lastEntry.index;
    const persistEnd = nowMs();
    if (f.hasBatch && f.durable) {
      (this.role === 'leader' ? this.histograms.leaderFsync : this.histograms.followerFsync).recordMs(persistEnd - f.persistStart);
    }
    this.sendMessages(rd.persistedMessages);
    if (this.instrument && this.role === 'leader') this.markPersisted(rd.entries, f.persistStart, persistEnd);
    this.applyDurable();
    assert(this.applyQueue.length === 0 || this.applyQueue[0]!.index > (rd.committedEntries[rd.committedEntries.length - 1]?.index ?? 0), 'a finished Ready left committed entries unapplied');
    for (const rs of rd.readStates) {
      const read = this.readsById.get(rs.id);
      if (read === undefined) continue;
      this.readsById.delete(rs.id);
      this.readsWaiting.push({ id: rs.id, index: rs.index, ...read });
    }
    this.answerReads();
    this.core.advance(rd);
    this.maybeSnapshotPoint();
  }

  /**
   * Only new entries and a new term or vote must be on disk before the node goes on; applying, the commit
   * index and purging are replayed or redone after a crash, so Readies with nothing else write no log
   * transaction of their own (see writeBatch).
   */
  private needsDurability(rd: Ready): boolean {
    if (rd.entries.length > 0) return true;
    const hs = rd.hardState;
    return hs !== undefined && (hs.term !== this.durableHardState.term || hs.vote !== this.durableHardState.vote);
  }

  /**
   * The log part of a Ready: entries, a new term or vote, a purge. A hard state that only moves the commit
   * index goes with the next of those (a lost commit index is learnt again), so it costs no write of its own.
   */
  private writeBatch(rd: Ready, durable: boolean): WriteBatch | undefined {
    const purgeTo = this.purgeTo;
    const hardState = rd.hardState ?? this.pendingHardState;
    if (!durable) {
      this.pendingHardState = hardState;
      if (!purgeTo) return undefined;
    }
    const batch: WriteBatch = { entries: rd.entries, apply: [] };
    if (durable && hardState) {
      batch.hardState = hardState;
      this.pendingHardState = undefined;
      this.durableHardState = { term: hardState.term, vote: hardState.vote };
    }
    if (purgeTo) {
      batch.purgeTo = purgeTo;
      this.purgeTo = undefined;
    }
    return batch;
  }

  private async installSnapshot(meta: SnapshotMeta): Promise<void> {
    const receiving = await this.receiver.take(meta);
    if (!receiving) throw new Error(`core asked to install snapshot ${meta.index} that was not received`);
    await this.state.stateMachine.installSnapshot(meta, receiving);
    // Two stores: the state installed it (and took a checkpoint of it); now the log restarts after it.
    if (this.state !== this.storage) {
      // An 'all' state store (stateWritesLog) reset the log too (idempotent): both stores' mirrors are current.
      await this.storage.resetLogTo({ index: meta.index, term: meta.term }, meta.membership);
      this.logWriter = 'pool';
    }
    this.persistedTo = meta.index;
    this.watch.onReset(meta.index);
    this.applyQueue = this.applyQueue.filter((e) => e.index > meta.index);
    this.counters.snapshotsReceived++;
    this.applied = meta.index;
    this.snapshotIndex = meta.index;
    this.nextSnapshotPoint = undefined;
    this.heldPoints = [];
    this.purgeTo = undefined;
    // The install took a checkpoint of the new state, which covers every point named before it.
    this.purgeAfterCheckpoint = undefined;
    this.checkpointRequested = false;
    this.bytesSinceCheckpoint = 0;
    this.log.info({ node: this.id, index: meta.index, term: meta.term }, 'installed snapshot');
  }

  private sendMessages(msgs: Message[]): void {
    if (msgs.length === 0) return;
    if (this.instrument) {
      const t = nowMs();
      for (const m of msgs) {
        if (m.type !== 'append' || m.entries.length === 0) continue;
        let q = this.appendSentAt.get(m.to);
        if (!q) this.appendSentAt.set(m.to, (q = []));
        if (q.length >= 256) q.shift();
        q.push([m.entries[m.entries.length - 1]!.index, t]);
      }
    }
    for (const m of msgs) {
      if (m.type === 'snapshot') {
        this.sender.send(m);
      }
    }
    const raft = msgs.some((m) => m.type === 'snapshot') ? msgs.filter((m) => m.type !== 'snapshot') : msgs;
    this.transport.sendRaft(raft);
  }

  private recordRoundTrip(peer: NodeId, index: number): void {
    const q = this.appendSentAt.get(peer);
    if (!q) return;
    const t = nowMs();
    while (q.length > 0 && q[0]![0] <= index) {
      const [, sentAt] = q.shift()!;
      if (q.length === 0 || q[0]![0] > index) this.histograms.appendRoundTrip.recordMs(t - sentAt);
    }
  }

  private markPersisted(entries: Entry[], start: number, end: number): void {
    for (const e of entries) {
      const p = this.pendingProposals.get(e.index);
      if (p && p.persistStart === 0) {
        p.persistStart = start;
        p.persistEnd = end;
      }
    }
  }

  private onApplied(entries: Entry[], results: CommandResult[][], applyStart: number, appliedAt: number): void {
    if (entries.length === 0) return;
    const last = entries[entries.length - 1]!;
    this.counters.commits += entries.length;
    for (const e of entries) {
      this.bytesSincePoint += e.data.length;
      this.bytesSinceCheckpoint += e.data.length;
    }
    this.counters.applies += entries.length;
    this.applied = last.index;
    this.trimStamps();
    if (this.role !== 'leader') return;
    // Only the leader answers the coordinator; after a leader change the coordinator retries and
    // the state machine's sessions answer a retried command with its remembered result.
    let stages: StageTimes[] | null = null;
    if (this.instrument) {
      stages = [];
      for (const e of entries) {
        const p = this.pendingProposals.get(e.index);
        if (!p) continue;
        this.pendingProposals.delete(e.index);
        if (p.persistStart === 0) continue; // persisted while not leader: no stage times
        // Two followers can commit an entry before the leader's own write of it ends; its apply then waits behind
        // that write (writes run in order), so the apply stage starts when both are true.
        const committed = Math.max(applyStart, p.persistEnd);
        const s: StageTimes = { id: p.id, received: p.received, persistStart: p.persistStart, persistEnd: p.persistEnd, committed, applied: appliedAt };
        stages.push(s);
        this.histograms.leaderQueue.recordMs(s.persistStart - s.received);
        this.histograms.replication.recordMs(s.committed - s.persistEnd);
        this.histograms.apply.recordMs(s.applied - s.committed);
      }
    }
    if (results.some((r) => r.length > 0) || (stages && stages.length > 0)) {
      const bytes = encodeApplied(results, stages);
      this.toMain({ t: 'applied', bytes }, [bytes.buffer as ArrayBuffer]);
    }
  }

  /**
   * The latest time a barrier read answered now may judge expiry at: no later than the stamp of any write proposed
   * here and not applied yet. Such a write judges expiry at its stamp when it applies, after the read: a read that
   * saw a key expired at a later time, followed by a cas that matched it, would be no order of the two (found by a
   * review: a lease read said absent, then a cas proposed before it matched the old value). Entries of earlier
   * terms are applied before a barrier read is answered (the read index covers this term's first entry).
   */
  private readBound(): number {
    this.trimStamps();
    return this.stampHead < this.stampTimes.length ? this.stampTimes[this.stampHead]! : Infinity;
  }

  /** Forget the stamps of applied proposals (at every apply: bounded by the proposals in flight). */
  private trimStamps(): void {
    const idx = this.stampIndexes;
    let h = this.stampHead;
    while (h < idx.length && idx[h]! <= this.applied) h++;
    if (h === idx.length) {
      if (h > 0) {
        this.stampIndexes = [];
        this.stampTimes = [];
      }
      h = 0;
    } else if (h > 1024 && h * 2 > idx.length) {
      this.stampIndexes = idx.slice(h);
      this.stampTimes = this.stampTimes.slice(h);
      h = 0;
    }
    this.stampHead = h;
  }

  /**
   * Answer the barrier reads whose read index is applied, unless a write stamped before a read was sent is still
   * unapplied here while some key expires by then: judged no later than that write's stamp (readBound), the read
   * could return a key that expired before it was sent. It waits for that write to apply instead (the read is
   * then judged no earlier than it was sent). With no key expiring by then, both times give the same answers.
   */
  private answerReads(): void {
    if (this.readsWaiting.length === 0) return;
    const bound = this.readBound();
    const nextExpiry = bound === Infinity ? Infinity : this.stateSync.nextExpiry();
    let kept = 0;
    for (const r of this.readsWaiting) {
      if (r.index > this.applied || (bound < r.since && nextExpiry <= r.since)) {
        this.readsWaiting[kept++] = r;
        continue;
      }
      if (r.work === null) {
        // Answered on the coordinator's thread, later: also no later than now, before which every later write is stamped.
        this.toMain({ t: 'read-ok', id: r.id, index: r.index, values: null, bound: Math.min(this.runtime.wallNow(), bound) });
      } else {
        this.runQueries(r, bound);
      }
    }
    this.readsWaiting.length = kept;
  }

  /**
   * A read's queries against this node's state (on this thread: the state's store is always inline), judged at the
   * caller's clock, and for a barrier read no later than `bound` (readBound).
   */
  private runQueries(r: PendingRead, bound = Infinity): void {
    try {
      const store = this.stateSync.reads();
      const values: QueryResult[] = [];
      const w = r.work;
      const now = w?.now === undefined ? undefined : boundedReadTime(w.now, w.wall ?? w.now, bound);
      for (const q of w?.queries ?? []) values.push(runQuery(store, q, now));
      this.toMain({ t: 'read-ok', id: r.id, index: r.index, values });
    } catch (err) {
      this.toMain({ t: 'read-failed', id: r.id, error: errorData(ErrorCode.STORAGE, `read failed on node ${this.id}`, { cause: String(err) }) });
    }
  }

  private onSoftState(role: Role, leader: NodeId): void {
    const wasLeader = this.role === 'leader';
    if (role === 'candidate' && this.role !== 'candidate') this.counters.elections++;
    if (leader !== this.leader) this.counters.leaderChanges++;
    this.role = role;
    this.leader = leader;
    if (role === 'leader' && !wasLeader) this.leaderWrites.reset();
    if (wasLeader && role !== 'leader') {
      this.pendingProposals.clear();
      // Its proposals' stamps bound only its own barrier reads: left here, those of entries a later leader cut off
      // would hold its reads back (to a time long past) when it leads again, until its log reached their indexes.
      // Entries of an earlier term are applied before any barrier read is answered anyway.
      this.stampIndexes = [];
      this.stampTimes = [];
      this.stampHead = 0;
      this.failReads(ErrorCode.NOT_LEADER, 'lost leadership before the read was confirmed');
    }
    this.log.info({ node: this.id, role, leader, term: this.term }, 'role changed');
    this.toMain({ t: 'state', id: this.id, role, leader, term: this.term });
  }

  private failReads(code: ErrorCode, message: string): void {
    const err = errorData(code, message, { leader: this.leader });
    for (const id of this.readsById.keys()) this.toMain({ t: 'read-failed', id, error: err });
    for (const r of this.readsWaiting) this.toMain({ t: 'read-failed', id: r.id, error: err });
    this.readsById.clear();
    this.readsWaiting.length = 0;
  }

  /**
   * The state machine lives in storage and is durable with its applied index, so a "snapshot" is a
   * point: every snapshotEveryEntries applied entries (or snapshotEveryBytes of entry data, whichever
   * comes first) we remember (applied, term) and compact the log at the point remembered the time
   * before. Followers lagging less than that catch up from the log; others get the state machine
   * streamed (SnapshotSender). A leader holds a point due while a follower the log can still catch up
   * is behind it (up to MAX_HELD_POINTS of them), so that a follower stalled for a moment (a pause of its
   * thread, a slow fsync) is not sent the whole state: under a stream of large batches an interval is a
   * few seconds. The in-memory log is thus bounded by about two intervals, four on a leader that holds.
   */
  private maybeSnapshotPoint(): void {
    const o = this.opts;
    // A snapshot the core accepted is still to be installed (an earlier Ready finished first): the core's log
    // starts after it, so no point behind it can be named; the install resets the points.
    if (this.core.log.applied < this.core.log.snapshotIndex) return;
    if (this.snapshotRequested) return this.snapshotAtApplied();
    this.releaseHeldPoints();
    if (o.snapshotEveryEntries <= 0) return;
    const applied = this.coreApplied();
    const entries = applied.index - (this.nextSnapshotPoint?.index ?? this.snapshotIndex);
    if (entries < o.snapshotEveryEntries && this.bytesSincePoint < o.snapshotEveryBytes) return;
    const prev = this.nextSnapshotPoint;
    this.nextSnapshotPoint = applied;
    this.bytesSincePoint = 0;
    if (!prev || prev.index <= this.snapshotIndex) return;
    this.heldPoints.push(prev);
    this.releaseHeldPoints();
    if (this.heldPoints[this.heldPoints.length - 1] === prev) this.counters.snapshotPointsHeld++;
  }

  /**
   * Compact at the newest point due that no follower the log can still catch up is behind (core.peerCatchingUpTo),
   * or that is more than MAX_HELD_POINTS behind the newest: a follower down, or slower than the leader for good,
   * holds the log back by that much at most, then gets the state streamed as before.
   */
  private releaseHeldPoints(): void {
    const held = this.heldPoints;
    let upTo: LogId | undefined;
    while (held.length > 0 && (held.length > MAX_HELD_POINTS || !this.core.peerCatchingUpTo(held[0]!.index))) upTo = held.shift();
    if (upTo) this.compactAt(upTo);
  }

  /** Whether a checkpoint may start now: on request, or once enough was written since the last (CHECKPOINT_COPY_RATIO). */
  private checkpointDue(): boolean {
    if (this.checkpointRequested) return true;
    const copy = this.stateSync.checkpointBytes();
    return copy <= CHECKPOINT_FREE_BYTES || this.bytesSinceCheckpoint * CHECKPOINT_COPY_RATIO >= copy;
  }

  private compactAt(point: LogId, requested = false): void {
    if (point.index <= this.snapshotIndex) return;
    this.core.compact(point);
    this.snapshotIndex = point.index;
    this.purgeBehindCheckpoint(point, requested);
    this.counters.snapshotPoints++;
    this.log.debug({ node: this.id, index: point.index }, 'compacted log at snapshot point');
  }

  /**
   * The log is purged only behind a checkpoint of the state (docs/storage.md). The checkpoint is LMDB's hot
   * copy in a libuv thread: a synchronous copy of a large state would stall this thread, and its heartbeats,
   * for longer than an election timeout. The purge goes with the first log write after it completes; the
   * checkpoint covers `point` (it covers at least the state's applied index, which is past every point).
   */
  private purgeBehindCheckpoint(point: LogId, requested = false): void {
    this.checkpointRequested ||= requested;
    if (this.checkpointing || !this.checkpointDue()) {
      // The next checkpoint: when this one completes, or at a later point once enough was written.
      this.purgeAfterCheckpoint = point;
      return;
    }
    this.checkpointRequested = false;
    this.bytesSinceCheckpoint = 0;
    this.counters.checkpoints++;
    this.checkpointing = this.stateSync.checkpointAsync().then(
      () => {
        this.checkpointing = undefined;
        if (this.stopped) return;
        this.purgeTo = point;
        const next = this.purgeAfterCheckpoint;
        this.purgeAfterCheckpoint = undefined;
        if (next) this.purgeBehindCheckpoint(next);
        this.kick();
      },
      (err: unknown) => {
        this.checkpointing = undefined;
        this.fatal(err);
      },
    );
  }

  /**
   * What the core counts as applied (advance() of finished Readies): a snapshot point never passes it. The
   * state itself may be ahead (entries of Readies still in flight are applied as soon as their log is durable).
   */
  private coreApplied(): LogId {
    const index = this.core.log.applied;
    const term = this.core.log.term(index);
    assert(term !== undefined, () => `no term for applied index ${index} (log ${JSON.stringify({ first: this.core.log.firstIndex, last: this.core.log.lastIndex, snap: this.core.log.snapshotIndex, commit: this.core.log.commit })})`);
    return { index, term };
  }

  /** A requested snapshot point: compact the core and purge the log up to the applied index now. */
  private snapshotAtApplied(): void {
    this.snapshotRequested = false;
    const point = this.coreApplied();
    if (point.index <= this.snapshotIndex) return;
    this.compactAt(point, true);
    this.nextSnapshotPoint = undefined;
    this.heldPoints = [];
    this.bytesSincePoint = 0;
    this.log.info({ node: this.id, index: point.index }, 'snapshot point taken on request');
  }

  // ───────────────────────────── control ─────────────────────────────

  /**
   * Control plane: take a snapshot point after the next Ready (between Readies the core and storage agree), or now
   * when none is in flight or due.
   */
  requestSnapshot(): void {
    this.snapshotRequested = true;
    // Taken when the next Ready finishes; an idle node has none coming (a single voter hears no heartbeats: until
    // session 30 Cluster.snapshot() timed out on it), so with none in flight or due it is taken now.
    if (this.inflight.length === 0 && !this.core.hasReady()) this.maybeSnapshotPoint();
    else this.kick();
  }

  status(): Record<string, unknown> {
    return {
      ...this.core.status(),
      stateApplied: this.applied,
      driving: this.driving,
      pendingReads: this.readsById.size + this.readsWaiting.length,
      snapshotSending: this.sender.active(),
      watch: this.watch.stats(),
      coreStats: { ...this.core.stats },
    };
  }

  /**
   * Counters (with the state machine's cache figures: keys held, evictions, expirations) and the histograms'
   * summaries (made here: encoding them for the coordinator to decode cost it about 10 ms of its thread per INFO).
   */
  async metrics(): Promise<{ counters: NodeMetricsCounters; histograms: Record<keyof NodeHistograms, LatencySummaryMs> }> {
    const h = this.histograms;
    const st = await this.state.stats();
    // A pool that fails to answer (its store failed) leaves its figures out, not this node's.
    const pool = await this.storage.poolHealth(false).catch(() => undefined);
    return {
      counters: {
        ...this.counters,
        ...this.health?.counters(), // thread health (issue 15), once resetMetrics() started it
        ...threadMemory(), // this thread's heap and external memory
        ...pool, // the storage pool thread's memory, and its health once measured, with a pool
        elections: Math.max(this.counters.elections, this.core.stats.elections ?? 0),
        keys: st.keys,
        evictions: st.evictions,
        expirations: st.expirations,
        expires: st.expires,
        avgTtlMs: st.expires === 0 ? 0 : Math.max(0, Math.round(st.meanExpiresAt - readTime(st.clock, undefined))),
      },
      histograms: {
        leaderQueue: h.leaderQueue.summary(),
        leaderFsync: h.leaderFsync.summary(),
        replication: h.replication.summary(),
        apply: h.apply.summary(),
        followerFsync: h.followerFsync.summary(),
        appendRoundTrip: h.appendRoundTrip.summary(),
      },
    };
  }

  /**
   * Control plane: stage timing on or off from now on. Entries proposed while it was on and applied after it is off
   * carry no stage times (what was kept for them is dropped), so no half-timed write reaches the coordinator.
   */
  setInstrument(on: boolean): void {
    if (on === this.instrument) return;
    this.instrument = on;
    if (!on) {
      this.pendingProposals.clear();
      this.appendSentAt.clear();
    }
  }

  async resetMetrics(): Promise<void> {
    for (const h of Object.values(this.histograms)) h.reset();
    (this.health ??= new ThreadHealth()).reset(); // thread health (issue 15)
    await this.storage.poolHealth(true);
  }

  transferLeadership(to: NodeId): boolean {
    const ok = this.core.transferLeadership(to);
    this.kick();
    return ok;
  }

  campaign(): void {
    this.core.campaign();
    this.kick();
  }

  /** Control plane: propose a configuration change (one server at a time, src/raft/membership.ts); the leader only. */
  proposeConfChange(change: ConfChange): ConfChangeResult {
    const r = this.core.proposeConfChange(change);
    if (r.ok) this.log.info({ node: this.id, change, index: r.index }, 'configuration change proposed');
    this.kick();
    return r;
  }

  private fatal(err: unknown): void {
    const e = err as { message?: string; code?: string; stack?: string };
    this.log.error({ node: this.id, err: e.message, code: e.code }, 'node failed');
    const stopping = this.stop(); // first, so whenStopped() is the real stop when the worker hears of the failure
    this.toMain({ t: 'fatal', id: this.id, error: { message: String(e.message ?? err), ...(e.code ? { code: e.code } : {}), ...(e.stack ? { stack: e.stack } : {}) } });
    stopping.catch(() => undefined);
  }

  /** Resolves once stop() has finished (storage closed). */
  whenStopped(): Promise<void> {
    return this.stopDone;
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.stopDone;
    this.stopping = true;
    this.stopDone = this.doStop();
    return this.stopDone;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    this.health?.stop(); // thread health (issue 15)
    if (this.tickTimer !== undefined) this.runtime.clearInterval(this.tickTimer);
    this.sender.close();
    this.receiver.close();
    this.transport.close();
    // Let an in-flight storage write finish before closing the environment.
    for (let i = 0; i < 500 && (this.driving || this.inflight.some((f) => !f.done)); i++) await new Promise<void>((r) => void this.runtime.setTimeout(r, 10));
    this.drained?.();
    // The checkpoint copy reads the state environment: let it finish before the environment closes.
    await this.checkpointing?.catch(() => undefined);
    await this.storage.close();
    if (this.state !== this.storage) await this.state.close();
  }

  /**
   * Test-only: block this node's thread for `ms`, as a long GC pause or a stuck handler would: no timer, message or
   * I/O callback of this thread runs meanwhile. A synchronous wait, not a busy loop, so that the stall does not take a
   * core from the rest of the process (Worker.terminate() still interrupts it).
   */
  stallForTest(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  }
}
