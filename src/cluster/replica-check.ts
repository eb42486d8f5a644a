// Cluster.checkReplicas (etcd's corruption check, for a replicated state machine without history): one entry
// carries a digest op; every replica that applies it digests its whole state as of that entry and reports it
// (src/storage/apply.ts, digestState). The same entry on every replica makes the digests comparable under load,
// without stopping writes. What it sees: a replica whose state diverged (a damaged page in its state environment,
// which carries no checksums, or a bug); a replica that did not apply the entry (down, or past it by a snapshot)
// is reported as missing, not as a match.
import type { NodeId } from '../raft/types.js';
import type { ReplicaDigest } from '../storage/command.js';

/** One node's part of a replica check. */
export interface ReplicaReport {
  id: NodeId;
  /** 'match': its digest is the majority's; 'differs': it is not (or no digest has a majority); 'missing': it reported none in time (down, behind, or past the entry by a snapshot). */
  status: 'match' | 'differs' | 'missing';
  /** The hex SHA-256 of its state at the entry (every live key, value and expiry in key order). */
  digest?: string;
  /** Its live keys at the entry. */
  keys?: number;
}

export interface ReplicaCheck {
  /** The log index of the entry whose state every report digests. */
  index: number;
  /** The digest a majority of the members reported, and its live keys (absent when no digest has a majority). */
  digest?: string;
  keys?: number;
  /** Every member reported, and every digest is the same. */
  consistent: boolean;
  /** Every member, by id. */
  nodes: ReplicaReport[];
}

/** The checks in flight: each collects the reports of its digest op's id until every member has reported. */
export class ReplicaChecks {
  private nextId = 1;
  private readonly pending = new Map<number, { reports: Map<NodeId, ReplicaDigest>; changed: () => void }>();

  /** A new check's id, and what it has collected so far (reports arrive from the moment it is opened). */
  open(): { id: number; reports: Map<NodeId, ReplicaDigest>; next: (ms: number) => Promise<void>; close: () => void } {
    const id = this.nextId++;
    const reports = new Map<NodeId, ReplicaDigest>();
    let wake: (() => void) | undefined;
    this.pending.set(id, { reports, changed: () => wake?.() });
    return {
      id,
      reports,
      // Resolves at the next report or after `ms`, whichever comes first.
      next: (ms) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(0, ms));
          wake = () => {
            clearTimeout(t);
            wake = undefined;
            resolve();
          };
        }),
      close: () => void this.pending.delete(id),
    };
  }

  /** Wake every check in flight (the cluster is stopping: each sees it and ends at once). */
  wakeAll(): void {
    for (const p of this.pending.values()) p.changed();
  }

  /** A node's 'digest' message. Reports of checks no longer open (late, or another coordinator's) are dropped. */
  report(from: NodeId, digests: ReplicaDigest[]): void {
    for (const d of digests) {
      const p = this.pending.get(d.id);
      if (!p || p.reports.has(from)) continue;
      p.reports.set(from, d);
      p.changed();
    }
  }
}

/**
 * The verdict: each member against the digest a majority of the members reported. Not the leader's: the leader
 * may be the replica whose state diverged, and a majority is what holds every acknowledged write.
 */
export function replicaVerdict(members: NodeId[], reports: Map<NodeId, ReplicaDigest>): ReplicaCheck {
  const counts = new Map<string, number>();
  for (const id of members) {
    const d = reports.get(id)?.digest;
    if (d !== undefined) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  const majority = members.map((id) => reports.get(id)).find((r) => r !== undefined && counts.get(r.digest)! > members.length / 2);
  const nodes = members.map((id): ReplicaReport => {
    const r = reports.get(id);
    if (r === undefined) return { id, status: 'missing' };
    return { id, status: r.digest === majority?.digest ? 'match' : 'differs', digest: r.digest, keys: r.keys };
  });
  const index = reports.values().next().value?.index ?? 0;
  const check: ReplicaCheck = { index, consistent: nodes.every((n) => n.status === 'match'), nodes };
  if (majority !== undefined) {
    check.digest = majority.digest;
    check.keys = majority.keys;
  }
  return check;
}
