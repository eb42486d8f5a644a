// The state digest of Cluster.checkReplicas (the digest op): SHA-256 of every live record in key byte order, taken
// from a read view of the state as it stood after the op's entry, a few records at a time. The apply only notes the
// request; the store ends its state transaction after that entry and opens the view (an LMDB read snapshot, a copy
// of the memory store's record map), so the writes that follow go on while the node hashes the view between its
// Raft steps (SyncStore.digestStep). Before, the whole state was hashed inside the apply and every write of the
// node waited for it: 0.5 s of stalled writes at 200,000 keys, 4.8 s at a million (docs/benchmarks.md).
import { createHash } from 'node:crypto';
import type { Key, ReplicaDigest } from './command.js';
import { isExpired, type StoredRecord } from './codec.js';

/** A digest op noted by the apply: its id, its entry, and the log clock there (which keys had expired). */
export interface DigestRequest {
  id: number;
  index: number;
  clock: number;
}

/** Records in key byte order from one read view of the state, expired ones included. */
export interface RecordCursor {
  /** The next record, or undefined at the end. */
  next(): { key: Key; rec: StoredRecord } | undefined;
  /** Release the view (idempotent). */
  close(): void;
}

/** One digest being taken. */
class DigestJob {
  private readonly hash = createHash('sha256');
  private readonly head = Buffer.alloc(17);
  private keys = 0;

  constructor(
    readonly req: DigestRequest,
    readonly cursor: RecordCursor,
  ) {}

  /**
   * Hash up to `max` records; the digest once the view is exhausted. Each live record (not expired at the request's
   * clock) is its key's length and bytes, its value's kind (0 a string, 1 bytes), length and bytes, and its expiry
   * (-1: none), big-endian: what a client can read, and nothing a store keeps for itself (write revisions, indexes),
   * so that every replica of the same state gives the same digest, whatever its storage.
   */
  step(max: number): ReplicaDigest | undefined {
    const { head, hash, req } = this;
    for (let n = 0; n < max; n++) {
      const r = this.cursor.next();
      if (r === undefined) {
        this.cursor.close();
        return { id: req.id, index: req.index, digest: hash.digest('hex'), keys: this.keys };
      }
      const { key, rec } = r;
      if (isExpired(rec.expiresAt, req.clock)) continue;
      const value = typeof rec.value === 'string' ? Buffer.from(rec.value, 'utf8') : rec.value;
      head.writeUInt32BE(key.byteLength, 0);
      head.writeUInt8(typeof rec.value === 'string' ? 0 : 1, 4);
      head.writeUInt32BE(value.byteLength, 5);
      head.writeDoubleBE(rec.expiresAt ?? -1, 9);
      hash.update(head).update(key).update(value);
      this.keys++;
    }
    return undefined;
  }
}

/** A store's digests in progress, taken oldest first. */
export class DigestQueue {
  private jobs: DigestJob[] = [];

  get pending(): number {
    return this.jobs.length;
  }

  start(req: DigestRequest, cursor: RecordCursor): void {
    this.jobs.push(new DigestJob(req, cursor));
  }

  /** Hash up to `maxRecords` records of the oldest digest in progress; it, once finished. */
  step(maxRecords: number): ReplicaDigest[] {
    const d = this.jobs[0]?.step(maxRecords);
    if (d === undefined) return [];
    this.jobs.shift();
    return [d];
  }

  /** Drop every digest in progress and release its view (the store closes). */
  close(): void {
    for (const j of this.jobs) j.cursor.close();
    this.jobs = [];
  }
}
