// The replicated command format: what a Normal entry's `data` holds, and what applying it returns.
// The raft core never looks inside; the coordinator encodes, the state machine decodes.
import type { BitField } from './bitfield.js';

/** Keys are bytes inside the cluster; the public API accepts strings (UTF-8 encoded) or bytes. */
export type Key = Uint8Array;
/** Values keep their type: a string written is a string read, bytes written are bytes read. */
export type Value = string | Uint8Array;

/**
 * Ops of a command. Time-to-live: `ttlMs` counts from the entry's time (stamped by the leader when it proposed the
 * entry, see entryTime), so every replica computes the same expiry; a key whose expiry has passed is absent for
 * every op and every read. A put or cas without `ttlMs` clears the key's expiry unless `keepTtl` (Redis's SET
 * semantics).
 */
export type Op =
  /**
   * `cond`: write only if the key is absent ('nx') or present ('xx'); otherwise this op is ok: false and writes
   * nothing. `atMs`: expire at that time (ms since the epoch; at or before the entry's time: the key is deleted).
   */
  | { t: 'put'; key: Key; value: Value; ttlMs?: number; atMs?: number; keepTtl?: boolean; cond?: 'nx' | 'xx' }
  | { t: 'del'; key: Key }
  /**
   * Redis MSETNX: put every pair (without expiry) only when none of their keys is present as the command sees it so
   * far; ok says whether they were written (a key given twice: its last value). No `key` of its own.
   */
  | { t: 'msetnx'; pairs: Array<[Key, Value]> }
  /** Compare-and-set: if the current value equals `expected` (null = absent), set `value` (null = delete). */
  | { t: 'cas'; key: Key; expected: Value | null; value: Value | null; ttlMs?: number; keepTtl?: boolean }
  /**
   * Set the expiry of an existing key (ok: false when absent): `ttlMs` after the entry's time, or at `atMs` (ms
   * since the epoch). An expiry at or before the entry's time deletes the key (Redis's EXPIRE with a ttl <= 0).
   * `cond` (Redis's NX / XX / GT / LT, and XX LT as 'xx-lt'; a key without expiry counts as an infinite one):
   * otherwise ok: false.
   */
  | { t: 'expire'; key: Key; ttlMs?: number; atMs?: number; cond?: ExpireCond }
  /** Remove the expiry of an existing key (ok: whether it had one). */
  | { t: 'persist'; key: Key }
  /**
   * Add `by` to the key's value, a decimal integer string (absent = "0"); result `value` is the new one. `by` a safe
   * integer: the value and the result must be safe integers, else NOT_INTEGER. `by` a 64-bit decimal integer's text
   * (Redis's INCRBY): the value must be a 64-bit integer (NOT_INTEGER) and so must the result (OVERFLOW). A failed
   * incr writes nothing.
   */
  | { t: 'incr'; key: Key; by: number | string; ttlMs?: number }
  /**
   * Redis INCRBYFLOAT: add the float text `by` to the key's value (absent = "0"), both read and added as Redis does
   * (x87 long double, src/storage/float80.ts); result `value` is the new one, as Redis writes it. Else this op fails
   * with NOT_FLOAT (either is not a float), NOT_FINITE (the sum is infinite) or VALUE_TOO_LARGE and writes nothing.
   * `ttlMs` and the expiry as incr's.
   */
  | { t: 'incrbyfloat'; key: Key; by: string; ttlMs?: number }
  /** Append `value` to the key's value (absent = empty); result `n`: the new length in bytes. VALUE_TOO_LARGE (this op only) past the value limit, or past maxBytes with the key in a bounded store. */
  | { t: 'append'; key: Key; value: Value }
  /**
   * Write `value`'s bytes at byte `offset` of the key's value (absent = empty), zero bytes filling any gap (Redis
   * SETRANGE); the expiry stays. Result `n`: the new length in bytes. An empty `value` writes nothing (and creates no
   * key). The result is a string when the value was one (or absent), `value` is one, and the bytes are valid UTF-8;
   * else bytes. VALUE_TOO_LARGE (this op only) as append's.
   */
  | { t: 'setrange'; key: Key; offset: number; value: Value }
  /**
   * Redis SETBIT: set bit `offset` of the key's value (absent = empty; bit 0 is the first byte's most significant)
   * to `bit`, zero bytes filling any gap; the expiry stays. Result `n`: the bit before. The value stays a string
   * when it was one (or absent) and its bytes are valid UTF-8; else bytes. VALUE_TOO_LARGE (this op only) as
   * append's.
   */
  | { t: 'setbit'; key: Key; offset: number; bit: 0 | 1 }
  /**
   * Redis BITOP: `op` over the values of `from` (absent = empty, a shorter one padded with zero bytes; 'not' takes
   * one key) written to `key`, without expiry; every value empty: `key` is deleted. Result `n`: the new length in
   * bytes. A string when every value read was one and the bytes are valid UTF-8; else bytes. VALUE_TOO_LARGE (this
   * op only) with `key`, past maxBytes in a bounded store.
   */
  | { t: 'bitop'; key: Key; op: BitOp; from: Key[] }
  /**
   * Redis BITFIELD: the fields in order over the key's value (absent = empty; src/storage/bitfield.ts). When one
   * is a SET or INCRBY, the value is first grown with zero bytes to hold every field written (even one that then
   * fails under OVERFLOW FAIL, as Redis does), and written back, its expiry kept, a string while it was one (or
   * absent) and its bytes are UTF-8; only GETs write nothing. Result `values`: per field its reply, a 64-bit
   * integer's text, or null (an overflow under FAIL). VALUE_TOO_LARGE (this op only) as append's.
   */
  | { t: 'bitfield'; key: Key; fields: BitField[] }
  /**
   * Redis PFADD: add `elements` to the HyperLogLog the key holds (absent: a new one; src/storage/hyperloglog.ts),
   * byte for byte as Redis's; the expiry stays. Result `changed`: whether PFADD answers 1 (the key is new or a
   * register rose; otherwise nothing is written). NOT_HLL for a value that is not an HLL, INVALID_HLL for a broken
   * one (the registers the elements before the broken part set are written all the same, as Redis's value keeps
   * them), VALUE_TOO_LARGE (this op only) as append's.
   */
  | { t: 'pfadd'; key: Key; elements: Value[] }
  /**
   * Redis PFMERGE: the union of the HLLs of the key itself and of `from` (absent ones empty) written to the key,
   * dense when any of them was; the expiry stays. Errors as pfadd's.
   */
  | { t: 'pfmerge'; key: Key; from: Key[] }
  /**
   * Redis PFDEBUG TODENSE (and GETREG, which converts first): the HLL the key holds made dense, its registers, header
   * and expiry kept. ok: false when the key is absent. Result `changed`: whether it was sparse (then written);
   * `current`: the dense value. Errors as pfadd's.
   */
  | { t: 'pftodense'; key: Key }
  /**
   * Move the key's value and expiry to `to` (Redis RENAME; `nx`: RENAMENX, only when `to` is absent), replacing what
   * `to` held. ok: false when the key is absent (`existed`: false) or `nx` and `to` is present. Onto itself: ok
   * (false with `nx`), nothing written.
   */
  | { t: 'rename'; key: Key; to: Key; nx?: boolean }
  /**
   * Copy the key's value and expiry to another key `to` (Redis COPY; `replace`: over what `to` holds, else only when
   * it is absent). ok: false when the key is absent (`existed`: false) or `to` is present without `replace`.
   */
  | { t: 'copy'; key: Key; to: Key; replace?: boolean }
  /** Read the key as the command sees it so far: ok says whether it is present, `current` its value (null: absent). */
  | { t: 'get'; key: Key }
  /**
   * Read the key's expiry as the command sees it so far (Redis's TTL inside MULTI): ok says whether it is present;
   * `ttlMs` the ms left at the entry's time, `expiresAt` the expiry in ms since the epoch, both -1 without one.
   */
  | { t: 'ttl'; key: Key }
  /** Reject the whole command unless the key's revision (see liveRevision) before the command is `rev` (0: absent). */
  | { t: 'check'; key: Key; rev: number }
  /** Remove every key: result `n`, the live keys removed as the command saw them. */
  | { t: 'clear' }
  /**
   * Remove every key whose bytes start with `prefix` (not empty): result `n`, as clear's. Its own type rather than a
   * field of clear: a store that does not know it refuses the command (INVALID_COMMAND) instead of clearing all.
   */
  | { t: 'clearprefix'; prefix: Key }
  /** Count the live keys as the command sees them so far (Redis's DBSIZE inside MULTI): result `n`. */
  | { t: 'size' }
  /**
   * Digest the state as it stands after this entry (Cluster.checkReplicas): every live key, its value and expiry, in
   * key byte order, read from a view of that state while later writes go on (src/storage/digest.ts); every replica
   * that applies it reports the digest under `id` (SyncStore.digestStep). Alone in its command (else
   * INVALID_COMMAND); writes nothing; its result is a plain ok.
   */
  | { t: 'digest'; id: number };

