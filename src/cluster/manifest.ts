// The cluster directory's membership manifest (LMDB): which node folders belong to the cluster and the bootstrap
// configuration each node was created with, and the configuration last committed as far as the coordinator knows.
// Written only once the membership changed (a directory that never changed has none: its nodes are 1..nodes), so
// that a reopen starts the right nodes; each node's own store still holds the authoritative configuration (its
// log and snapshot), which the node itself adopts whatever the manifest says.
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from '../util/fsync.js';
import type { NodeId } from '../raft/types.js';
import { ClusterError, ErrorCode } from '../errors.js';

export const MANIFEST_FILE = 'membership.json';
/**
 * Present while a new cluster's stores are being created: from before the first node folder is made until every
 * node has started on its store. A directory that still holds it was never handed to a caller (start() had not
 * resolved), so no write was acknowledged from it: the next start removes what it made and creates it again.
 */
export const CREATING_FILE = 'threadraft-creating';
/** What a cluster directory was created with that no store records: its value codec (`{ format: 1, codec }`). */
export const CLUSTER_FILE = 'threadraft-cluster.json';

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
  /** Ids of nodes removed from the cluster: never given to a new node (absent: none). */
  retired?: NodeId[];
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
  if (m.format !== 1 || !ids(m.voters) || !ids(m.learners) || !nodesOk || (m.retired !== undefined && !ids(m.retired))) throw new ClusterError(ErrorCode.STORAGE, `${path} is malformed`);
  return m as Manifest;
}

/** Write `text` to `path` and sync the file (its directory entry is the caller's to sync). */
function writeSynced(path: string, text: string): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replace the manifest atomically (write a temporary file, fsync it, rename it over the old one, sync the directory). */
export function writeManifest(dir: string, m: Manifest): void {
  const path = join(dir, MANIFEST_FILE);
  const tmp = `${path}.tmp`;
  writeSynced(tmp, JSON.stringify(m));
  renameSync(tmp, path);
  fsyncDir(dir);
}

/** Whether a creation of the cluster in `dir` was cut short (CREATING_FILE is there). */
export function creationCutShort(dir: string): boolean {
  return existsSync(join(dir, CREATING_FILE));
}

/**
 * Mark `dir` as being created, durably, before any node folder is made in it, with what it is created with
 * (CLUSTER_FILE). A creation that was cut short is undone first: its node folders and manifest removed (none of it
 * was ever acknowledged to anyone).
 */
export function beginCreation(dir: string, codec: string): void {
  if (creationCutShort(dir)) {
    for (const f of readdirSync(dir)) if (/^node-\d+$/.test(f) || f === MANIFEST_FILE) rmSync(join(dir, f), { recursive: true, force: true });
  }
  writeSynced(join(dir, CREATING_FILE), `${process.pid}\n`);
  writeSynced(join(dir, CLUSTER_FILE), JSON.stringify({ format: 1, codec }));
  fsyncDir(dir);
}

/**
 * A reopen: the codec must be the one the directory was created with (CODEC_MISMATCH: a json cluster read raw
 * returns JSON text, and read as msgpack fails). A directory from before the record: any.
 */
export function checkCodec(dir: string, codec: string): void {
  const path = join(dir, CLUSTER_FILE);
  if (!existsSync(path)) return;
  let stored: unknown;
  try {
    stored = (JSON.parse(readFileSync(path, 'utf8')) as { codec?: unknown }).codec;
  } catch (err) {
    throw new ClusterError(ErrorCode.STORAGE, `${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (stored !== codec) {
    throw new ClusterError(ErrorCode.CODEC_MISMATCH, `${dir} was created with codec: '${String(stored)}', opened with codec: '${codec}': the codec is fixed when a directory is created`);
  }
}

/** Every node started on its store in `nodeDirs`: make their entries durable, then remove the marker durably. */
export function endCreation(dir: string, nodeDirs: readonly string[]): void {
  for (const d of nodeDirs) fsyncDir(d);
  fsyncDir(dir);
  unlinkSync(join(dir, CREATING_FILE));
  fsyncDir(dir);
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
 * The stores found against the voters a reopen starts. Every store must be one of `wanted`'s (a store of another
 * node means other voters). A missing one is a node whose store is lost (its folder deleted or never synced): it
 * cannot come back empty under its id (it could vote twice in a term), so it starts as a node with a damaged log
 * does (StoreOptions.existing: CORRUPT), down until replaceNode(), and only while the voters whose stores are there
 * are a majority: fewer could not hold every acknowledged write. Refused at once, before any folder is made.
 */
function checkFound(dir: string, found: NodeId[], wanted: NodeId[], voters: NodeId[], otherwise: string): void {
  const majority = voters.filter((id) => found.includes(id)).length > voters.length / 2;
  if (majority && found.every((id) => wanted.includes(id))) return;
  const why = majority ? '' : `, not a majority of the voters [${voters.join(', ')}]`;
  throw new ClusterError(ErrorCode.MEMBERSHIP_MISMATCH, `${dir} holds the stores of nodes [${found.join(', ')}]${why}: ${otherwise}`);
}

/**
 * A directory whose membership never changed: its stores are those of nodes 1..`nodes` (none: a new cluster, and
 * undefined is returned), some possibly missing (checkFound). Without an explicit `nodes`, the highest node found is
 * adopted: a lost store of the highest node then opens the others for fewer voters than they were created for,
 * which they refuse, naming them.
 */
export function checkNodeFolders(dir: string, nodes: number | undefined, dataFile: string): number | undefined {
  const found = nodeFolders(dir, dataFile);
  if (found.length === 0) return undefined;
  const n = nodes ?? found[found.length - 1]!;
  const voters = Array.from({ length: n }, (_, i) => i + 1);
  checkFound(dir, found, voters, voters, `reopen it with the nodes it was created with, not nodes: ${n} (if its membership was changed, its ${MANIFEST_FILE} is missing)`);
  return n;
}

/**
 * A reopen of a directory whose membership changed: the node folders holding a store must be the manifest's nodes,
 * some possibly missing (checkFound), and `nodes`, when given, must be the number of voters it holds.
 */
export function checkManifest(dir: string, m: Manifest, nodes: number | undefined, dataFile: string): Manifest {
  const found = nodeFolders(dir, dataFile);
  // A node being added when the process stopped, before its store was created: never in a configuration, skipped.
  const members = new Set([...m.voters, ...m.learners]);
  const listed = m.nodes.filter((n) => found.includes(n.id) || members.has(n.id));
  const wanted = listed.map((n) => n.id).sort((a, b) => a - b);
  checkFound(dir, found, wanted, m.voters, `its membership manifest names nodes [${wanted.join(', ')}]`);
  if (nodes !== undefined && nodes !== m.voters.length) {
    throw new ClusterError(
      ErrorCode.MEMBERSHIP_MISMATCH,
      `${dir} holds a cluster of voters [${m.voters.join(', ')}]: reopen it without nodes (its membership is adopted) or with nodes: ${m.voters.length}, not ${nodes}`,
    );
  }
  return { ...m, nodes: listed };
}
