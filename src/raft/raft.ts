// The pure Raft core: state, step(message), tick(), propose(), readIndex(); it emits a Ready and is told advance().
// No I/O, no timers, no Math.random (config.random), no async, no Date.
import { assert } from './assert.js';
import { entryBytes, RaftLog } from './log.js';
import { Progress } from './progress.js';
import { applyConfChange, decodeConfEntry, encodeConfEntry, normalizeMembership, type ConfChange } from './membership.js';
import { majority, quorumValue, voteResult } from './quorum.js';
import { messageProblem } from './validate.js';
import {
  EntryType,
  NONE,
  type AppendRequest,
  type AppendResponse,
  type ConfChangeResult,
  type Entry,
  type HardState,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type InitialState,
  type Membership,
  type Message,
  type NodeId,
  type ProposeResult,
  type RaftConfig,
  type RaftStatus,
  type ReadIndexResult,
  type ReadState,
  type Ready,
  type Role,
  type SnapshotMeta,
  type SnapshotRequest,
  type SoftState,
  type VoteRequest,
  type VoteResponse,
} from './types.js';

export interface RaftStats {
  /** Messages dropped by step(): malformed, misaddressed, from unknown nodes, stale terms, unexpected. */
  droppedMessages: number;
  /** Real elections started (term incremented as candidate). */
  elections: number;
  /** Pre-vote rounds started (thesis §9.6). */
  preVotes: number;
  /** Times this node became leader. */
  leaderships: number;
  snapshotsSent: number;
  /** Check-quorum step-downs (thesis §6.2). */
  checkQuorumStepDowns: number;
  /** (Pre)vote requests ignored because a live leader was heard from recently (leader stickiness). */
  votesIgnoredInLease: number;
  transfersStarted: number;
  transfersAborted: number;
  /** ReadIndex heartbeat rounds broadcast (every heartbeat is a round). */
  heartbeatRounds: number;
  leaseReads: number;
  appendsSent: number;
  /** Configuration changes appended by this node as leader. */
  confChangesProposed: number;
  /** A leader stepped down once its own removal committed (thesis §4.2.2). */
  removedStepDowns: number;
  /** Why the last dropped message was dropped (for tests and logs). */
  lastDropReason: string;
}

interface PendingRead {
  id: number;
  index: number;
  /** Served once a majority answered a heartbeat round >= this. */
  round: number;
}

const EMPTY = new Uint8Array(0);

/** A ConfChange entry in the log: (index, term) identifies it (Log Matching), the configuration it holds. */
interface ConfEntry {
  index: number;
  term: number;
  membership: Required<Membership>;
}

export class Raft {
  readonly id: NodeId;
  // The configuration in effect (thesis §4.1: the latest in the log, whether committed or not).
  private voterList: NodeId[] = [];
  private learnerList: NodeId[] = [];
  private voterSet: ReadonlySet<NodeId> = new Set();
  /** Everyone this node replicates to as leader: voters and learners but itself. */
  private peers: NodeId[] = [];
  /** Voters but itself: who is asked for votes. */
  private voterPeers: NodeId[] = [];
  /** The configuration at log.snapshotIndex (the snapshot's, else the bootstrap's). */
  private baseMembership: Required<Membership>;
  /** The ConfChange entries in the log, in index order: the last one is the configuration in effect. */
  private confEntries: ConfEntry[] = [];
  /** Leader: the index of the last configuration change it may have pending; no new change until it is committed. */
  private pendingConfIndex = 0;
  private readonly cfg: RaftConfig;
  /** Exposed read-only for the host and the simulator's property checks. */
  readonly log: RaftLog;

  // Figure 2 persistent state.
  private term: number;
  private vote: NodeId;
  // Soft state.
  private role: Role = 'follower';
  private leader: NodeId = NONE;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Logical clock: ticks since construction. */
  private now = 0;
  /**
   * The tick (on `now`) at which this node last heard from a leader of its term: the start of its
   * leader-stickiness promise (§4.2.3), which a leader's lease counts on (§6.4.1). Unlike `leader` and
   * `electionElapsed` it survives term changes and reset(): a message of a higher term from anyone but
   * a leader says nothing about whether the leader we acknowledged is still alive and counting on us.
   */
  private leaderHeardTick: number | undefined;

  private votes = new Map<NodeId, boolean>();
  private progress = new Map<NodeId, Progress>();

  private leadTransferee: NodeId = NONE;
  private transferElapsed = 0;
  /** The term in which this leader sent timeout-now: its lease is void for the rest of that term. */
  private timeoutNowTerm = 0;

  // ReadIndex (§6.4) and leases.
  private readRound = 0;
  private roundNeeded = false;
  private roundSentTick = new Map<number, number>();
  private pendingReads: PendingRead[] = [];
  private deferredReads: number[] = [];
  private readStates: ReadState[] = [];

  private msgs: Message[] = [];
  private persistedMsgs: Message[] = [];
  /** A snapshot received from the leader that the host must install. */
  private snapshotToInstall: SnapshotMeta | undefined;
  /** The newest local snapshot (taken by compact() or restored): what a lagging follower is sent. */
  private snapshotMeta: SnapshotMeta | undefined;

  private prevSoft: SoftState;
  private prevHard: HardState;
  /** Readies handed out and not yet advanced, oldest first (more than one only with asynchronous storage writes). */
  private outstanding: Ready[] = [];
  private readonly maxOutstanding: number;

  readonly stats: RaftStats = {
    droppedMessages: 0,
    elections: 0,
    preVotes: 0,
    leaderships: 0,
    snapshotsSent: 0,
    checkQuorumStepDowns: 0,
    votesIgnoredInLease: 0,
    transfersStarted: 0,
    transfersAborted: 0,
    heartbeatRounds: 0,
    leaseReads: 0,
    appendsSent: 0,
    confChangesProposed: 0,
    removedStepDowns: 0,
    lastDropReason: '',
  };

