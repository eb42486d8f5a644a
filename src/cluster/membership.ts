// Membership changes from the coordinator (thesis §4.1, one server at a time): add a learner (a new worker and
// store that catches up by snapshot streaming and the log), promote it once it has caught up, remove a node
// (then stop its worker and delete its store: ids are never reused), replace one by another.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfChange } from '../raft/membership.js';
import type { ConfChangeResult } from '../raft/types.js';
import type { NodeId } from '../raft/types.js';
import { ClusterError, ErrorCode } from '../errors.js';
import { withTimeout, type NodeSet } from './nodes.js';
import { nodeOptions, type ResolvedOptions } from './options.js';
import { writeManifest, type ManifestNode } from './manifest.js';
import { hasLog } from '../storage/lmdb.js';
import { optionsObject } from './cache-args.js';
import { checkNodeId, MAX_TIMEOUT_MS, positiveInt } from './validate.js';
import { Tripwire } from '../util/tripwire.js';

/** The part of a node's status() the membership calls read. */
export interface ConfigStatus {
  id: NodeId;
  role: string;
  commit: number;
  lastIndex: number;
  membership: { voters: NodeId[]; learners: NodeId[]; index: number };
  progress?: Record<NodeId, { match: number }>;
}

export interface MembershipOptions {
  /** How long the whole call may take (catching up included). Default 60 s. */
  timeoutMs?: number;
  /** promote(): the learner must be within this many entries of the leader's commit index. Default 64. */
  maxLagEntries?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_LAG = 64;
const POLL_MS = 20;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A call's options, checked: unknown keys, and times or lags that are not integers, are INVALID_ARGUMENT. */
function membershipOptions(call: string, o: unknown): { deadline: number; maxLag: number } {
  const v = optionsObject<MembershipOptions>(call, o, ['timeoutMs', 'maxLagEntries']);
  const timeoutMs = v.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : positiveInt(`${call}: timeoutMs`, v.timeoutMs, 1, MAX_TIMEOUT_MS);
  const maxLag = v.maxLagEntries === undefined ? DEFAULT_MAX_LAG : positiveInt(`${call}: maxLagEntries`, v.maxLagEntries, 0, Number.MAX_SAFE_INTEGER);
  return { deadline: Date.now() + timeoutMs, maxLag };
}

export class MembershipControl {
  private stopped = false;
  /** Ids of removed nodes (kept in the manifest with LMDB): a new node never takes one. */
  private readonly retired = new Set<NodeId>();
  /** Ids an addLearner() call is adding: a second call for one is refused, not left to remove the first's node. */
  private readonly adding = new Set<NodeId>();
  /** Rejects once stop() is called: a control call to a node being stopped may never settle. */
  private readonly stopping = new Tripwire();

  constructor(
    private readonly nodes: NodeSet,
    private readonly opts: ResolvedOptions,
    private readonly dir: string,
    /** A removed node's worker has stopped: release what the coordinator holds open on its store. */
    private readonly onRemoved: (id: NodeId) => void,
  ) {}

  /** The ids a reopened directory's manifest lists as removed. */
  adoptRetired(ids: readonly NodeId[]): void {
    for (const id of ids) this.retired.add(id);
  }

  /** The cluster stops: every call in progress rejects with CLUSTER_STOPPED at its next step. */
  stop(): void {
    this.stopped = true;
    this.stopping.trip(stoppedError());
  }

  /** `p`, unless the cluster stops first. */
  private guard<T>(p: Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(stoppedError());
    return this.stopping.race(p);
  }

  private checkRunning(): void {
    if (this.stopped) throw stoppedError();
  }

  /** The leader's status, once a leader answers as one (undefined while there is none, or it does not answer within requestTimeoutMs). */
  async leaderStatus(): Promise<ConfigStatus | undefined> {
    const id = this.nodes.leader;
    const h = id === undefined ? undefined : this.nodes.handles.get(id);
    if (!h?.alive || !h.control) return undefined;
    try {
      const s = (await this.guard(withTimeout(h.control.status(), this.opts.requestTimeoutMs))) as unknown as ConfigStatus | undefined;
      if (s === undefined) return undefined;
      return s.role === 'leader' ? s : undefined;
    } catch {
      this.checkRunning();
      return undefined;
    }
  }

  async addLearner(id: NodeId, o?: MembershipOptions): Promise<void> {
    checkNodeId(id);
    const { deadline } = membershipOptions('addLearner', o);
    if (this.adding.has(id)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `node ${id} already exists`);
    // A removed node may have voted in the current term: a new node under its id, with no record of that vote,
    // could vote again in it (etcd, Openraft: ids are never reused).
    if (this.retired.has(id)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `node ${id} was removed from this cluster: a node id is never reused`);
    this.adding.add(id);
    try {
      await this.addNew(id, deadline);
    } finally {
      this.adding.delete(id);
    }
  }