/** Ops that only read (a digest writes nothing either): what the listeners of changes (WATCH, client-side caching) pass over. */
export function readsOnly(op: Op): op is Extract<Op, { t: 'get' | 'ttl' | 'check' | 'size' | 'digest' }> {
  return op.t === 'get' || op.t === 'ttl' || op.t === 'check' || op.t === 'size' || op.t === 'digest';
}

/**
 * An expire op's condition, Redis's EXPIRE options: 'nx' no expiry yet, 'xx' an expiry already, 'gt' a later one
 * than the key's, 'lt' an earlier one (no expiry counts as an infinite one: GT never, LT always), 'xx-lt' an
 * expiry already and an earlier one (XX LT; XX GT is GT).
 */
export type ExpireCond = 'nx' | 'xx' | 'gt' | 'lt' | 'xx-lt';
export const EXPIRE_CONDS: readonly ExpireCond[] = ['nx', 'xx', 'gt', 'lt', 'xx-lt'];

/** BITOP's operations (Redis 7's). */
export type BitOp = 'and' | 'or' | 'xor' | 'not';
export const BIT_OPS: readonly BitOp[] = ['and', 'or', 'xor', 'not'];

/** A change the state machine made, for watchers: `revision` is the index of the entry that applied it. */
export interface ChangeEvent {
  type: 'put' | 'delete' | 'expire' | 'evict';
  key: Key;
  /** The new value (put only). */
  value?: Value;
  revision: number;
}

