// The simulated disk of one node: what the real NodeHost writes in simulation, with durability modelled
// honestly. The log's writes are the durability point: a write is durable only once the simulation syncs it
// (in order, after as many events as it likes: a slow disk). The state machine is applied without syncing (as
// the LMDB 'state' environment is) and is durable only at checkpoints. A crash keeps the synced log, maybe a
// prefix of the writes not yet synced (transactions reach the disk in order), and either the state as it was
// (a process crash: the page cache survives) or only its last checkpoint (a power loss).
import type { Entry, HardState, InitialState, LogId, Membership, SnapshotMeta } from '../../src/raft/index.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { StorageError, StorageErrorCode } from '../../src/storage/errors.js';
import type { SnapshotSink } from '../../src/storage/store.js';
import type { WriteBatch, WriteBatchResult } from '../../src/storage/types.js';
import { validateAppend } from '../../src/storage/validate.js';
import { type Backend, InlineBackend, nodeStorageOver, type Task } from '../../src/adaptor/index.js';
import type { HostStorage } from '../../src/node/runtime.js';

/** A log image: entries after the last purged point, and the hard state. */
class LogImage {
  entries: Entry[] = [];
  lastPurged: LogId | undefined;
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  membership: Membership;

  constructor(membership: Membership) {
    this.membership = membership;
  }

  clone(): LogImage {
    const c = new LogImage(this.membership);
    c.entries = this.entries.slice();
    c.lastPurged = this.lastPurged;
    c.hardState = { ...this.hardState };
    return c;
  }

  termAt(index: number): number | undefined {
    const base = this.lastPurged?.index ?? 0;
    if (index === base) return this.lastPurged?.term ?? 0;
    return this.entries[index - base - 1]?.term;
  }

  last(): LogId | undefined {
    const e = this.entries[this.entries.length - 1];
    return e ? { index: e.index, term: e.term } : this.lastPurged;
  }

  /** One transaction of the log's writer: validate all, then truncate + append, hard state, purge. */
  write(batch: WriteBatch, checkpointed: number): void {
    if (batch.apply.length > 0) throw new StorageError(StorageErrorCode.IO, 'log', 'write', 'the log store was asked to apply');
    validateAppend(batch.entries, this.last(), this.lastPurged);
    if (batch.purgeTo && batch.purgeTo.index > checkpointed) {
      // The LMDB log store refuses this too: what is purged must be in a durable checkpoint of the state.
      throw new StorageError(StorageErrorCode.INVALID_RANGE, 'log', 'write', `purge to ${batch.purgeTo.index} past the state's checkpoint at ${checkpointed}`);
    }
    const first = batch.entries[0];
    if (first) {
      const base = this.lastPurged?.index ?? 0;
      this.entries.length = first.index - base - 1;
      this.entries.push(...batch.entries);
    }
    if (batch.hardState) this.hardState = { ...batch.hardState };
    const p = batch.purgeTo;
    if (p && p.index > (this.lastPurged?.index ?? 0)) {
      const drop = Math.min(this.entries.length, p.index - (this.lastPurged?.index ?? 0));
      this.entries.splice(0, drop);
      this.lastPurged = { index: p.index, term: p.term };
    }
  }

  reset(point: LogId, membership: Membership): void {
    this.entries = [];
    this.lastPurged = { ...point };
    this.membership = membership;
  }
}

/** A checkpoint of the state: its snapshot chunks (the real format) and the point they cover. */
interface Checkpoint {
  meta: SnapshotMeta;
  chunks: Uint8Array[];
}

interface PendingWrite {
  batch: WriteBatch;
  resolve: (r: WriteBatchResult) => void;
}

interface PendingCheckpoint {
  cp: Checkpoint;
  resolve: (p: LogId) => void;
}

export type CrashKind = 'process' | 'power';

/** What the simulation observes of a node's state machine (its checks of State Machine Safety). */
export interface DiskObserver {
  applied(store: MemoryStore, entries: Entry[]): void;
  installed(store: MemoryStore, meta: SnapshotMeta): void;
  /** Entries handed to the log (before the write is synced), with the term of the entry before the first. */
  logWrite(entries: readonly Entry[], prevTerm: number | undefined): void;
  /** A write or checkpoint now waits for its sync. */
  pending(): void;
}

