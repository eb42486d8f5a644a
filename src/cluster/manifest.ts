// The cluster directory's membership manifest (LMDB): which node folders belong to the cluster and the bootstrap
// configuration each node was created with, and the configuration last committed as far as the coordinator knows.
// Written only once the membership changed (a directory that never changed has none: its nodes are 1..nodes), so
// that a reopen starts the right nodes; each node's own store still holds the authoritative configuration (its
// log and snapshot), which the node itself adopts whatever the manifest says.
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeId } from '../raft/types.js';
import { ClusterError, ErrorCode } from '../errors.js';

export const MANIFEST_FILE = 'membership.json';

export interface ManifestNode {
  id: NodeId;
  /** The bootstrap configuration the node's store was created with (NodeOptions.voters / learners). */
  voters: NodeId[];
  learners?: NodeId[];
}

export interface Manifest {
  format: 1;
  /** The configuration last known committed: `nodes` given at a reopen must match its voter count. */
  voters: NodeId[];
  learners: NodeId[];
  nodes: ManifestNode[];
}

function ids(x: unknown): x is NodeId[] {
  return Array.isArray(x) && x.every((v) => Number.isSafeInteger(v) && (v as number) > 0);
}

export function readManifest(dir: string): Manifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Partial<Manifest>;
  } catch (err) {
    throw new ClusterError(ErrorCode.STORAGE, `${path} is not valid JSON: ${(err as Error).message}`);
  }
  const nodesOk = Array.isArray(m.nodes) && m.nodes.every((n) => Number.isSafeInteger(n?.id) && ids(n.voters) && (n.learners === undefined || ids(n.learners)));
  if (m.format !== 1 || !ids(m.voters) || !ids(m.learners) || !nodesOk) throw new ClusterError(ErrorCode.STORAGE, `${path} is malformed`);
  return m as Manifest;
}

/** Replace the manifest atomically (write a temporary file, fsync it, rename it over the old one). */
export function writeManifest(dir: string, m: Manifest): void {
  const path = join(dir, MANIFEST_FILE);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(m));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The node folders holding a store. */
export function nodeFolders(dir: string, dataFile: string): NodeId[] {
  return readdirSync(dir)
    .map((f) => /^node-(\d+)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(dir, m[0], dataFile)))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * A reopen of a directory whose membership changed: the node folders holding a store must be exactly the manifest's
 * nodes (a missing one is refused, as at any reopen: an empty node could vote twice in a term), and `nodes`, when
 * given, must be the number of voters it holds.
 */
export function checkManifest(dir: string, m: Manifest, nodes: number | undefined, dataFile: string): Manifest {
  const found = nodeFolders(dir, dataFile);
  // A node being added when the process stopped, before its store was created: never in a configuration, skipped.
  const members = new Set([...m.voters, ...m.learners]);
  const listed = m.nodes.filter((n) => found.includes(n.id) || members.has(n.id));
  const wanted = listed.map((n) => n.id).sort((a, b) => a - b);
  if (found.length !== wanted.length || found.some((id, i) => id !== wanted[i])) {
    throw new ClusterError(ErrorCode.MEMBERSHIP_MISMATCH, `${dir} holds the stores of nodes [${found.join(', ')}], its membership manifest nodes [${wanted.join(', ')}]`);
  }
  if (nodes !== undefined && nodes !== m.voters.length) {
    throw new ClusterError(
      ErrorCode.MEMBERSHIP_MISMATCH,
      `${dir} holds a cluster of voters [${m.voters.join(', ')}]: reopen it without nodes (its membership is adopted) or with nodes: ${m.voters.length}, not ${nodes}`,
    );
  }
  return { ...m, nodes: listed };
}
