// The mutations of `npm run mutate` (issue #12 item 5): each breaks one rule in the compiled code under dist/src.
// `find` must occur exactly once in `file` (the runner reports it as stale otherwise: a refactor moved the code
// and the mutation must be rewritten, not skipped). Compiled JS is indented by 4 spaces per level.

export interface Mutation {
  /** Unique, file-system safe: the mutant's directory is .tmp/mutants/<name>. */
  name: string;
  /** A compiled file relative to dist/, e.g. src/raft/raft.js. */
  file: string;
  find: string;
  replace: string;
  /** The rule the mutation breaks (thesis / paper section where there is one). */
  rule: string;
  /** Host mutants also run dist/test/cluster/ when the unit tests and the simulation (which drives the host) pass. */
  host?: boolean;
}

const RAFT = 'src/raft/raft.js';
const LOG = 'src/raft/log.js';
const QUORUM = 'src/raft/quorum.js';
const HOST = 'src/node/host.js';
const WRITES = 'src/cluster/writes.js';

export const MUTATIONS: readonly Mutation[] = [
  // ── Persistence ordering: what promises durable state is sent only after the Ready is persisted ──
  {
    name: 'ack-before-persist',
    file: RAFT,
    find: "        case 'append-response':\n        case 'heartbeat-response':\n            return true;",
    replace: "        case 'append-response':\n        case 'heartbeat-response':\n            return false;",
    rule: 'a follower acknowledges appended entries only once they are persisted',
  },
  {
    name: 'grant-before-persist',
    file: RAFT,
    find: "        case 'vote':\n        case 'vote-response':\n            return !m.preVote;",
    replace: "        case 'vote':\n            return !m.preVote;\n        case 'vote-response':\n            return false;",
    rule: 'a voter grants its vote only once the vote is persisted',
  },
  {
    name: 'campaign-before-persist',
    file: RAFT,
    find: "        case 'vote':\n        case 'vote-response':\n            return !m.preVote;",
    replace: "        case 'vote-response':\n            return !m.preVote;\n        case 'vote':\n            return false;",
    rule: "a candidate's vote requests go only once its new term and self-vote are persisted",
  },
  {
    name: 'leader-counts-unpersisted',
    file: RAFT,
    find: 'Math.min(this.log.stabled, this.log.lastIndex)',
    replace: 'Math.min(this.log.lastIndex, this.log.lastIndex)',
    rule: "the leader counts its own entries toward commit only once persisted (maybeCommit)",
  },
  // ── Commit rules ──
  {
    name: 'commit-old-term',
    file: RAFT,
    find: "        if (this.log.term(index) !== this.term && this.cfg.testBreak !== 'commit-old-term')\n            return false;\n",
    replace: '',
    rule: '§5.4.2: only an entry of the current term commits by counting replicas',
  },
  {
    name: 'commit-quorum-off-by-one',
    file: QUORUM,
    find: 'const v = sorted[majority(values.length) - 1];',
    replace: 'const v = sorted[majority(values.length) - 2];',
    rule: '§5.3: commit (and read rounds) need a majority, not one fewer',
  },
  {
    name: 'vote-quorum-off-by-one',
    file: QUORUM,
    find: '    if (granted >= q)\n',
    replace: '    if (granted >= q - 1)\n',
    rule: '§5.2: an election is won with a majority of votes, not one fewer',
  },
  {
    name: 'vote-log-up-to-date-ignored',
    file: RAFT,
    find: 'if (canVote && upToDate) {',
    replace: 'if (canVote) {',
    rule: "§5.4.1: grant only to a candidate whose log is at least as up-to-date",
  },
  // ── Conflict truncation ──
  {
    name: 'append-no-truncate',
    file: LOG,
    find: '            this.entries.length = first.index - this.snapshotIndex - 1;\n',
    replace: '',
    rule: '§5.3: a conflicting entry and all that follow it are deleted (RaftLog.append)',
  },
  {
    name: 'find-conflict-blind',
    file: LOG,
    find: 'if (this.term(e.index) !== e.term)',
    replace: 'if (this.term(e.index) === undefined)',
    rule: '§5.3: an existing entry with another term is a conflict (RaftLog.findConflict)',
  },
  // ── Snapshots ──
  {
    name: 'stale-snapshot-accepted',
    file: RAFT,
    find: 'if (meta.index <= this.log.commit) {',
    replace: 'if (false) {',
    rule: '§7: a snapshot at or below the commit index is ignored',
  },
  {
    name: 'snapshot-always-replaces-log',
    file: RAFT,
    find: 'if (this.log.term(meta.index) === meta.term) {',
    replace: 'if (false) {',
    rule: '§7: when the entry at the snapshot index matches, the entries after it are kept',
  },
  // ── Membership (thesis §4.1–§4.2) ──
  {
    name: 'learners-count-toward-commit',
    file: RAFT,
    find: 'const matches = this.voterList.map(',
    replace: 'const matches = [...this.voterList, ...this.learnerList].map(',
    rule: '§4.2.1: learners receive the log but never count toward a quorum',
  },
  {
    name: 'conf-change-while-one-is-pending',
    file: RAFT,
    find: 'if (this.pendingConfIndex > this.log.commit)',
    replace: 'if (false)',
    rule: '§4.1: one change at a time: no new change while an earlier one is uncommitted',
  },
  {
    name: 'non-voter-campaigns',
    file: RAFT,
    find: 'if (this.mayCampaign())\n                this.hup(false);',
    replace: 'this.hup(false);',
    rule: '§4.2.1: learners and removed nodes never campaign',
  },
  {
    name: 'removed-leader-stays-leader',
    file: RAFT,
    find: "if (this.role !== 'leader' || this.promotable())",
    replace: 'if (true)',
    rule: '§4.2.2: a leader removed from the configuration steps down once the removal commits',
  },
  // ── ReadIndex (§6.4) ──
  {
    name: 'read-without-heartbeat-round',
    file: RAFT,
    find: 'if (this.voterList.length === 1 && this.voterList[0] === this.id) {',
    replace: 'if (true) {',
    rule: '§6.4 step 3: a read is served only after a majority answered a heartbeat round',
  },
  {
    name: 'read-before-current-term-commit',
    file: RAFT,
    find: '        if (!this.committedInCurrentTerm())\n            this.deferredReads.push(id);',
    replace: '        if (false)\n            this.deferredReads.push(id);',
    rule: "§6.4 step 1: a read waits until an entry of the leader's term is committed",
  },
  // ── Leases (§6.4.1) and leader stickiness (§4.2.3) ──
  {
    name: 'lease-without-check-quorum',
    file: RAFT,
    find: "if (!this.cfg.checkQuorum || this.role !== 'leader')",
    replace: "if (this.role !== 'leader')",
    rule: 'a lease needs check-quorum (followers keep the stickiness promise only with it)',
  },
  {
    name: 'lease-during-transfer',
    file: RAFT,
    find: 'if (this.leadTransferee !== NONE || this.timeoutNowTerm === this.term ||',
    replace: 'if (this.timeoutNowTerm === this.term ||',
    rule: 'no lease while a leadership transfer is under way',
  },
  {
    name: 'lease-after-timeout-now',
    file: RAFT,
    find: 'this.timeoutNowTerm === this.term || !this.committedInCurrentTerm())',
    replace: '!this.committedInCurrentTerm())',
    rule: 'no lease for the rest of a term in which timeout-now was sent',
  },
  {
    name: 'lease-before-current-term-commit',
    file: RAFT,
    find: 'this.timeoutNowTerm === this.term || !this.committedInCurrentTerm())',
    replace: 'this.timeoutNowTerm === this.term)',
    rule: "a lease read, like ReadIndex, needs an entry of the leader's term committed",
  },
  {
    name: 'lease-window-off-by-one',
    file: RAFT,
    find: 'this.now - sent < this.cfg.electionTimeoutMinTicks - 1)',
    replace: 'this.now - sent <= this.cfg.electionTimeoutMinTicks - 1)',
    rule: 'a lease lasts less than electionTimeoutMin - 1 ticks after the heartbeat was sent',
  },
  {
    name: 'lease-window-too-long',
    file: RAFT,
    find: 'this.now - sent < this.cfg.electionTimeoutMinTicks - 1)',
    replace: 'this.now - sent < this.cfg.electionTimeoutMaxTicks)',
    rule: 'a lease lasts at most the minimum election timeout (not the maximum)',
  },
  {
    name: 'stickiness-ignored',
    file: RAFT,
    find: 'if (!m.transfer && this.inLease()) {',
    replace: 'if (false) {',
    rule: '§4.2.3: a node that heard from a leader within the minimum election timeout ignores higher-term (pre)votes',
  },
  {
    name: 'stickiness-ignored-in-term',
    file: RAFT,
    find: 'if (canVote && this.vote !== m.from && !m.transfer && this.inLease()) {',
    replace: 'if (false) {',
    rule: '§4.2.3: stickiness also holds for a vote request of our own term',
  },
  {
    name: 'stickiness-window-off-by-one',
    file: RAFT,
    find: 'this.now - this.leaderHeardTick < this.cfg.electionTimeoutMinTicks;',
    replace: 'this.now - this.leaderHeardTick < this.cfg.electionTimeoutMinTicks - 1;',
    rule: '§4.2.3: stickiness lasts the full minimum election timeout after hearing from the leader',
  },
  {
    name: 'stickiness-forgotten-on-restart',
    file: RAFT,
    find: 'this.leaderHeardTick = config.checkQuorum && this.term > 0 && config.coldStart !== true ? 0 : undefined;',
    replace: 'this.leaderHeardTick = undefined;',
    rule: 'a restarted node refuses votes for its first minimum election timeout (it may underwrite a lease)',
  },
  // ── Pre-vote (§9.6), check-quorum (§6.2), leadership transfer (§3.10) ──
  {
    name: 'pre-vote-bumps-term',
    file: RAFT,
    find: '            if (m.preVote)\n                return true; // a pre-vote never changes our term\n',
    replace: '',
    rule: '§9.6: a pre-vote request does not change the receiver\'s term',
  },
  {
    name: 'stale-term-unanswered-without-options',
    file: RAFT,
    find: "        if (m.type === 'append' || m.type === 'heartbeat') {\n            // A leader cut off",
    replace: "        if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {\n            // A leader cut off",
    rule: '§5.1: an append or heartbeat of a stale term is answered with the current term, with pre-vote and check-quorum off too (stickiness holds without them)',
  },
  {
    name: 'check-quorum-never-steps-down',
    file: RAFT,
    find: 'if (this.cfg.checkQuorum && !this.quorumActive()) {',
    replace: 'if (false) {',
    rule: '§6.2: a leader that heard from no majority for an election timeout steps down',
  },
  {
    name: 'timeout-now-before-caught-up',
    file: RAFT,
    find: '        if (pr.match === this.log.lastIndex)\n            this.sendTimeoutNow(to);',
    replace: '        if (true)\n            this.sendTimeoutNow(to);',
    rule: '§3.10: timeout-now goes only once the target has the whole log',
  },
  // ── The host's Ready loop (also run against dist/test/cluster/) ──
  {
    name: 'host-ack-before-write',
    file: HOST,
    find: '        this.sendMessages(rd.messages);\n        this.receiver.afterReady(this.readyRound);',
    replace:
      '        this.sendMessages(rd.messages);\n        this.sendMessages(rd.persistedMessages);\n        rd.persistedMessages = [];\n        this.receiver.afterReady(this.readyRound);',
    rule: "the host sends a Ready's acknowledgements and votes only once its storage write completed",
    host: true,
  },
  {
    name: 'host-finish-out-of-order',
    file: HOST,
    find: '            while (!this.stopped && this.inflight[0]?.done)\n                this.finishReady(this.inflight.shift());',
    replace:
      '            for (let i = 0; !this.stopped && i < this.inflight.length; i++)\n                if (this.inflight[i].done)\n                    this.finishReady(this.inflight.splice(i--, 1)[0]);',
    rule: 'Readies are finished (acknowledged, advanced) in the order they were handed out',
    host: true,
  },
  {
    name: 'host-snapshot-unchecked',
    file: 'src/node/snapshots.js',
    find: "                await receiving.check(msg.snapshot);",
    replace: '                void 0;',
    rule: 'a received snapshot reaches the core only once the store confirms the stream is whole and is that snapshot',
    host: true,
  },
  {
    name: 'host-apply-before-durable',
    file: HOST,
    find: 'this.applyQueue[n].index <= durableTo)',
    replace: 'true)',
    rule: "a committed entry is applied only once this node's own log write of it completed",
    host: true,
  },
  {
    name: 'host-purge-before-checkpoint',
    file: HOST,
    find: '        if (this.checkpointing || !this.checkpointDue()) {',
    replace: '        this.purgeTo = point;\n        if (this.checkpointing || !this.checkpointDue()) {',
    rule: 'the log is purged only behind a durable checkpoint of the state (docs/storage.md)',
    host: true,
  },
  {
    name: 'host-install-without-drain',
    file: HOST,
    find: '                    await this.drainWrites();',
    replace: '                    await Promise.resolve();',
    rule: 'a snapshot is installed only once every earlier storage write of this node completed',
    host: true,
  },
  {
    name: 'host-lease-on-stale-ticks',
    file: HOST,
    find: "        if (mode === 'lease')\n            this.countElapsed();",
    replace: "        if (mode === 'lease')\n            void 0;",
    rule: '§6.4.1: a lease is judged on the elapsed clock, not on ticks a stalled event loop has not run yet',
    host: true,
  },
  {
    name: 'host-frames-on-stale-ticks',
    file: HOST,
    find: "                this.countElapsed();\n                for (const m of frame.msgs)",
    replace: "                for (const m of frame.msgs)",
    rule: '§4.2.3: the tick a follower hears its leader on is counted after the time a stall swallowed',
    host: true,
  },
  {
    name: 'host-timeouts-before-queued',
    file: HOST,
    find: '        if (due > 1 && !this.timeoutsDeferred) {',
    replace: '        if (false) {',
    rule: 'after a stall, timeouts are judged only once what the stall queued was read (no campaign or check-quorum step-down for want of it)',
    host: true,
  },
  {
    name: 'host-checkpoint-every-point',
    file: HOST,
    find: '        return copy <= CHECKPOINT_FREE_BYTES || this.bytesSinceCheckpoint * CHECKPOINT_COPY_RATIO >= copy;',
    replace: '        return true;',
    rule: 'a state above 64 MiB is checkpointed once half its size was written since the last copy, not at every snapshot point (I/O, not safety)',
    host: true,
  },
  {
    name: 'host-requested-checkpoint-waits',
    file: HOST,
    find: '        if (this.checkpointRequested)\n',
    replace: '        if (false)\n',
    rule: 'a requested snapshot point (Cluster.snapshot) checkpoints the state at once, whatever its size',
    host: true,
  },
  {
    name: 'host-entries-not-synced',
    // The log environment opened without fsync (the storage, not the host, decides what is synced).
    file: 'src/storage/lmdb.js',
    find: 'maxDbs: 4, noSync: !sync,',
    replace: 'maxDbs: 4, noSync: true,',
    rule: 'a log write with new entries is synced (durable) before it counts as persisted',
    host: true,
  },
  {
    name: 'coordinator-resends-slow-writes',
    file: WRITES,
    find: '        return now - w.sentAt > retryAfterMs && (last === undefined || now - last.at > retryAfterMs);',
    replace: '        return now - w.sentAt > retryAfterMs;',
    rule: 'the coordinator sends a write again only when it was lost, not because it is slow (congestion collapse; liveness, not safety)',
    host: true,
  },
  {
    name: 'coordinator-no-write-window',
    file: WRITES,
    find: '            if (sent > 0 && sent + w.bytes > maxInflightWriteBytes) {',
    replace: '            if (false) {',
    rule: 'writes sent to the leader and not applied stay within maxInflightWriteBytes (backpressure; liveness, not safety)',
    host: true,
  },
  {
    name: 'stale-read-becomes-barrier-read',
    file: 'src/cluster/reads.js',
    find: "        if (g.mode === 'stale') {",
    replace: '        if (false) {',
    rule: "a stale read a node answers stays with that node: it never becomes a linearizable read on the leader's state",
    host: true,
  },
  {
    name: 'control-call-outlives-node',
    file: 'src/cluster/nodes.js',
    find: '            return (...args) => Promise.race([member(...args), down]);',
    replace: '            return (...args) => member(...args);',
    rule: 'a control call out when its node goes down settles (NODE_UNAVAILABLE); comlink alone never settles it',
    host: true,
  },
  {
    name: 'memory-snapshot-drops-expiry',
    // The simulation's state machine is the memory store: its 'mixed' runs compare expiries on every replica.
    file: 'src/storage/memory.js',
    find: '            kv.set(ks, rec);',
    replace: '            kv.set(ks, { ...rec, expiresAt: undefined });',
    rule: 'an installed snapshot is the state machine whole: every record with its expiry (§5 State Machine Safety)',
  },
];