/** A node's disk: survives crashes of the node; one incarnation of the node's storage is open at a time. */
export class SimDisk {
  private durable: LogImage;
  private live: LogImage;
  private checkpoint: Checkpoint | undefined;
  private writes: PendingWrite[] = [];
  private checkpoints: PendingCheckpoint[] = [];
  /** The state as the page cache holds it (a process crash keeps it; a power loss falls back to the checkpoint). */
  private state: SimStateStore | undefined;
  private incarnation = 0;
  readonly stats = { syncs: 0, lostWrites: 0, keptUnsynced: 0, checkpoints: 0, stateRollbacks: 0 };

  constructor(private readonly membership: Membership, private readonly observer: DiskObserver) {
    this.durable = new LogImage(membership);
    this.live = this.durable.clone();
  }

  /** Writes and checkpoints waiting for their sync. */
  pendingSyncs(): number {
    return this.writes.length + this.checkpoints.length;
  }

  /** Sync the oldest pending write (or checkpoint): it becomes durable and its caller hears of it. */
  syncOne(): boolean {
    const w = this.writes.shift();
    if (w) {
      this.durable.write(w.batch, this.checkpointIndex());
      this.stats.syncs++;
      w.resolve({ applied: [], appliedState: { lastApplied: undefined, membership: this.durable.membership } });
      return true;
    }
    const c = this.checkpoints.shift();
    if (c) {
      this.checkpoint = c.cp;
      this.stats.checkpoints++;
      c.resolve({ index: c.cp.meta.index, term: c.cp.meta.term });
      return true;
    }
    return false;
  }

  private checkpointIndex(): number {
    return this.checkpoint?.meta.index ?? 0;
  }

  /**
   * The node crashed: writes not yet synced are lost, except a prefix of `keepUnsynced` of them (transactions
   * reach the disk in order). A power loss also loses the state's unsynced applies: the state is its checkpoint.
   */
  crash(kind: CrashKind, keepUnsynced: number): void {
    const kept = this.writes.slice(0, keepUnsynced);
    for (const w of kept) this.durable.write(w.batch, this.checkpointIndex());
    this.stats.keptUnsynced += kept.length;
    this.stats.lostWrites += this.writes.length - kept.length;
    this.writes = []; // their promises never settle: the crashed host is gone
    this.checkpoints = [];
    if (kind === 'power') {
      if (this.state) this.stats.stateRollbacks++;
      this.state = undefined;
    }
    this.incarnation++;
  }

  /**
   * Open the storage for a new incarnation. Recovery as the LMDB store does it: the state is the page cache's or
   * the last checkpoint; an install interrupted between the state and the log finishes (the log restarts at the
   * state's point); a state behind the purged log cannot be replayed and is refused.
   */
  open(): HostStorage {
    const incarnation = this.incarnation;
    this.live = this.durable.clone();
    let state = this.state;
    if (!state) {
      state = new SimStateStore(this.membership, this, this.observer);
      if (this.checkpoint) state.restore(this.checkpoint);
      this.state = state;
    }
    const applied = state.appliedState().lastApplied ?? { index: 0, term: 0 };
    const purged = this.durable.lastPurged?.index ?? 0;
    if (applied.index < purged) {
      throw new StorageError(StorageErrorCode.IO, 'state-machine', 'open', `the state is applied to ${applied.index}, behind the log purged to ${purged}: it cannot be replayed`);
    }
    const at = applied.index > purged ? this.durable.entries[applied.index - purged - 1] : undefined;
    if (applied.index > purged && at?.term !== applied.term) {
      this.durable.reset(applied, state.appliedState().membership);
      this.live = this.durable.clone();
    }
    const log = nodeStorageOver(new SimLogBackend(this, incarnation));
    return { log, state: nodeStorageOver(InlineBackend.over(state)) };
  }

  // ── what the log backend does, for the current incarnation only ──

  current(incarnation: number): boolean {
    return incarnation === this.incarnation;
  }

  initial(): InitialState {
    const l = this.live;
    // The configuration of the state (recorded with its applied index, at or past the purge point), as the stores do.
    const membership = this.state?.appliedState().membership ?? l.membership;
    const snapshot: SnapshotMeta | undefined = l.lastPurged ? { ...l.lastPurged, membership } : undefined;
    return { hardState: { ...l.hardState }, snapshot, entries: l.entries.slice(), applied: this.state?.appliedState().lastApplied?.index ?? 0 };
  }