  constructor(config: RaftConfig, initial: InitialState) {
    checkConfig(config);
    this.cfg = config;
    this.maxOutstanding = config.maxOutstandingReadies ?? 1;
    this.id = config.id;
    const snap = initial.snapshot;
    const snapIndex = snap?.index ?? 0;
    assert(initial.applied >= snapIndex, () => `initial applied ${initial.applied} < snapshot index ${snapIndex}`);
    const commit = Math.max(initial.hardState.commit, snapIndex, initial.applied);
    this.log = new RaftLog(snapIndex, snap?.term ?? 0, initial.entries, commit, initial.applied);
    this.snapshotMeta = snap === undefined ? undefined : cloneMeta(snap);
    this.baseMembership = normalizeMembership(snap?.membership ?? { voters: config.voters, learners: config.learners ?? [] });
    this.syncConfig(initial.entries);
    this.term = initial.hardState.term;
    this.vote = initial.hardState.vote;
    // After a restart the node cannot remember whether it underwrote a leader's lease: it behaves as if it
    // had just heard from one, refusing votes for its first minimum election timeout. Not on a cold start: with
    // every voter starting at once, no leader whose lease it may have underwritten is alive.
    this.leaderHeardTick = config.checkQuorum && this.term > 0 && config.coldStart !== true ? 0 : undefined;
    this.resetElectionTimer();
    this.prevSoft = { leader: NONE, role: 'follower' };
    this.prevHard = { ...initial.hardState };
    this.checkInvariants();
  }

  // ───────────────────────────── Public API ─────────────────────────────

  /** One tick of time: elapse(1), then fireTimeouts(). */
  tick(): void {
    this.elapse(1);
    this.fireTimeouts();
  }

  /**
   * Count `ticks` of time that this node could not act on (its thread was stalled): on the logical clock, which
   * leases and the leader-stickiness promise are judged on, and toward the election, heartbeat and transfer
   * timeouts, without acting on any. What the stall queued (a leader's heartbeat, followers' answers) is stepped
   * next, and fireTimeouts() judges the timeouts after it: a stall alone neither starts an election nor makes a
   * leader step down for want of answers that were waiting to be read.
   */
  elapse(ticks: number): void {
    assert(Number.isSafeInteger(ticks) && ticks >= 0, () => `elapse(${ticks}): not a tick count`);
    this.now += ticks;
    this.electionElapsed += ticks;
    if (this.role !== 'leader') return;
    this.heartbeatElapsed += ticks;
    if (this.leadTransferee !== NONE) this.transferElapsed += ticks;
  }

  /** Act on the timeouts due on the ticks counted so far: campaign, check quorum, abort a transfer, heartbeat. */
  fireTimeouts(): void {
    if (this.role === 'leader') this.leaderTimeouts();
    else this.electionTimeout();
    this.maybeStepDownRemoved();
    this.checkInvariants();
  }

  step(msg: Message): void {
    const problem = messageProblem(msg, this.id);
    if (problem !== undefined) return this.drop(problem);
    if (msg.term > this.term && !this.stepHigherTerm(msg)) return;
    if (msg.term < this.term) return this.stepLowerTerm(msg);
    this.dispatch(msg);
    this.maybeStepDownRemoved();
    this.checkInvariants();
  }

  propose(datas: Uint8Array[]): ProposeResult {
    if (this.role !== 'leader') return { ok: false, code: 'NOT_LEADER', leader: this.leader };
    // §3.10: a leader handing over stops accepting proposals so the target can catch up.
    if (this.leadTransferee !== NONE) return { ok: false, code: 'TRANSFERRING', leader: this.id };
    const firstIndex = this.log.lastIndex + 1;
    this.appendEntries(datas.map((data) => ({ type: EntryType.Normal, data })));
    this.bcastAppend(false);
    this.checkInvariants();
    return { ok: true, term: this.term, firstIndex, lastIndex: this.log.lastIndex };
  }

  /**
   * One server at a time (thesis §4.1, §4.2): the change is appended as a ConfChange entry holding the whole new
   * configuration and takes effect here at once. Refused until an entry of this leader's term is committed and
   * while an earlier change is uncommitted (the fix for the single-server bug, Ongaro's raft-dev post of 2015).
   */
  proposeConfChange(change: ConfChange): ConfChangeResult {
    if (this.role !== 'leader') return { ok: false, code: 'NOT_LEADER', leader: this.leader };
    if (this.leadTransferee !== NONE) return { ok: false, code: 'TRANSFERRING', leader: this.id };
    if (!this.committedInCurrentTerm()) return { ok: false, code: 'CONF_CHANGE_PENDING', leader: this.id, reason: 'no entry of the leader\'s term is committed yet' };
    if (this.pendingConfIndex > this.log.commit) return { ok: false, code: 'CONF_CHANGE_PENDING', leader: this.id, reason: `the change at index ${this.pendingConfIndex} is not committed yet` };
    const next = applyConfChange(this.membershipNow(), change);
    if (typeof next === 'string') return { ok: false, code: 'INVALID_CONF_CHANGE', leader: this.id, reason: next };
    this.appendEntries([{ type: EntryType.ConfChange, data: encodeConfEntry(next) }]);
    this.pendingConfIndex = this.log.lastIndex;
    this.stats.confChangesProposed++;
    this.bcastAppend(false);
    this.checkInvariants();
    return { ok: true, term: this.term, index: this.log.lastIndex };
  }

  /** The voters in effect, sorted. */
  get voters(): readonly NodeId[] {
    return this.voterList;
  }

  /** The learners in effect, sorted. */
  get learners(): readonly NodeId[] {
    return this.learnerList;
  }

  /** The configuration in effect and the index of the entry that holds it (0: the snapshot's or the bootstrap's). */
  membership(): { voters: NodeId[]; learners: NodeId[]; index: number } {
    const last = this.confEntries[this.confEntries.length - 1];
    return { voters: [...this.voterList], learners: [...this.learnerList], index: last?.index ?? 0 };
  }

  /** The configuration in effect at `index` (snapshotIndex <= index <= lastIndex). */
  membershipAt(index: number): Required<Membership> {
    let m = this.baseMembership;
    for (const c of this.confEntries) {
      if (c.index > index) break;
      m = c.membership;
    }
    return normalizeMembership(m);
  }

