// The one storage error (openraft's StorageError): a stable `code`, what it concerns (`subject`) and
// what was being done (`verb`). It crosses thread boundaries as plain data (`toJSON`) and is rebuilt
// as the same class with `StorageError.fromJSON`: Node 20 turns custom error classes sent through a
// MessagePort (or thrown in a piscina task) into plain Errors, losing code and fields.

export const StorageErrorCode = {
  /** The directory is held by another live process (lock file with its pid). */
  DIR_LOCKED: 'DIR_LOCKED',
  /** The store was created for other voters than the ones it is opened with (the voter set is fixed at creation). */
  MEMBERSHIP_MISMATCH: 'MEMBERSHIP_MISMATCH',
  BOUNDS_MISMATCH: 'BOUNDS_MISMATCH',
  /** The environment was written by an unknown on-disk format version. */
  FORMAT_VERSION: 'FORMAT_VERSION',
  /** Entries to append are not contiguous, leave a gap, overwrite purged entries, or are malformed. Nothing was written. */
  INVALID_ENTRIES: 'INVALID_ENTRIES',
  /** A key is not a Uint8Array of 1..1024 bytes. */
  INVALID_KEY: 'INVALID_KEY',
  /** A value is neither a string nor a Uint8Array. */
  INVALID_VALUE: 'INVALID_VALUE',
  /** A value is larger than maxValueBytes. */
  VALUE_TOO_LARGE: 'VALUE_TOO_LARGE',
  /** A read asked for entries at or below the last purged index. */
  LOG_PURGED: 'LOG_PURGED',
  /** A read range is malformed (start < 1, non-integer bounds). */
  INVALID_RANGE: 'INVALID_RANGE',
  /** A snapshot stream is malformed (bad chunk, wrong order, counts that do not match). */
  SNAPSHOT_INVALID: 'SNAPSHOT_INVALID',
  /** A snapshot being received was aborted or superseded by a newer one. */
  SNAPSHOT_ABORTED: 'SNAPSHOT_ABORTED',
  /** The store is closed. */
  CLOSED: 'CLOSED',
  /**
   * The file system of the state environment has less free space than the reserve a state transaction needs
   * (src/storage/space.ts). Refused before anything was written.
   */
  NO_SPACE: 'NO_SPACE',
  /**
   * An environment file LMDB would refuse, or be misled by: too short for its two meta pages, or a meta page
   * without LMDB's flag, magic or version (src/storage/env-header.ts). Refused before LMDB opens it. A damaged
   * state environment is rebuilt instead (from its checkpoint and the log); the log environment is not.
   */
  CORRUPT: 'CORRUPT',
  /** Any other failure of the underlying storage (see `cause`). */
  IO: 'IO',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

export type StorageSubject = 'log' | 'vote' | 'state-machine' | 'snapshot' | 'store';
export type StorageVerb = 'read' | 'write' | 'open' | 'close' | 'apply' | 'build' | 'install' | 'validate';

/** A cause reduced to plain data, so that it survives structured clone. */
export interface CauseData {
  name: string;
  message: string;
  code?: string;
}

export interface StorageErrorData {
  name: 'StorageError';
  code: StorageErrorCode;
  message: string;
  subject: StorageSubject;
  verb: StorageVerb;
  cause?: CauseData;
}

function causeData(cause: unknown): CauseData | undefined {
  if (cause === undefined) return undefined;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const d: CauseData = { name: cause.name, message: cause.message };
    if (typeof code === 'string') d.code = code;
    return d;
  }
  return { name: 'Error', message: String(cause) };
}

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  readonly subject: StorageSubject;
  readonly verb: StorageVerb;

  constructor(code: StorageErrorCode, subject: StorageSubject, verb: StorageVerb, message: string, cause?: unknown) {
    super(`${code}: ${message}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.subject = subject;
    this.verb = verb;
  }

  toJSON(): StorageErrorData {
    const d: StorageErrorData = { name: 'StorageError', code: this.code, message: this.message, subject: this.subject, verb: this.verb };
    const c = causeData(this.cause);
    if (c) d.cause = c;
    return d;
  }

  static fromJSON(d: StorageErrorData): StorageError {
    const prefix = `${d.code}: `;
    const msg = d.message.startsWith(prefix) ? d.message.slice(prefix.length) : d.message;
    return new StorageError(d.code, d.subject, d.verb, msg, d.cause);
  }

  static isData(v: unknown): v is StorageErrorData {
    return typeof v === 'object' && v !== null && (v as { name?: unknown }).name === 'StorageError' && typeof (v as { code?: unknown }).code === 'string';
  }

  /** Keep a StorageError as is; wrap anything else as IO with the context given. */
  static wrap(err: unknown, subject: StorageSubject, verb: StorageVerb): StorageError {
    if (err instanceof StorageError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    return new StorageError(StorageErrorCode.IO, subject, verb, msg, err);
  }
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}
