// The state digest of Cluster.checkReplicas (the digest op): SHA-256 of every live record in key byte order, taken
// from a read view of the state as it stood after the op's entry, a few records at a time. The apply only notes the
// request; the store ends its state transaction after that entry and opens the view (an LMDB read snapshot, a copy
// of the memory store's record map), so the writes that follow go on while the node hashes the view between its
// Raft steps (SyncStore.digestStep). Before, the whole state was hashed inside the apply and every write of the
// node waited for it: at a million keys under load, about 3 s without a write, and leaders lost (docs/api.md).
import { createHash } from 'node:crypto';
import type { Key, ReplicaDigest } from './command.js';
import { isExpired } from './codec.js';

/** A digest op noted by the apply: its id, its entry, and the log clock there (which keys had expired). */
export interface DigestRequest {
  id: number;
  index: number;
  clock: number;
}

/** A record as the digest reads it: its value as bytes (a string's UTF-8, as the LMDB store keeps it), and its kind. */
export interface DigestRecord {
  key: Key;
  expiresAt: number | undefined;
  /** The value is bytes (else a string, `value` holding its UTF-8). */
  bytes: boolean;
  value: Uint8Array;
}

/** Records in key byte order from one read view of the state, expired ones included. */
export interface RecordCursor {
  /** The next record, or undefined at the end. */
  next(): DigestRecord | undefined;
  /** Release the view (idempotent). */
  close(): void;
}

/** Bytes gathered before one call into the hash (a call per record part cost more than the copy). */
const HASH_CHUNK = 64 * 1024;

/** One digest being taken. */
class DigestJob {
  private readonly hash = createHash('sha256');
  private readonly buf = Buffer.allocUnsafe(HASH_CHUNK);
  private used = 0;
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
    const { buf, req } = this;
    for (let n = 0; n < max; n++) {
      const r = this.cursor.next();
      if (r === undefined) {
        this.cursor.close();
        this.flush();
        return { id: req.id, index: req.index, digest: this.hash.digest('hex'), keys: this.keys };
      }
      if (isExpired(r.expiresAt, req.clock)) continue;
      if (this.used + 17 > HASH_CHUNK) this.flush();
      let at = buf.writeUInt32BE(r.key.byteLength, this.used);
      at = buf.writeUInt8(r.bytes ? 1 : 0, at);
      at = buf.writeUInt32BE(r.value.byteLength, at);
      this.used = buf.writeDoubleBE(r.expiresAt ?? -1, at);
      this.add(r.key);
      this.add(r.value);
      this.keys++;
    }
    return undefined;
  }

  private add(b: Uint8Array): void {
    if (b.byteLength > HASH_CHUNK - this.used) {
      this.flush();
      if (b.byteLength > HASH_CHUNK) return void this.hash.update(b);
    }
    this.buf.set(b, this.used);
    this.used += b.byteLength;
  }

  private flush(): void {
    if (this.used > 0) this.hash.update(this.buf.subarray(0, this.used));
    this.used = 0;
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