  private async addNew(id: NodeId, deadline: number): Promise<void> {
    const s = await this.waitFor(deadline, (st) => st.commit >= st.membership.index, `a leader with a committed configuration`);
    if (this.nodes.handles.has(id)) {
      if (s.membership.voters.includes(id) || s.membership.learners.includes(id)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `node ${id} already exists`);
      // A node whose addition a stop cut short after its store was made: started by the reopen, in no
      // configuration. Calling again adds it.
      await this.change({ type: 'add-learner', id }, deadline, (m) => m.learners.includes(id) || m.voters.includes(id));
      return;
    }
    const nodeDir = join(this.dir, `node-${id}`);
    // A store of an earlier node with this id would bring back its votes: ids are never reused. A folder without
    // one is what a stop left of an addition cut short before its store existed.
    if (this.opts.storage === 'lmdb' && existsSync(nodeDir)) {
      if (hasLog(nodeDir)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `${nodeDir} exists: a node id is never reused`);
      rmSync(nodeDir, { recursive: true, force: true });
    }
    // Its bootstrap configuration is the one that adds it: until its log or a snapshot says otherwise, it is a learner.
    const options = { ...nodeOptions(this.opts, id, s.membership.voters, nodeDir), learners: [...s.membership.learners, id] };
    // Listed before its store exists: a reopen skips a listed node without a store that no committed configuration holds.
    this.saveManifest(s.membership, { id, voters: options.voters, learners: options.learners });
    let adding: Promise<void> | undefined;
    try {
      if (this.opts.storage === 'lmdb') mkdirSync(nodeDir, { recursive: true });
      this.checkRunning();
      adding = this.nodes.add(options);
      await this.guard(adding);
      await this.change({ type: 'add-learner', id }, deadline, (m) => m.learners.includes(id) || m.voters.includes(id));
    } catch (err) {
      // Stopped while its worker was starting: wait for the start to settle (it may end after stop() stopped the
      // others), then stop that worker too, or it would keep the process alive.
      await adding?.catch(() => undefined);
      await this.nodes.remove(id);
      this.onRemoved(id);
      if (this.opts.storage === 'lmdb') rmSync(nodeDir, { recursive: true, force: true });
      this.saveManifest(s.membership);
      throw err;
    }
  }

  /** Promote learner `id` to voter once it is within maxLagEntries of the leader's commit index. */
  async promote(id: NodeId, o?: MembershipOptions): Promise<void> {
    checkNodeId(id);
    const { deadline, maxLag } = membershipOptions('promote', o);
    const s = await this.waitFor(deadline, (st) => st.commit >= st.membership.index, 'a leader with a committed configuration');
    if (s.membership.voters.includes(id)) {
      this.saveManifest(s.membership); // a promotion that committed just before a stop left the manifest behind
      return;
    }
    if (!s.membership.learners.includes(id)) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `node ${id} is not a learner`);
    await this.waitFor(deadline, (st) => st.commit - (st.progress?.[id]?.match ?? 0) <= maxLag, `node ${id} to catch up`);
    await this.change({ type: 'promote', id }, deadline, (m) => m.voters.includes(id));
  }

  /** Remove `id` from the configuration, then stop its worker and delete its store. */
  async removeNode(id: NodeId, o?: MembershipOptions): Promise<void> {
    checkNodeId(id);
    const { deadline } = membershipOptions('removeNode', o);
    const m = await this.change({ type: 'remove', id }, deadline, (x) => !x.voters.includes(id) && !x.learners.includes(id));
    this.checkRunning();
    if (this.nodes.handles.has(id) && !this.retired.has(id)) {
      this.retired.add(id); // not an id that never was a node
      this.saveManifest(m); // retired before its folder goes, which a stop in between would otherwise forget
    }
    await this.nodes.remove(id);
    this.onRemoved(id);
    if (this.opts.storage === 'lmdb') rmSync(join(this.dir, `node-${id}`), { recursive: true, force: true });
    this.saveManifest(m);
  }