  readIndex(id: number): ReadIndexResult {
    if (this.role !== 'leader') return { ok: false, code: 'NOT_LEADER', leader: this.leader };
    // §6.4 step 1: the leader's commit index is only known to be current once an entry of its term committed.
    if (!this.committedInCurrentTerm()) this.deferredReads.push(id);
    else this.queueRead(id);
    return { ok: true };
  }

  leaseRead(id: number): ReadIndexResult {
    if (this.role !== 'leader') return { ok: false, code: 'NOT_LEADER', leader: this.leader };
    if (!this.leaseValid()) return this.readIndex(id);
    this.stats.leaseReads++;
    this.readStates.push({ id, index: this.log.commit });
    return { ok: true };
  }

  transferLeadership(to: NodeId): boolean {
    // §3.10 / §4.2: only a voter can be elected.
    if (this.role !== 'leader' || to === this.id || !this.voterSet.has(to)) return false;
    if (this.leadTransferee === to) return true;
    this.leadTransferee = to;
    this.transferElapsed = 0;
    this.stats.transfersStarted++;
    const pr = this.prOf(to);
    if (pr.match === this.log.lastIndex) this.sendTimeoutNow(to);
    else this.maybeSendAppend(to, true);
    return true;
  }

  campaign(): void {
    if (!this.mayCampaign()) return;
    this.hup(false);
    this.checkInvariants();
  }

  hasReady(): boolean {
    if (this.outstanding.length >= this.maxOutstanding) return false;
    return (
      this.roundNeeded ||
      this.softChanged() ||
      this.hardChanged() ||
      this.snapshotToInstall !== undefined ||
      this.log.unstableEntries().length > 0 ||
      this.log.hasNextCommittedEntries() ||
      this.msgs.length > 0 ||
      this.persistedMsgs.length > 0 ||
      this.readStates.length > 0
    );
  }

  ready(): Ready {
    assert(this.outstanding.length < this.maxOutstanding, 'ready() called with maxOutstandingReadies not yet advanced');
    // Every read queued since the last Ready shares one heartbeat round (§6.4 batching).
    if (this.roundNeeded && this.role === 'leader') this.bcastHeartbeat();
    this.roundNeeded = false;
    const soft = this.softState();
    const hard = this.hardState();
    const rd: Ready = {
      softState: this.softChanged() ? soft : undefined,
      hardState: this.hardChanged() ? hard : undefined,
      snapshot: this.snapshotToInstall,
      entries: this.log.unstableEntries(),
      committedEntries: this.log.nextCommittedEntries(this.cfg.maxApplyBytes),
      messages: this.msgs,
      persistedMessages: this.persistedMsgs,
      readStates: this.readStates,
    };
    this.log.handOut(rd.entries, rd.committedEntries);
    this.prevSoft = soft;
    this.prevHard = hard;
    this.snapshotToInstall = undefined;
    this.msgs = [];
    this.persistedMsgs = [];
    this.readStates = [];
    this.outstanding.push(rd);
    return rd;
  }