  write(batch: WriteBatch): Promise<WriteBatchResult> {
    const first = batch.entries[0];
    if (first) this.observer.logWrite(batch.entries, this.live.termAt(first.index - 1));
    this.live.write(batch, this.checkpointIndex()); // validates: a bad batch fails at once, as the real store's would
    const p = new Promise<WriteBatchResult>((resolve) => this.writes.push({ batch, resolve }));
    this.observer.pending();
    return p;
  }

  resetLog(point: LogId, membership: Membership): void {
    // Synced at once (one LMDB transaction); the host drains its writes before an install.
    if (this.writes.length > 0) throw new StorageError(StorageErrorCode.IO, 'log', 'install', 'log reset with writes in flight');
    this.durable.reset(point, membership);
    this.live.reset(point, membership);
  }

  checkpointAsync(cp: Checkpoint): Promise<LogId> {
    const have = this.checkpoint?.meta;
    if (have && cp.meta.index <= have.index) return Promise.resolve({ index: have.index, term: have.term });
    const p = new Promise<LogId>((resolve) => this.checkpoints.push({ cp, resolve }));
    this.observer.pending();
    return p;
  }

  /** An install takes its checkpoint synchronously (as the LMDB state store does). */
  installedCheckpoint(cp: Checkpoint): void {
    this.checkpoint = cp;
    // It supersedes the copies still being made (of the state before the install), as in the LMDB store.
    for (const c of this.checkpoints.splice(0)) c.resolve({ index: cp.meta.index, term: cp.meta.term });
  }

  /** The state machine as the node's thread holds it (undefined after a power loss until the next open). */
  stateForChecks(): MemoryStore | undefined {
    return this.state;
  }
}

/** The log's storage backend: the log-role tasks the host sends, against the simulated disk. */
class SimLogBackend implements Backend {
  readonly mode = 'inline' as const;
  constructor(private readonly disk: SimDisk, private readonly incarnation: number) {}

  call(task: Task): Promise<unknown> {
    if (!this.disk.current(this.incarnation)) return new Promise(() => undefined); // a crashed incarnation's call never returns
    try {
      switch (task.op) {
        case 'initial':
          return Promise.resolve(this.disk.initial());
        case 'write':
          return this.disk.write(task.batch);
        case 'reset-log':
          this.disk.resetLog(task.point, task.membership);
          return Promise.resolve(undefined);
        case 'close':
          return Promise.resolve(undefined);
        default:
          throw new StorageError(StorageErrorCode.IO, 'log', 'read', `the simulated log does not serve ${task.op}`);
      }
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The state machine: the real in-memory store, observed, checkpointed onto the simulated disk. */
export class SimStateStore extends MemoryStore {
  constructor(membership: Membership, private readonly disk: SimDisk, private readonly observer: DiskObserver) {
    super({ membership });
  }

  restore(cp: Checkpoint): void {
    const sink = super.receiveSnapshot();
    for (const c of cp.chunks) sink.write(c);
    sink.install(cp.meta);
  }

  private capture(): Checkpoint {
    const src = this.openSnapshot();
    const chunks: Uint8Array[] = [];
    for (let c = src.next(); c; c = src.next()) chunks.push(c);
    src.close();
    return { meta: src.meta, chunks };
  }

  override write(batch: WriteBatch): WriteBatchResult {
    if (batch.entries.length > 0 || batch.hardState || batch.purgeTo) {
      throw new StorageError(StorageErrorCode.IO, 'state-machine', 'write', 'the state store was asked to write the log');
    }
    const res = super.write(batch);
    this.observer.applied(this, batch.apply);
    return res;
  }

  override checkpointAsync(): Promise<LogId> {
    return this.disk.checkpointAsync(this.capture()); // the copy is of the state now; durable when the disk syncs it
  }

  override receiveSnapshot(): SnapshotSink {
    const sink = super.receiveSnapshot();
    return {
      write: (chunk) => sink.write(chunk),
      check: (meta) => sink.check(meta),
      abort: () => sink.abort(),
      install: (meta) => {
        sink.install(meta);
        this.disk.installedCheckpoint(this.capture());
        this.observer.installed(this, meta);
      },
    };
  }
}