/** A digest op's outcome on one replica: the state after entry `index`. */
export interface ReplicaDigest {
  id: number;
  index: number;
  digest: string;
  keys: number;
}

/**
 * One client request. `ops` apply atomically, all or nothing: a failed cas in `ops` leaves every key unchanged.
 * (client, seq) identifies the request for exactly-once application (thesis §6.3): the state machine
 * remembers results of requests with seq >= floor, and the client promises never to retry below `floor`.
 */
export interface Command {
  client: number;
  seq: number;
  floor: number;
  ops: Op[];
}

/**
 * put/del: ok true (del: `existed`). cas: ok says whether it matched; `current` is the value found when it did not.
 * get: `current`. A command is all or nothing when an op is invalid or a cas or check fails (every result ok: false,
 * the cause's with `current` or `error`); an op whose own condition fails (put's cond, expire's, persist, incr's
 * NOT_INTEGER and OVERFLOW, incrbyfloat's NOT_FLOAT and NOT_FINITE, append's VALUE_TOO_LARGE) writes nothing and the others still apply, as in a Redis MULTI/EXEC.
 */
export interface OpResult {
  ok: boolean;
  existed?: boolean;
  current?: Value | null;
  /** incr, incrbyfloat: the new value. */
  value?: Value;
  /** append, setrange, bitop: the new length in bytes; setbit: the bit before; pfmerge: how many of the key and `from` it read (all, or up to the one refused). */
  n?: number;
  /** setbit, bitfield: whether the value changed as Redis counts it (the key is new, the value grew, or a bit written flipped); pfadd: whether it answers 1; pftodense: whether it was sparse. */
  changed?: boolean;
  /** expire: true when the expiry had passed, so the key was deleted; bitop: true when nothing to combine deleted the key. */
  deleted?: boolean;
  /** bitop: the positions in `from` of the sources that were absent, when some were; pfmerge: in the key and `from`. */
  absent?: number[];
  /** bitfield: per field its reply (a 64-bit integer's text), or null. */
  values?: Array<string | null>;
  /** ttl: the ms left at the entry's time and the expiry (ms since the epoch); -1 when the key has none. */
  ttlMs?: number;
  expiresAt?: number;
  /** INVALID_KEY, INVALID_VALUE, VALUE_TOO_LARGE, INVALID_COMMAND (the whole command applied nothing), NOT_INTEGER, OVERFLOW, NOT_FLOAT, NOT_FINITE, NOT_HLL, INVALID_HLL (this op only). */
  error?: string;
}

export interface CommandResult {
  client: number;
  seq: number;
  /** One per op, or, when the batch was rejected by a failed cas, the results with ok=false for the failing op(s). */
  results: OpResult[];
  /** True when this (client, seq) had already been applied: `results` are the remembered ones. */
  duplicate: boolean;
  /** SESSION_STALE: seq is below the session's floor (never re-applied, result forgotten); INVALID_COMMAND: the entry did not decode as a batch of commands. */
  error?: string;
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
/** The longest int64 text: '-9223372036854775808'. */
export const INT64_MAX_TEXT = 20;

/** Redis's integer text (string2ll): `0` or `-?[1-9][0-9]*`, within 64 bits, as a bigint; undefined otherwise. */
export function parseInt64(text: string): bigint | undefined {
  if (text.length === 0 || text.length > INT64_MAX_TEXT || !/^(0|-?[1-9][0-9]*)$/.test(text)) return undefined;
  const v = BigInt(text);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

export const LIMITS = {
  maxKeyBytes: 1024,
  defaultMaxValueBytes: 1024 * 1024,
} as const;

/**
 * Entry time: the leader stamps the wall-clock time (ms since the epoch; all threads of the process share the
 * clock) into the data of each Normal entry it proposes: the byte 0xC1 (never used by msgpack), then the time
 * as a float64 little-endian, then the encoded batch (codec.ts). Unstamped data (older logs) carries no time.
 */
export const STAMP_MARK = 0xc1;
export const STAMP_BYTES = 9;

export function stampEntryData(data: Uint8Array, time: number): Uint8Array {
  const out = new Uint8Array(STAMP_BYTES + data.byteLength);
  out[0] = STAMP_MARK;
  new DataView(out.buffer).setFloat64(1, time, true);
  out.set(data, STAMP_BYTES);
  return out;
}

/** The stamped time of an entry's data, or undefined for unstamped data. */
export function entryTime(data: Uint8Array): number | undefined {
  if (data.byteLength < STAMP_BYTES || data[0] !== STAMP_MARK) return undefined;
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(1, true);
}

/** The encoded batch of an entry's data, without its stamp. */
export function entryPayload(data: Uint8Array): Uint8Array {
  return data.byteLength >= STAMP_BYTES && data[0] === STAMP_MARK ? data.subarray(STAMP_BYTES) : data;
}