  /**
   * After a reopen: a change that committed just before a stop (a kill between its commit and the manifest's write)
   * left the manifest, or the 1..n of a directory without one, behind the configuration. Write the leader's
   * committed one when it differs (waiting a little for the new leader to commit; otherwise left for the next call).
   */
  async refreshManifest(known: { voters: readonly NodeId[]; learners: readonly NodeId[] }, waitMs: number): Promise<void> {
    if (this.opts.storage !== 'lmdb') return;
    const s = await this.waitFor(Date.now() + waitMs, (st) => st.commit >= st.membership.index, 'a committed configuration').catch(() => undefined);
    const ids = (a: readonly NodeId[]): string => [...a].sort((x, y) => x - y).join(',');
    if (s && (ids(s.membership.voters) !== ids(known.voters) || ids(s.membership.learners) !== ids(known.learners))) this.saveManifest(s.membership);
  }

  /** LMDB: record the node folders and the committed configuration in the directory (manifest.ts), for a reopen. */
  private saveManifest(config: { voters: NodeId[]; learners: NodeId[] }, adding?: ManifestNode): void {
    if (this.opts.storage !== 'lmdb') return;
    const nodes: ManifestNode[] = [...this.nodes.handles.values()].map((h) => ({ id: h.id, voters: h.options.voters, ...(h.options.learners ? { learners: h.options.learners } : {}) }));
    if (adding && !nodes.some((n) => n.id === adding.id)) nodes.push(adding);
    const retired = [...this.retired].sort((a, b) => a - b);
    writeManifest(this.dir, { format: 1, voters: [...config.voters], learners: [...config.learners], nodes, ...(retired.length > 0 ? { retired } : {}) });
  }

  /** Add `newId` as a learner, promote it once caught up, then remove `oldId`: never fewer voters than before. */
  async replaceNode(oldId: NodeId, newId: NodeId, o?: MembershipOptions): Promise<void> {
    checkNodeId(oldId);
    if (oldId === newId) throw new ClusterError(ErrorCode.INVALID_ARGUMENT, 'replaceNode: the new id must differ from the old one');
    const { deadline, maxLag } = membershipOptions('replaceNode', o);
    // Replacing a node that is not a member would only add a voter (found by a review: replaceNode(9, 4) on nodes
    // 1-3 gave four voters).
    const s = await this.waitFor(deadline, (st) => st.commit >= st.membership.index, 'a leader with a committed configuration');
    if (!s.membership.voters.includes(oldId) && !s.membership.learners.includes(oldId)) {
      throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `replaceNode: node ${oldId} is not a member (voters ${JSON.stringify(s.membership.voters)}, learners ${JSON.stringify(s.membership.learners)})`);
    }
    const left = (): MembershipOptions => ({ timeoutMs: Math.max(1, deadline - Date.now()), maxLagEntries: maxLag });
    await this.addLearner(newId, left());
    await this.promote(newId, left());
    await this.removeNode(oldId, left());
  }

  /**
   * Propose `change` at the leader until the leader's committed configuration satisfies `done`: a change whose
   * outcome was unknown (the leader changed) is not proposed twice once it took effect. Refusals while an earlier
   * change or the new leader's no-op is uncommitted are retried; an invalid change is INVALID_ARGUMENT.
   */
  private async change(change: ConfChange, deadline: number, done: (m: ConfigStatus['membership']) => boolean): Promise<ConfigStatus['membership']> {
    let last = 'no leader';
    while (Date.now() < deadline) {
      this.checkRunning();
      const s = await this.leaderStatus();
      if (s !== undefined && s.commit >= s.membership.index) {
        if (done(s.membership)) {
          this.saveManifest(s.membership);
          return s.membership;
        }
        const h = this.nodes.handles.get(this.nodes.leader ?? 0);
        const r = h?.control ? await this.guard<ConfChangeResult>(h.control.proposeConfChange(change) as Promise<ConfChangeResult>).catch(() => undefined) : undefined;
        this.checkRunning();
        if (r && !r.ok && r.code === 'INVALID_CONF_CHANGE') throw new ClusterError(ErrorCode.INVALID_ARGUMENT, `${change.type} ${change.id}: ${r.reason}`);
        last = r === undefined ? 'leader unavailable' : r.ok ? `proposed at index ${r.index}` : r.code;
      }
      await sleep(POLL_MS);
    }
    throw new ClusterError(ErrorCode.TIMEOUT, `${change.type} ${change.id} did not complete in time (last: ${last})`);
  }

  private async waitFor(deadline: number, ok: (s: ConfigStatus) => boolean, what: string): Promise<ConfigStatus> {
    while (Date.now() < deadline) {
      this.checkRunning();
      const s = await this.leaderStatus();
      if (s !== undefined && ok(s)) return s;
      await sleep(POLL_MS);
    }
    throw new ClusterError(ErrorCode.TIMEOUT, `timed out waiting for ${what}`);
  }
}

function stoppedError(): ClusterError {
  return new ClusterError(ErrorCode.CLUSTER_STOPPED, 'the cluster was stopped');
}

