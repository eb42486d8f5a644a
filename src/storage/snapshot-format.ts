// The snapshot stream format: a sequence of self-contained msgpack chunks, each ≈ chunkBytes.
//   [0, SNAPSHOT_FORMAT, meta, machine]        header (first); machine: {clock, writeSeq} (format 2)
//   [1, key, storedValue, key, storedValue...] key/value pairs (storedValue = the record as on disk: tag byte,
//                                              expiry and write revision, value bytes)
//   [2, client, sessionRecord, ...]            client sessions (exactly-once state travels with the data)
//   [3, kvCount, sessionCount]                 trailer (last): the receiver checks the counts
// A producer holds one consistent read view and encodes one chunk at a time, so memory stays
// bounded by about one chunk whatever the size of the state.
import type { SnapshotMeta } from '../raft/types.js';
import { packCopy, unpack } from './codec.js';
import { StorageError, StorageErrorCode } from './errors.js';

/** 2: the header carries the log clock and write revision counter. Format 1 (without them) is still read. */
export const SNAPSHOT_FORMAT = 2;

/** The state machine's scalars that travel with a snapshot (every replica must agree on them). */
export interface SnapshotMachine {
  clock: number;
  writeSeq: number;
}
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

const HEADER = 0;
const KV = 1;
const SESSIONS = 2;
const TRAILER = 3;

/** Chunks of a snapshot, lazily: each chunk is its own buffer (transferable). */
export function* snapshotChunks(
  meta: SnapshotMeta,
  kv: Iterable<[Uint8Array, Uint8Array]>,
  sessions: Iterable<[number, Uint8Array]>,
  chunkBytes: number,
  machine: SnapshotMachine,
): Generator<Uint8Array, void, undefined> {
  yield packCopy([HEADER, SNAPSHOT_FORMAT, meta, { clock: machine.clock, writeSeq: machine.writeSeq }]);
  let kvCount = 0;
  let sessionCount = 0;
  let items: unknown[] = [KV];
  let bytes = 0;
  for (const [k, v] of kv) {
    items.push(k, v);
    kvCount++;
    bytes += k.byteLength + v.byteLength + 10;
    if (bytes >= chunkBytes) {
      yield packCopy(items);
      items = [KV];
      bytes = 0;
    }
  }
  if (items.length > 1) yield packCopy(items);
  items = [SESSIONS];
  bytes = 0;
  for (const [c, rec] of sessions) {
    items.push(c, rec);
    sessionCount++;
    bytes += rec.byteLength + 10;
    if (bytes >= chunkBytes) {
      yield packCopy(items);
      items = [SESSIONS];
      bytes = 0;
    }
  }
  if (items.length > 1) yield packCopy(items);
  yield packCopy([TRAILER, kvCount, sessionCount]);
}

export interface SnapshotSinkTarget {
  putKv(key: Uint8Array, storedValue: Uint8Array): void;
  putSession(client: number, record: Uint8Array): void;
}

function bad(message: string): StorageError {
  return new StorageError(StorageErrorCode.SNAPSHOT_INVALID, 'snapshot', 'install', message);
}

/** Checks the order and counts of a received stream and hands its records to a target. */
export class SnapshotAssembler {
  private header: SnapshotMeta | undefined;
  /** The header's machine scalars (zero for a format-1 stream). */
  machine: SnapshotMachine = { clock: 0, writeSeq: 0 };
  private done = false;
  private kvCount = 0;
  private sessionCount = 0;

  /** Decode one chunk and pass its records to `target` (inside the caller's write transaction). */
  accept(chunk: Uint8Array, target: SnapshotSinkTarget): void {
    let items: unknown;
    try {
      items = unpack(chunk);
    } catch (err) {
      throw new StorageError(StorageErrorCode.SNAPSHOT_INVALID, 'snapshot', 'install', 'chunk does not decode', err);
    }
    if (!Array.isArray(items) || items.length === 0) throw bad('chunk is not a non-empty array');
    if (this.done) throw bad('chunk after the trailer');
    const kind = items[0] as unknown;
    if (this.header === undefined && kind !== HEADER) throw bad('first chunk is not the header');
    if (kind === HEADER) this.acceptHeader(items);
    else if (kind === KV) this.acceptPairs(items, (k, v) => {
      if (!(k instanceof Uint8Array) || !(v instanceof Uint8Array)) throw bad('key/value pair is not bytes');
      target.putKv(k, v);
      this.kvCount++;
    });
    else if (kind === SESSIONS) this.acceptPairs(items, (c, r) => {
      if (typeof c !== 'number' || !(r instanceof Uint8Array)) throw bad('session record is malformed');
      target.putSession(c, r);
      this.sessionCount++;
    });
    else if (kind === TRAILER) this.acceptTrailer(items);
    else throw bad(`unknown chunk kind ${String(kind)}`);
  }

  private acceptHeader(items: unknown[]): void {
    if (this.header !== undefined) throw bad('second header');
    if (items[1] !== SNAPSHOT_FORMAT && items[1] !== 1) throw bad(`unknown snapshot format ${String(items[1])}`);
    const meta = items[2] as SnapshotMeta | undefined;
    if (!meta || typeof meta.index !== 'number' || typeof meta.term !== 'number') throw bad('header without meta');
    if (items[1] === SNAPSHOT_FORMAT) {
      const m = items[3] as Partial<SnapshotMachine> | undefined;
      if (!m || !Number.isFinite(m.clock) || !Number.isSafeInteger(m.writeSeq)) throw bad('header without the machine scalars');
      this.machine = { clock: m.clock!, writeSeq: m.writeSeq! };
    }
    this.header = meta;
  }

  private acceptPairs(items: unknown[], each: (a: unknown, b: unknown) => void): void {
    if (items.length % 2 !== 1) throw bad('odd number of pair items');
    for (let i = 1; i < items.length; i += 2) each(items[i], items[i + 1]);
  }

  private acceptTrailer(items: unknown[]): void {
    if (items[1] !== this.kvCount || items[2] !== this.sessionCount) {
      throw bad(`counts do not match: trailer ${String(items[1])}/${String(items[2])}, received ${this.kvCount}/${this.sessionCount}`);
    }
    this.done = true;
  }

  /** Before installing: the stream was complete and is the snapshot the core asked for. */
  finish(meta: SnapshotMeta): SnapshotMeta {
    if (!this.header || !this.done) throw bad('snapshot stream is incomplete');
    if (this.header.index !== meta.index || this.header.term !== meta.term) {
      throw bad(`stream is snapshot ${this.header.index}/${this.header.term}, asked to install ${meta.index}/${meta.term}`);
    }
    return this.header;
  }
}
