// The pure Raft core's data types: the contract between src/raft/ and everything around it.
// Nothing here does I/O. Names follow the Raft paper (Ongaro & Ousterhout 2014; Ongaro's thesis).

/** A node id. Positive integers; 0 means "none" (no vote, no known leader). */
export type NodeId = number;
export const NONE: NodeId = 0;

/** The position of an entry: (term, index). index 0 / term 0 is the empty log. */
export interface LogId {
  term: number;
  index: number;
}

/** Entry kinds. Numbers, so they encode small with msgpackr. */
export const EntryType = {
  /** Client data: opaque bytes to the core (the state machine decodes them). */
  Normal: 0,
  /** The empty entry a new leader appends (§5.4.2, §8) so that it can commit entries of earlier terms. */
  Noop: 1,
  /**
   * A configuration change (thesis §4.1): the data holds the whole new configuration (membership.ts). It takes
   * effect on a node as soon as it is in the node's log; the state machine ignores it when applied.
   */
  ConfChange: 2,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Opaque to the core, except a ConfChange's (the configuration). Empty for Noop. */
  data: Uint8Array;
}

/** The state that must be durable before a node sends anything that depends on it (Figure 2: currentTerm, votedFor; commit for faster restarts). */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/**
 * A configuration: voters elect and count toward every quorum; learners receive the log and snapshots and
 * count toward nothing. Disjoint. Changed one server at a time through ConfChange entries (membership.ts).
 */
export interface Membership {
  voters: NodeId[];
  /** Absent in records written before learners existed: none. */
  learners?: NodeId[];
}

