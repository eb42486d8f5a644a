// WATCH as Redis has it: a write sent for a watched key makes the watcher's EXEC abort, even when the key ends as it
// was (created then deleted again; Redis's "touched" keys and dirty-CAS flag). Two hooks touch: the RESP pipeline,
// when it hands a write command's ops to the cluster (./pipeline.ts: in the order of the commands, so a write sent
// before an EXEC aborts it and one sent after does not, within one connection's pipeline too), and the cluster, as
// it accepts any write (Cluster.onWriteAccepted: the Cluster API in the same process, another RESP server in front
// of the cluster). The revisions read at WATCH time are still checked inside EXEC's batch: they see what no hook
// does (expiry, a write accepted before WATCH and applied after).
import { readsOnly, type Op } from '../storage/command.js';
import { keyString } from '../storage/codec.js';
import { writtenKeys, type RespOp } from './plan.js';

/** A watched key: its revision once WATCH's read is answered (undefined until then, or when it failed). */
export interface WatchEntry {
  key: Buffer;
  revision: number | undefined;
}

/** One connection's watched keys, from its first WATCH to its EXEC, DISCARD, UNWATCH or RESET. */
export class WatchSet {
  readonly entries = new Map<string, WatchEntry>();
  /** A write for one of its keys (or FLUSHDB) was sent since it watched it. */
  dirty = false;

  constructor(readonly owner: number) {}

  get size(): number {
    return this.entries.size;
  }
}

/** The server's watched keys: which sets watch each key. Empty, it costs a write one size check. */
export class WatchRegistry {
  private readonly byKey = new Map<string, Set<WatchSet>>();
  /** Each connection's sets that watch something: its current one, and any of an EXEC not sent yet. */
  private readonly byOwner = new Map<number, Set<WatchSet>>();

  /** `set` watches `key` (`id`: its latin1 string); the entry it already had keeps its first revision. */
  watch(set: WatchSet, id: string, key: Buffer): WatchEntry {
    let e = set.entries.get(id);
    if (e === undefined) {
      if (set.entries.size === 0) {
        let owned = this.byOwner.get(set.owner);
        if (owned === undefined) this.byOwner.set(set.owner, (owned = new Set()));
        owned.add(set);
      }
      e = { key: Buffer.from(key), revision: undefined }; // a copy: the argument is a view of a socket chunk
      set.entries.set(id, e);
      let sets = this.byKey.get(id);
      if (sets === undefined) this.byKey.set(id, (sets = new Set()));
      sets.add(set);
    }
    return e;
  }

  /** `set` watches nothing any more. */
  release(set: WatchSet): void {
    for (const id of set.entries.keys()) {
      const sets = this.byKey.get(id);
      sets?.delete(set);
      if (sets?.size === 0) this.byKey.delete(id);
    }
    const owned = this.byOwner.get(set.owner);
    owned?.delete(set);
    if (owned?.size === 0) this.byOwner.delete(set.owner);
  }

  /** A closed connection's sets, its current one and any of an EXEC it never sent. */
  releaseOwner(owner: number): void {
    for (const set of [...(this.byOwner.get(owner) ?? [])]) this.release(set);
  }

  /** Writes of these ops are being sent: every set watching one of their keys is dirty. */
  touch(ops: readonly RespOp[]): void {
    if (this.byKey.size === 0) return;
    for (const op of ops) {
      const keys = writtenKeys(op);
      if (keys === 'all') this.touchAll();
      else for (const k of keys) this.touchKey(k.toString('latin1'));
    }
  }

  /**
   * The cluster accepted a write (from any caller; a RESP command's was touched already): what it writes is touched,
   * every key for a clear (FLUSHDB, FLUSHALL, Cluster.clear()), those under its prefix for Cluster.clear({ prefix }).
   */
  touchAccepted(ops: readonly Op[]): void {
    if (this.byKey.size === 0) return;
    for (const op of ops) {
      if (op.t === 'clearprefix') {
        const p = keyString(op.prefix);
        for (const id of this.byKey.keys()) if (id.startsWith(p)) this.touchKey(id);
      } else if (op.t === 'clear') this.touchAll();
      else if (op.t === 'msetnx') for (const [key] of op.pairs) this.touchKey(keyString(key));
      else if (!readsOnly(op)) {
        this.touchKey(keyString(op.key));
        if (op.t === 'rename' || op.t === 'copy') this.touchKey(keyString(op.to));
      }
    }
  }

  private touchKey(id: string): void {
    const sets = this.byKey.get(id);
    if (sets !== undefined) for (const s of sets) s.dirty = true;
  }

  private touchAll(): void {
    for (const sets of this.byKey.values()) for (const s of sets) s.dirty = true;
  }

  /** Keys watched (INFO, tests). */
  get keys(): number {
    return this.byKey.size;
  }
}