  /**
   * The host persisted and applied `rd`. With several Readies outstanding (asynchronous storage writes), they are
   * advanced in the order they were handed out: storage writes complete in that order.
   */
  advance(rd: Ready): void {
    assert(rd === this.outstanding[0], 'advance() with a Ready that is not the oldest outstanding one');
    this.outstanding.shift();
    if (rd.snapshot !== undefined) {
      this.log.stabled = Math.max(this.log.stabled, Math.min(rd.snapshot.index, this.log.lastIndex));
      this.log.applied = Math.max(this.log.applied, rd.snapshot.index);
    }
    this.log.stableTo(rd.entries);
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied !== undefined) {
      const first = rd.committedEntries[0];
      assert(first !== undefined && first.index <= this.log.applied + 1, 'applied entries not contiguous');
      this.log.applied = Math.max(this.log.applied, lastApplied.index);
    }
    this.log.applying = Math.max(this.log.applying, this.log.applied);
    // A candidate counts its own vote only now that it is durable (becomeCandidate).
    if (this.role === 'candidate' && rd.hardState !== undefined && rd.hardState.term === this.term && rd.hardState.vote === this.id && !this.votes.has(this.id)) {
      this.votes.set(this.id, true);
      if (this.tally() === 'won') this.becomeLeader();
    }
    // The leader counts its own entries toward the quorum only now that they are durable.
    if (this.role === 'leader' && this.maybeCommit()) this.bcastAppend(true);
    this.maybeStepDownRemoved();
    this.checkInvariants();
  }

  /**
   * The state machine covers everything up to `point`: drop those entries (§7). The snapshot carries the
   * configuration at that index, which the core knows from its log (any `membership` given is ignored).
   */
  compact(point: { index: number; term: number; membership?: Membership }): void {
    if (point.index <= this.log.snapshotIndex) return;
    const membership = this.membershipAt(point.index);
    this.log.compact(point.index, point.term);
    this.baseMembership = membership;
    this.confEntries = this.confEntries.filter((c) => c.index > point.index);
    this.snapshotMeta = { index: point.index, term: point.term, membership: cloneMembership(membership) };
    this.checkInvariants();
  }

  /**
   * Leader: whether a peer still to be sent entries up to `index` can be caught up from the log (the next entry it
   * needs is in it, and it is not being sent a snapshot): compacting at `index` would leave it a snapshot to get.
   * The host holds its compactions a while for such a peer, so that a follower stalled for a moment gets entries,
   * not the whole state machine. (Entries in flight to it count as sent; if they are lost, it probes from its match.)
   */
  peerCatchingUpTo(index: number): boolean {
    if (this.role !== 'leader') return false;
    for (const [id, pr] of this.progress) {
      if (id !== this.id && pr.state !== 'snapshot' && pr.next <= index && pr.next > this.log.snapshotIndex) return true;
    }
    return false;
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    const pr = this.role === 'leader' ? this.progress.get(to) : undefined;
    if (pr === undefined || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    // Wait for the follower's answer (or the next heartbeat response) before probing again.
    pr.becomeProbe();
    pr.probeSent = true;
  }

  status(): RaftStatus {
    const s: RaftStatus = {
      id: this.id,
      term: this.term,
      vote: this.vote,
      role: this.role,
      leader: this.leader,
      commit: this.log.commit,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex,
      firstIndex: this.log.firstIndex,
      snapshotIndex: this.log.snapshotIndex,
      membership: this.membership(),
    };
    if (this.role === 'leader') {
      const progress: NonNullable<RaftStatus['progress']> = {};
      for (const [id, pr] of this.progress) {
        progress[id] = { match: pr.match, next: pr.next, state: pr.state, inflight: pr.inflights.count, learner: !this.voterSet.has(id) };
      }
      s.progress = progress;
    }
    return s;
  }

  /** Inflight bytes toward `to` (leader only; tests and metrics). */
  inflightBytes(to: NodeId): number {
    return this.progress.get(to)?.inflights.bytes ?? 0;
  }

  // ───────────────────────────── Ticks ─────────────────────────────

  private electionTimeout(): void {
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      // Learners and removed nodes never campaign (§4.2.1, §4.2.3), but for a removal not known committed.
      if (this.mayCampaign()) this.hup(false);
    }
  }

  private leaderTimeouts(): void {
    if (this.electionElapsed >= this.cfg.electionTimeoutMinTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.quorumActive()) {
        // Thesis §6.2: a leader that heard from no majority for an election timeout steps down.
        this.stats.checkQuorumStepDowns++;
        this.becomeFollower(this.term, NONE);
        return;
      }
    }
    if (this.leadTransferee !== NONE && this.transferElapsed >= this.cfg.electionTimeoutMinTicks) {
      // §3.10: abort a transfer that did not complete within an election timeout.
      this.stats.transfersAborted++;
      this.leadTransferee = NONE;
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  /** Check-quorum (thesis §6.2) counts voters only; a leader being removed does not count itself. */
  private quorumActive(): boolean {
    let active = this.voterSet.has(this.id) ? 1 : 0;
    for (const id of this.peers) {
      const pr = this.prOf(id);
      if (pr.recentActive && this.voterSet.has(id)) active++;
      pr.recentActive = false;
    }
    return active >= majority(this.voterList.length);
  }

  // ───────────────────────────── Roles ─────────────────────────────

  private resetElectionTimer(): void {
    const span = this.cfg.electionTimeoutMaxTicks - this.cfg.electionTimeoutMinTicks;
    this.randomizedElectionTimeout = this.cfg.electionTimeoutMinTicks + this.cfg.random(span);
    assert(
      this.randomizedElectionTimeout >= this.cfg.electionTimeoutMinTicks && this.randomizedElectionTimeout < this.cfg.electionTimeoutMaxTicks,
      'config.random returned a value outside [0, n)',
    );
  }

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.leader = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetElectionTimer();
    this.votes = new Map();
    this.progress = new Map();
    this.leadTransferee = NONE;
    this.transferElapsed = 0;
    this.pendingReads = [];
    this.deferredReads = [];
    this.roundNeeded = false;
    this.roundSentTick.clear();
  }

  private becomeFollower(term: number, leader: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become pre-candidate');
    // Thesis §9.6: ask first whether an election could be won, without disturbing anyone's term.
    this.reset(this.term);
    this.role = 'pre-candidate';
    this.stats.preVotes++;
    this.votes.set(this.id, true);
    if (this.tally() === 'won') return this.becomeCandidate(false);
    for (const to of this.voterPeers) this.send(this.voteRequest(to, this.term + 1, true, false));
  }

  private becomeCandidate(transfer: boolean): void {
    assert(this.role !== 'leader', 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.role = 'candidate';
    this.vote = this.id;
    this.stats.elections++;
    // Its own vote counts once the term and vote are durable (advance()), as the others' grants come only after
    // they are (the requests wait for the Ready's persistence). A sole voter that won at once led a term its disk
    // did not hold yet: sent entries of that term to learners, lost the term to a power failure, won the same term
    // again and wrote other entries under the same (index, term) (etcd's self-vote after append, likewise).
    for (const to of this.voterPeers) this.send(this.voteRequest(to, this.term, false, transfer));
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    this.stats.leaderships++;
    this.timeoutNowTerm = 0;
    const self = new Progress(this.log.lastIndex + 1, this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes);
    self.state = 'replicate';
    this.progress.set(this.id, self);
    this.trackPeers();
    // §5.4.2 / §8: a no-op of the new term lets earlier entries commit and ReadIndex start.
    this.appendEntries([{ type: EntryType.Noop, data: EMPTY }]);
    // A change in the uncommitted tail may still be pending: none is proposed before the no-op commits.
    this.pendingConfIndex = this.log.lastIndex;
    this.bcastAppend(true);
  }

  private hup(transfer: boolean): void {
    if (this.role === 'leader') return;
    // A node its configuration removes (mayCampaign) always asks first: its pre-votes disturb no one's term, so a
    // removed node that never learnt its removal committed cannot disrupt the cluster it left.
    if ((this.cfg.preVote || !this.promotable()) && !transfer) this.becomePreCandidate();
    else this.becomeCandidate(transfer);
  }

  // ───────────────────────────── step ─────────────────────────────

  private drop(reason: string): void {
    this.stats.droppedMessages++;
    this.stats.lastDropReason = reason;
  }

  /**
   * Leader stickiness (§4.2.3, §9.6 disruptive servers): a node that heard from a leader within the minimum
   * election timeout ignores (pre)votes. A leader's lease (§6.4.1, leaseValid) relies on this promise, so it
   * is kept on the logical clock from the moment the leader was heard, not on `leader`/`electionElapsed`,
   * which any higher-term message (a stale rejection, a heartbeat response, a timeout-now) resets.
   */
  private inLease(): boolean {
    if (this.role === 'leader') return this.cfg.checkQuorum;
    return this.leaderHeardTick !== undefined && this.now - this.leaderHeardTick < this.cfg.electionTimeoutMinTicks;
  }

  /** Returns whether the message should still be dispatched. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === 'vote') {
      if (!m.transfer && this.inLease()) {
        this.stats.votesIgnoredInLease++;
        this.drop('vote ignored: leader lease');
        return false;
      }
      if (m.preVote) return true; // a pre-vote never changes our term
      this.becomeFollower(m.term, NONE);
      return true;
    }
    // A granted pre-vote carries the term the pre-candidate would use, not a real term.
    if (m.type === 'vote-response' && m.preVote && m.granted) return true;
    const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if (m.type === 'append' || m.type === 'heartbeat') {
      // A leader cut off long enough for us to move on learns our term and steps down (§5.1: a request with a
      // stale term is rejected with the current term). etcd answers only with pre-vote or check-quorum, when its
      // votes cannot raise the others' terms; here they never can while a leader is heard, with neither option
      // too (leader stickiness, inLease), so a node whose term ran ahead (its votes only reach nodes that hear
      // the leader: a configuration entry of its own left the leader out) could never rejoin otherwise.
      this.send(this.appendResponse(m.from, false, 0, 0, 0));
    } else if (m.type === 'vote' && m.preVote) {
      this.send({ type: 'vote-response', term: this.term, from: this.id, to: m.from, preVote: true, granted: false });
    }
    this.drop('stale term');
  }

  private dispatch(m: Message): void {
    switch (m.type) {
      case 'vote':
        return this.handleVote(m);
      case 'vote-response':
        return this.handleVoteResponse(m);
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        return this.handleFromLeader(m);
      case 'timeout-now':
        if (this.role !== 'follower' || this.leader !== m.from) return this.drop('timeout-now not from our leader');
        if (!this.promotable()) return this.drop('timeout-now to a node that is not a voter');
        return this.hup(true);
      case 'append-response':
      case 'heartbeat-response':
        if (this.role !== 'leader') return this.drop(`${m.type} while not leader`);
        return m.type === 'append-response' ? this.handleAppendResponse(m) : this.handleHeartbeatResponse(m);
    }
  }

  private handleVote(m: VoteRequest): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.leader === NONE) ||
      (m.preVote && m.term > this.term) ||
      (this.cfg.testBreak === 'double-vote' && !m.preVote && this.role === 'follower');
    // Stickiness holds within our term too: a message of the candidate's term may have moved us to it
    // (and cleared `leader`) within the lease of the leader we acknowledged (§4.2.3, §6.4.1).
    if (canVote && this.vote !== m.from && !m.transfer && this.inLease()) {
      this.stats.votesIgnoredInLease++;
      return this.drop('vote ignored: leader lease');
    }
    // §5.4.1: grant only to a candidate whose log is at least as up-to-date as ours.
    const lastTerm = this.log.lastTerm();
    const upToDate = m.lastLogTerm > lastTerm || (m.lastLogTerm === lastTerm && m.lastLogIndex >= this.log.lastIndex);
    if (canVote && upToDate) {
      this.send({ type: 'vote-response', term: m.term, from: this.id, to: m.from, preVote: m.preVote, granted: true });
      if (!m.preVote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: 'vote-response', term: this.term, from: this.id, to: m.from, preVote: m.preVote, granted: false });
    }
  }

  private handleVoteResponse(m: VoteResponse): void {
    const expecting = (this.role === 'pre-candidate' && m.preVote) || (this.role === 'candidate' && !m.preVote);
    if (!expecting) return this.drop('unexpected vote-response');
    if (!this.voterSet.has(m.from)) return this.drop('vote-response from a node that is not a voter');
    if (!this.votes.has(m.from)) this.votes.set(m.from, m.granted);
    const result = this.tally();
    if (result === 'won') {
      if (this.role === 'pre-candidate') this.becomeCandidate(false);
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.term, NONE);
    }
  }

  private handleFromLeader(m: AppendRequest | HeartbeatRequest | SnapshotRequest): void {
    // Election Safety: two leaders in one term cannot exist, so this message is a forgery or a bug elsewhere.
    if (this.role === 'leader') return this.drop(`${m.type} from another leader in our term`);
    if (this.role !== 'follower') this.becomeFollower(this.term, m.from);
    this.electionElapsed = 0;
    this.leader = m.from;
    this.leaderHeardTick = this.now;
    if (m.type === 'append') this.handleAppend(m);
    else if (m.type === 'heartbeat') this.handleHeartbeat(m);
    else this.handleSnapshot(m);
  }

  private handleAppend(m: AppendRequest): void {
    if (m.prevLogIndex < this.log.commit) {
      // Everything up to commit already matches the leader (Leader Completeness).
      return this.send(this.appendResponse(m.from, true, this.log.commit, 0, 0));
    }
    const lastNew = this.log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      // §4.1: a configuration takes effect when appended; one truncated away reverts to the previous one.
      this.syncConfig(m.entries);
      return this.send(this.appendResponse(m.from, true, lastNew, 0, 0));
    }
    // Fast backtracking: point the leader at the last entry that could match in one step.
    const hintIndex = this.log.findConflictByTerm(Math.min(m.prevLogIndex, this.log.lastIndex), m.prevLogTerm);
    const hintTerm = this.log.term(hintIndex) ?? 0;
    this.send(this.appendResponse(m.from, false, m.prevLogIndex, hintTerm, hintIndex));
  }

  private handleHeartbeat(m: HeartbeatRequest): void {
    // The leader sends min(match, commit): every index up to it matches the leader's log.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex));
    this.send({
      type: 'heartbeat-response',
      term: this.term,
      from: this.id,
      to: m.from,
      readRound: m.readRound,
      lastIndex: this.log.lastIndex,
    });
  }

  private handleSnapshot(m: SnapshotRequest): void {
    const meta = m.snapshot;
    if (meta.index <= this.log.commit) {
      return this.send(this.appendResponse(m.from, true, this.log.commit, 0, 0));
    }
    if (this.log.term(meta.index) === meta.term) {
      // §7: "If existing log entry has same index and term as snapshot's last included entry, retain log
      // entries following it": entries this follower acknowledged must stay, or the leader's match would lie.
      this.log.commitTo(meta.index);
      return this.send(this.appendResponse(m.from, true, this.log.commit, 0, 0));
    }
    // §7: otherwise the snapshot supersedes the whole log, and its configuration every one in the log.
    this.log.restore(meta.index, meta.term);
    this.baseMembership = normalizeMembership(meta.membership);
    this.confEntries = [];
    this.syncConfig([]);
    this.snapshotToInstall = cloneMeta(meta);
    this.snapshotMeta = cloneMeta(meta);
    this.send(this.appendResponse(m.from, true, meta.index, 0, 0));
  }

  private handleAppendResponse(m: AppendResponse): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined || m.from === this.id) return this.drop('append-response from a node outside the configuration');
    pr.recentActive = true;
    if (m.index > this.log.lastIndex) return this.drop('append-response index beyond our log');
    if (!m.success) return this.handleAppendReject(m, pr);
    if (!pr.maybeUpdate(m.index)) {
      if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
      return;
    }
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
    if (this.maybeCommit()) this.bcastAppend(true);
    else this.sendAppends(m.from);
    if (!this.progress.has(m.from)) return; // the commit dropped it from the configuration
    // A follower that missed the commit broadcast (it was paused) learns the commit index now.
    if (pr.commitSent < this.log.commit) this.maybeSendAppend(m.from, true);
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex) this.sendTimeoutNow(m.from);
  }

  private handleAppendReject(m: AppendResponse, pr: Progress): void {
    let probeIndex = m.conflictIndex;
    if (m.conflictTerm > 0) probeIndex = this.log.findConflictByTerm(Math.min(m.conflictIndex, this.log.lastIndex), m.conflictTerm);
    if (pr.maybeDecrTo(m.index, probeIndex + 1)) this.maybeSendAppend(m.from, true);
  }

  private handleHeartbeatResponse(m: HeartbeatResponse): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined || m.from === this.id) return this.drop('heartbeat-response from a node outside the configuration');
    pr.recentActive = true;
    pr.probeSent = false;
    if (m.readRound > pr.ackedRound && m.readRound <= this.readRound) {
      pr.ackedRound = m.readRound;
      this.releaseReads();
    }
    // A heartbeat round trip while the window is closed: free one slot so lost appends cannot stall it forever.
    if (pr.state === 'replicate' && (pr.inflights.full() || this.entriesToSend(pr) === undefined)) pr.inflights.freeFirstOne();
    if (pr.state === 'probe' && m.lastIndex + 1 < pr.next) pr.next = Math.max(pr.match + 1, m.lastIndex + 1);
    if (pr.match < this.log.lastIndex) {
      this.maybeSendAppend(m.from, true);
      this.sendAppends(m.from);
    }
  }

  // ───────────────────────────── Replication ─────────────────────────────

  private appendEntries(ents: { type: EntryType; data: Uint8Array }[]): void {
    let index = this.log.lastIndex;
    const full: Entry[] = ents.map((e) => ({ term: this.term, index: ++index, type: e.type, data: e.data }));
    this.log.append(full);
    if (full.some((e) => e.type === EntryType.ConfChange)) this.syncConfig(full);
  }

  /**
   * §5.4.2: only an entry of the current term is committed by counting replicas; earlier ones commit with it.
   * The leader's own replica counts only once persisted (advance()).
   */
  private maybeCommit(): boolean {
    // Voters only (learners never count); a leader being removed (§4.2.2) does not count itself.
    const matches = this.voterList.map((id) => (id === this.id ? Math.min(this.log.stabled, this.log.lastIndex) : this.prOf(id).match));
    const index = quorumValue(matches);
    if (index <= this.log.commit) return false;
    if (this.log.term(index) !== this.term && this.cfg.testBreak !== 'commit-old-term') return false;
    const hadCurrentTerm = this.committedInCurrentTerm();
    const before = this.log.commit;
    this.log.commitTo(index);
    // A committed change drops the members only the previous configuration had.
    if (this.confEntries.some((c) => c.index > before && c.index <= index)) this.trackPeers();
    if (!hadCurrentTerm && this.committedInCurrentTerm()) this.releaseDeferredReads();
    return true;
  }

  private bcastAppend(sendIfEmpty: boolean): void {
    for (const to of this.peers) {
      this.maybeSendAppend(to, sendIfEmpty);
      this.sendAppends(to);
    }
  }

  /** Pipelining: keep sending while the follower's window is open and there is something to send. */
  private sendAppends(to: NodeId): void {
    for (let i = 0; i <= this.cfg.maxInflightMsgs; i++) {
      if (!this.maybeSendAppend(to, false)) return;
    }
  }

  /** Sends one append (or a snapshot when the entries are compacted away). Returns whether an append went out. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prOf(to);
    if (pr.isPaused()) return false;
    assert(pr.next >= 1 && pr.next <= this.log.lastIndex + 1, () => `progress of ${to}: next ${pr.next} outside the log`);
    const prevLogIndex = pr.next - 1;
    const prevLogTerm = this.log.term(prevLogIndex);
    if (prevLogTerm === undefined) {
      this.sendSnapshot(to, pr);
      return false;
    }
    // An empty append still goes when asked for: it carries commit and, if earlier appends were lost,
    // draws the rejection that puts the follower back into probe.
    const entries = this.entriesToSend(pr) ?? [];
    if (entries.length === 0 && !sendIfEmpty) return false;
    // The follower commits min(commit, index of its last new entry) (Figure 2).
    const commit = this.log.commit;
    this.send({ type: 'append', term: this.term, from: this.id, to, prevLogIndex, prevLogTerm, entries, commit });
    this.stats.appendsSent++;
    pr.commitSent = Math.max(pr.commitSent, Math.min(commit, prevLogIndex + entries.length));
    pr.sentEntries(entries[entries.length - 1]?.index, entries.reduce((n, e) => n + entryBytes(e), 0));
    return true;
  }

  /** The next batch for `pr`, bounded by maxMsgBytes and the bytes left in its window; undefined when the window is too full. */
  private entriesToSend(pr: Progress): Entry[] | undefined {
    if (pr.next > this.log.lastIndex || pr.next <= this.log.snapshotIndex) return [];
    const windowLeft = pr.state === 'replicate' ? this.cfg.maxInflightBytes - pr.inflights.bytes : Infinity;
    const budget = Math.min(this.cfg.maxMsgBytes, windowLeft);
    // A single entry larger than the budget still goes, but only alone in an otherwise empty window.
    const entries = this.log.sliceBytes(pr.next, budget, pr.state !== 'replicate' || pr.inflights.count === 0);
    return entries.length === 0 ? undefined : entries;
  }

  private sendSnapshot(to: NodeId, pr: Progress): void {
    const meta = this.snapshotMeta;
    assert(meta !== undefined && meta.index === this.log.snapshotIndex, 'follower needs compacted entries but no snapshot is known');
    this.send({ type: 'snapshot', term: this.term, from: this.id, to, snapshot: cloneMeta(meta) });
    this.stats.snapshotsSent++;
    pr.becomeSnapshot(meta.index);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.timeoutNowTerm = this.term;
    this.send({ type: 'timeout-now', term: this.term, from: this.id, to });
  }

  // ───────────────────────────── Reads ─────────────────────────────

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.commit) === this.term;
  }

  private queueRead(id: number): void {
    if (this.voterList.length === 1 && this.voterList[0] === this.id) {
      this.readStates.push({ id, index: this.log.commit });
      return;
    }
    this.pendingReads.push({ id, index: this.log.commit, round: this.readRound + 1 });
    this.roundNeeded = true;
  }

  private releaseDeferredReads(): void {
    const ids = this.deferredReads;
    this.deferredReads = [];
    for (const id of ids) this.queueRead(id);
  }

  private bcastHeartbeat(): void {
    this.readRound++;
    this.stats.heartbeatRounds++;
    this.roundNeeded = false;
    this.roundSentTick.set(this.readRound, this.now);
    this.pruneRoundTicks();
    for (const to of this.peers) {
      const pr = this.prOf(to);
      const commit = Math.min(pr.match, this.log.commit);
      pr.commitSent = Math.max(pr.commitSent, commit);
      this.send({ type: 'heartbeat', term: this.term, from: this.id, to, commit, readRound: this.readRound });
    }
  }

  private pruneRoundTicks(): void {
    for (const [round, tick] of this.roundSentTick) {
      if (this.now - tick < this.cfg.electionTimeoutMinTicks) break;
      this.roundSentTick.delete(round);
    }
  }

  /** Serve the reads whose heartbeat round a majority has answered (§6.4 step 3). */
  private releaseReads(): void {
    const confirmed = quorumValue(this.voterList.map((id) => (id === this.id ? this.readRound : this.prOf(id).ackedRound)));
    let served = 0;
    for (const r of this.pendingReads) {
      if (r.round > confirmed) break;
      this.readStates.push({ id: r.id, index: r.index });
      served++;
    }
    if (served > 0) this.pendingReads = this.pendingReads.slice(served);
  }

  /**
   * A lease holds while a majority answered heartbeats *sent* less than electionTimeoutMin - 1 ticks ago:
   * those followers will not vote for anyone else until electionTimeoutMin ticks after they received them
   * (leader stickiness). Assumes tick rates do not drift apart; void once timeout-now was sent this term.
   */
  private leaseValid(): boolean {
    if (!this.cfg.checkQuorum || this.role !== 'leader') return false;
    if (this.leadTransferee !== NONE || this.timeoutNowTerm === this.term || !this.committedInCurrentTerm()) return false;
    // Voters' promises only: a learner's stickiness holds no vote back from anyone.
    let fresh = this.voterSet.has(this.id) ? 1 : 0;
    for (const id of this.voterPeers) {
      const sent = this.roundSentTick.get(this.prOf(id).ackedRound);
      if (sent !== undefined && this.now - sent < this.cfg.electionTimeoutMinTicks - 1) fresh++;
    }
    return fresh >= majority(this.voterList.length);
  }

  // ───────────────────────────── Configuration ─────────────────────────────

  /** A voter of the configuration in effect: only voters campaign (§4.2.1) and count toward quorums. */
  private promotable(): boolean {
    return this.voterSet.has(this.id);
  }

  /**
   * Who campaigns: a voter of the configuration in effect, and a voter that configuration removes while it is not
   * known to be committed (§4.2.2: a leader replicates a configuration without itself until it commits). Such a
   * candidate asks for pre-votes first (hup), counts the votes of the new configuration's voters only, not its own,
   * and leads only to commit the change, then steps down (maybeStepDownRemoved). Otherwise a leader of two voters
   * that removed itself and lost its leadership before the other had the change left no one able to win: the
   * other, still under both voters, needs its vote and its log is behind (the simulation, 1 or 2 voters + spares).
   */
  private mayCampaign(): boolean {
    if (this.promotable()) return true;
    const last = this.confEntries[this.confEntries.length - 1];
    return last !== undefined && last.index > this.log.commit && this.membershipAt(last.index - 1).voters.includes(this.id);
  }

  private membershipNow(): Required<Membership> {
    return { voters: [...this.voterList], learners: [...this.learnerList] };
  }

  /** Votes of the voters in effect (a vote from a node since removed counts for nothing). */
  private tally(): ReturnType<typeof voteResult> {
    const counted = new Map<NodeId, boolean>();
    for (const [id, g] of this.votes) if (this.voterSet.has(id)) counted.set(id, g);
    return voteResult(counted, this.voterList.length);
  }

  /**
   * The log changed (entries `added`, possibly after a truncation): keep the ConfChange entries still in the log
   * (same index and term), record the new ones, and put the latest configuration in effect (§4.1).
   */
  private syncConfig(added: readonly Entry[]): void {
    const addedIdx = new Set(added.map((e) => e.index));
    const kept = this.confEntries.filter((c) => c.index > this.log.snapshotIndex && this.log.term(c.index) === c.term && !addedIdx.has(c.index));
    for (const e of added) {
      if (e.type !== EntryType.ConfChange || e.index <= this.log.snapshotIndex || this.log.term(e.index) !== e.term) continue;
      const membership = decodeConfEntry(e.data);
      assert(membership !== undefined, () => `malformed configuration entry at index ${e.index}`);
      kept.push({ index: e.index, term: e.term, membership });
    }
    kept.sort((a, b) => a.index - b.index);
    this.confEntries = kept;
    this.setMembership(kept[kept.length - 1]?.membership ?? this.baseMembership);
  }

  private setMembership(m: Required<Membership>): void {
    this.voterList = [...m.voters];
    this.learnerList = [...m.learners];
    this.voterSet = new Set(this.voterList);
    this.voterPeers = this.voterList.filter((id) => id !== this.id);
    if (this.role !== 'leader') return;
    this.trackPeers();
    // §3.10: only a voter can take over.
    if (this.leadTransferee !== NONE && !this.voterSet.has(this.leadTransferee)) this.leadTransferee = NONE;
    // A quorum of the new configuration may already hold what a quorum of the old one did not.
    if (this.maybeCommit()) this.bcastAppend(true);
    this.releaseReads();
  }

  /**
   * Leader: replicate to every member of the configuration in effect and of the last committed one, so that a
   * node being removed still receives the entry that removes it (it then knows to stop campaigning); a progress
   * for each (new ones are probed from the end of the log), none for others.
   */
  private trackPeers(): void {
    const committed = this.membershipAt(this.log.commit);
    const members = new Set([...this.voterList, ...this.learnerList, ...committed.voters, ...committed.learners]);
    members.delete(this.id);
    this.peers = [...members].sort((a, b) => a - b);
    for (const id of this.peers) {
      if (!this.progress.has(id)) this.progress.set(id, new Progress(this.log.lastIndex + 1, this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes));
    }
    for (const id of [...this.progress.keys()]) if (id !== this.id && !members.has(id)) this.progress.delete(id);
  }

  /**
   * Thesis §4.2.2: a leader that is not in the configuration it replicates steps down once that configuration is
   * committed; it first hands over to the most up-to-date voter (timeout-now) so the cluster need not wait an
   * election timeout.
   */
  private maybeStepDownRemoved(): void {
    if (this.role !== 'leader' || this.promotable()) return;
    const confIndex = this.confEntries[this.confEntries.length - 1]?.index ?? 0;
    if (this.log.commit < confIndex) return;
    let best: NodeId = NONE;
    for (const id of this.voterPeers) {
      const pr = this.prOf(id);
      if (pr.match === this.log.lastIndex && (best === NONE || id < best)) best = id;
    }
    if (best !== NONE) this.sendTimeoutNow(best);
    this.stats.removedStepDowns++;
    this.becomeFollower(this.term, NONE);
  }

  // ───────────────────────────── Helpers ─────────────────────────────

  private prOf(id: NodeId): Progress {
    const pr = this.progress.get(id);
    assert(pr !== undefined, () => `no progress for ${id}`);
    return pr;
  }

  private voteRequest(to: NodeId, term: number, preVote: boolean, transfer: boolean): VoteRequest {
    return {
      type: 'vote',
      term,
      from: this.id,
      to,
      preVote,
      lastLogIndex: this.log.lastIndex,
      lastLogTerm: this.log.lastTerm(),
      transfer,
    };
  }

  private appendResponse(to: NodeId, success: boolean, index: number, conflictTerm: number, conflictIndex: number): AppendResponse {
    return { type: 'append-response', term: this.term, from: this.id, to, success, index, conflictTerm, conflictIndex };
  }

  /** Persistence discipline: anything that promises durable state waits for the Ready's persistence. */
  private send(m: Message): void {
    if (needsPersistence(m)) this.persistedMsgs.push(m);
    else this.msgs.push(m);
  }

  private softState(): SoftState {
    return { leader: this.leader, role: this.role };
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.commit };
  }

  private softChanged(): boolean {
    return this.prevSoft.leader !== this.leader || this.prevSoft.role !== this.role;
  }

  private hardChanged(): boolean {
    const h = this.prevHard;
    return h.term !== this.term || h.vote !== this.vote || h.commit !== this.log.commit;
  }

  private checkInvariants(): void {
    this.log.checkInvariants();
    assert(this.role !== 'leader' || this.leader === this.id, 'a leader must know itself as leader');
    assert(this.role !== 'candidate' || this.vote === this.id, 'a candidate votes for itself');
    if (this.role !== 'leader') return;
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      assert(pr.match <= this.log.lastIndex, () => `match of ${id} (${pr.match}) beyond lastIndex ${this.log.lastIndex}`);
      assert(pr.next <= this.log.lastIndex + 1, () => `next of ${id} (${pr.next}) beyond lastIndex + 1`);
      assert(pr.match < pr.next || pr.state === 'snapshot', () => `match ${pr.match} >= next ${pr.next} for ${id}`);
    }
  }
}

