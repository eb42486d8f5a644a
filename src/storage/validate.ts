// Input validation shared by the stores, the adaptors and the coordinator (reuse these: the same
// rule everywhere means a request rejected by the coordinator would have been rejected by storage).
import type { Entry, LogId } from '../raft/types.js';
import { LIMITS, type Value } from './command.js';
import { StorageError, StorageErrorCode } from './errors.js';

/** A key is a Uint8Array of 1..1024 bytes. Throws INVALID_KEY. */
export function validateKey(key: unknown): asserts key is Uint8Array {
  const why = keyProblem(key);
  if (why) throw new StorageError(StorageErrorCode.INVALID_KEY, 'state-machine', 'validate', why);
}

/** The reason a key is invalid, or undefined when it is valid (no throw: for the apply path). */
export function keyProblem(key: unknown): string | undefined {
  if (!(key instanceof Uint8Array)) return `key must be a Uint8Array, got ${key === null ? 'null' : typeof key}`;
  if (key.byteLength === 0) return 'key is empty';
  if (key.byteLength > LIMITS.maxKeyBytes) return `key is ${key.byteLength} bytes, over ${LIMITS.maxKeyBytes}`;
  return undefined;
}

/** A value is a string or a Uint8Array of at most maxValueBytes (UTF-8 bytes for strings). Throws INVALID_VALUE / VALUE_TOO_LARGE. */
export function validateValue(value: unknown, maxValueBytes: number = LIMITS.defaultMaxValueBytes): asserts value is Value {
  const p = valueProblem(value, maxValueBytes);
  if (p) throw new StorageError(p.code, 'state-machine', 'validate', p.message);
}

export function valueProblem(value: unknown, maxValueBytes: number): { code: StorageErrorCode; message: string } | undefined {
  let bytes: number;
  if (typeof value === 'string') {
    if (value.length * 3 <= maxValueBytes) return undefined; // a UTF-16 unit is at most 3 UTF-8 bytes: no need to count
    bytes = Buffer.byteLength(value, 'utf8');
  } else if (value instanceof Uint8Array) bytes = value.byteLength;
  else return { code: StorageErrorCode.INVALID_VALUE, message: `value must be a string or a Uint8Array, got ${value === null ? 'null' : typeof value}` };
  if (bytes > maxValueBytes) return { code: StorageErrorCode.VALUE_TOO_LARGE, message: `value is ${bytes} bytes, over ${maxValueBytes}` };
  return undefined;
}

function invalid(message: string): StorageError {
  return new StorageError(StorageErrorCode.INVALID_ENTRIES, 'log', 'write', message);
}

/**
 * Entries to append: well formed, contiguous, terms non-decreasing, first index in (lastPurged, last + 1]
 * (no gap after the log, no overwrite of purged entries). Throws INVALID_ENTRIES before anything is written.
 */
export function validateAppend(entries: Entry[], last: LogId | undefined, lastPurged: LogId | undefined): void {
  const first = entries[0];
  if (!first) return;
  let prev: Entry | undefined;
  for (const e of entries) {
    if (typeof e !== 'object' || e === null) throw invalid('entry is not an object');
    if (!Number.isSafeInteger(e.index) || e.index < 1) throw invalid(`bad index ${String(e.index)}`);
    if (!Number.isSafeInteger(e.term) || e.term < 1) throw invalid(`bad term ${String(e.term)} at index ${e.index}`);
    if (e.type !== 0 && e.type !== 1 && e.type !== 2) throw invalid(`bad type ${String(e.type)} at index ${e.index}`);
    if (!(e.data instanceof Uint8Array)) throw invalid(`data is not a Uint8Array at index ${e.index}`);
    if (prev && e.index !== prev.index + 1) throw invalid(`entries are not contiguous: ${prev.index} then ${e.index}`);
    if (prev && e.term < prev.term) throw invalid(`terms decrease: ${prev.term} then ${e.term} at index ${e.index}`);
    prev = e;
  }
  const lastIndex = last?.index ?? 0;
  if (first.index > lastIndex + 1) throw invalid(`gap: log ends at ${lastIndex}, entries start at ${first.index}`);
  const purged = lastPurged?.index ?? 0;
  if (first.index <= purged) throw invalid(`entries start at ${first.index}, at or below the purged index ${purged}`);
}

/** A read range [start, end): integers, start >= 1. */
export function validateRange(start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 1) {
    throw new StorageError(StorageErrorCode.INVALID_RANGE, 'log', 'read', `bad range [${start}, ${end})`);
  }
}