/** What a snapshot covers: every entry up to and including (index, term), and the membership at that point. */
export interface SnapshotMeta {
  index: number;
  term: number;
  membership: Membership;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Soft state: not persisted, useful to the host (leader tracking, metrics). */
export interface SoftState {
  leader: NodeId;
  role: Role;
}

// ───────────────────────────── Messages ─────────────────────────────
// Every message carries term, from, to. The host transports them as opaque records.

interface MessageBase {
  term: number;
  from: NodeId;
  to: NodeId;
}

/** RequestVote (§5.2) or, with preVote, the pre-vote of thesis §9.6 (term is the term the sender *would* use). */
export interface VoteRequest extends MessageBase {
  type: 'vote';
  preVote: boolean;
  lastLogIndex: number;
  lastLogTerm: number;
  /** Set when the election was started by TimeoutNow (§3.10): followers grant it even if they heard from a leader recently. */
  transfer: boolean;
}

export interface VoteResponse extends MessageBase {
  type: 'vote-response';
  preVote: boolean;
  granted: boolean;
}

/** AppendEntries (§5.3). An empty `entries` with the same shape is a heartbeat. */
export interface AppendRequest extends MessageBase {
  type: 'append';
  prevLogIndex: number;
  prevLogTerm: number;
  entries: Entry[];
  /** Leader's commit index. */
  commit: number;
}

export interface AppendResponse extends MessageBase {
  type: 'append-response';
  success: boolean;
  /** On success: the index of the last entry the follower now matches (match index). On rejection: the prevLogIndex rejected. */
  index: number;
  /** On rejection: fast backtracking hints (thesis §5.3 / etcd's findConflictByTerm). */
  conflictTerm: number;
  conflictIndex: number;
}

/**
 * Heartbeat (§5.2) with an optional ReadIndex context (§6.4): the leader confirms it is still leader
 * by hearing a response from a majority to a heartbeat sent after the read was requested.
 */
export interface HeartbeatRequest extends MessageBase {
  type: 'heartbeat';
  commit: number;
  /** Monotonic ReadIndex round number; 0 when no read is pending. */
  readRound: number;
}

export interface HeartbeatResponse extends MessageBase {
  type: 'heartbeat-response';
  readRound: number;
  /** The follower's last log index, so the leader can resume replication to a lagging follower. */
  lastIndex: number;
}

/**
 * InstallSnapshot (§7). The core carries only the metadata: the host streams the data in chunks
 * beside it and steps this message into the receiving core only once all chunks have arrived.
 */
export interface SnapshotRequest extends MessageBase {
  type: 'snapshot';
  snapshot: SnapshotMeta;
}

/** Leadership transfer (§3.10): "start an election now". */
export interface TimeoutNow extends MessageBase {
  type: 'timeout-now';
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | SnapshotRequest
  | TimeoutNow;

export type MessageType = Message['type'];

// ───────────────────────────── Ready ─────────────────────────────

/** A ReadIndex (or lease read) that is now safe: once lastApplied >= index, reads issued with `id` are linearizable. */
export interface ReadState {
  id: number;
  index: number;
}

/**
 * Everything the host must do, in this order (ARCHITECTURE.md, "The Ready loop"):
 * 1. send `messages` (safe to send before persisting: leader appends/heartbeats/snapshots/timeout-now);
 * 2. persist `snapshot` (install it: state machine + log reset), then `entries` (first truncating any stored
 *    entries at index >= entries[0].index), then `hardState` — durably;
 * 3. send `persistedMessages` (votes, vote grants, append acknowledgements: they promise durable state);
 * 4. apply `committedEntries` in order; answer `readStates` once applied >= their index;
 * 5. call `advance(ready)`.
 */
export interface Ready {
  softState: SoftState | undefined; // present when changed since the last Ready
  hardState: HardState | undefined; // present when changed since the last Ready
  snapshot: SnapshotMeta | undefined; // a received snapshot to install before appending entries
  entries: Entry[]; // to append durably
  committedEntries: Entry[]; // to apply, in order
  messages: Message[]; // send now
  persistedMessages: Message[]; // send only after snapshot/entries/hardState are durable
  readStates: ReadState[];
}

// ───────────────────────────── Configuration ─────────────────────────────

export interface RaftConfig {
  id: NodeId;
  /**
   * The bootstrap configuration's voters (usually including `id`): in effect while neither the initial snapshot
   * nor the log holds a configuration (a ConfChange entry), which always win.
   */
  voters: NodeId[];
  /** The bootstrap configuration's learners (a node joining as a learner lists itself here). Default none. */
  learners?: NodeId[];
  /** Ticks between leader heartbeats. */
  heartbeatTicks: number;
  /** Election timeout: a random value in [electionTimeoutMinTicks, electionTimeoutMaxTicks) is drawn each time the timer resets. */
  electionTimeoutMinTicks: number;
  electionTimeoutMaxTicks: number;
  /** Thesis §9.6. */
  preVote: boolean;
  /** A leader that has not heard from a majority within an election timeout steps down (thesis §6.2). Required for lease reads. */
  checkQuorum: boolean;
  /**
   * Every voter of the cluster is starting now, and no leader of an earlier run can still be alive (the coordinator
   * starts the whole cluster while it holds the directory's lock): there is no lease this node may have underwritten,
   * so a restarted node does not refuse votes for its first minimum election timeout. Default false: a node restarted
   * alone (a crash, restartNode) keeps that refusal.
   */
  coldStart?: boolean;
  /** Pipelining: at most this many AppendEntries in flight per follower... */
  maxInflightMsgs: number;
  /** ...and at most this many bytes of entry data in flight per follower. */
  maxInflightBytes: number;
  /** Upper bound of one AppendEntries message (entry data bytes); at least one entry is always sent. */
  maxMsgBytes: number;
  /** Upper bound of committedEntries bytes per Ready (at least one entry). */
  maxApplyBytes: number;
  /**
   * Readies that may be handed out before the oldest is advanced: 1 is the classic loop (persist, then ask
   * again); more lets the host step and hand out the next Ready while earlier storage writes are in flight
   * (etcd's AsyncStorageWrites). Acknowledgements and the leader's own vote toward commit still wait for
   * advance(), which must follow the order the Readies were handed out. Default 1.
   */
  maxOutstandingReadies?: number;
  /** Injected randomness: returns an integer in [0, n). Must be deterministic in the simulation. */
  random: (n: number) => number;
  /** Test-only: break one safety rule so the simulator can show it catches the violation. */
  testBreak?: 'commit-old-term' | 'double-vote';
}

/** What a node starts from: its persisted state (after a crash, only what was persisted). */
export interface InitialState {
  hardState: HardState;
  /** The last snapshot installed/taken, or undefined. Entries up to snapshot.index are not in `entries`. */
  snapshot: SnapshotMeta | undefined;
  /** The persisted log after the snapshot, contiguous. */
  entries: Entry[];
  /** The last applied index (>= snapshot index): committed entries above it are re-applied. */
  applied: number;
}

export type ProposeResult =
  | { ok: true; term: number; firstIndex: number; lastIndex: number }
  | { ok: false; code: 'NOT_LEADER'; leader: NodeId }
  | { ok: false; code: 'TRANSFERRING'; leader: NodeId };

export type ConfChangeResult =
  | { ok: true; term: number; index: number }
  | { ok: false; code: 'NOT_LEADER'; leader: NodeId }
  | { ok: false; code: 'TRANSFERRING'; leader: NodeId }
  /** §4.1 / the one-at-a-time fix: an entry of the leader's term is not committed yet, or an earlier change is not. */
  | { ok: false; code: 'CONF_CHANGE_PENDING'; leader: NodeId; reason: string }
  | { ok: false; code: 'INVALID_CONF_CHANGE'; leader: NodeId; reason: string };

export type ReadIndexResult =
  | { ok: true } // a ReadState with this id will appear in a later Ready
  | { ok: false; code: 'NOT_LEADER'; leader: NodeId };

export interface RaftStatus {
  id: NodeId;
  term: number;
  vote: NodeId;
  role: Role;
  leader: NodeId;
  commit: number;
  applied: number;
  lastIndex: number;
  firstIndex: number; // first entry held in the log (snapshot index + 1)
  snapshotIndex: number;
  /** The configuration in effect (the latest in the log or the snapshot) and the index of its entry (0: the bootstrap's or the snapshot's). */
  membership: { voters: NodeId[]; learners: NodeId[]; index: number };
  progress?: Record<NodeId, { match: number; next: number; state: 'probe' | 'replicate' | 'snapshot'; inflight: number; learner: boolean }>;
}