/** Votes, vote grants and acknowledgements promise durable state: send them only after the Ready is persisted. */
function needsPersistence(m: Message): boolean {
  switch (m.type) {
    case 'vote':
    case 'vote-response':
      return !m.preVote;
    case 'append-response':
    case 'heartbeat-response':
      return true;
    default:
      return false;
  }
}

function cloneMembership(m: Membership): Membership {
  return m.learners === undefined ? { voters: [...m.voters] } : { voters: [...m.voters], learners: [...m.learners] };
}

function cloneMeta(meta: SnapshotMeta): SnapshotMeta {
  return { index: meta.index, term: meta.term, membership: cloneMembership(meta.membership) };
}

function checkConfig(c: RaftConfig): void {
  const pos = (x: number): boolean => Number.isSafeInteger(x) && x > 0;
  assert(pos(c.id), 'config.id must be a positive integer');
  const members = [...c.voters, ...(c.learners ?? [])];
  assert(members.every(pos) && new Set(members).size === members.length, 'config.voters and config.learners must be distinct positive integers');
  assert(pos(c.heartbeatTicks) && pos(c.electionTimeoutMinTicks), 'tick counts must be positive');
  assert(c.heartbeatTicks < c.electionTimeoutMinTicks, 'heartbeatTicks must be below electionTimeoutMinTicks');
  assert(c.electionTimeoutMinTicks < c.electionTimeoutMaxTicks, 'electionTimeoutMinTicks must be below electionTimeoutMaxTicks');
  assert(pos(c.maxInflightMsgs) && pos(c.maxInflightBytes), 'inflight bounds must be positive');
  assert(pos(c.maxMsgBytes) && pos(c.maxApplyBytes), 'message and apply bounds must be positive');
  assert(c.maxOutstandingReadies === undefined || pos(c.maxOutstandingReadies), 'maxOutstandingReadies must be positive');
}
