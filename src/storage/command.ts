// The replicated command format: what a Normal entry's `data` holds, and what applying it returns.
// The raft core never looks inside; the coordinator encodes, the state machine decodes.

/** Keys are bytes inside the cluster; the public API accepts strings (UTF-8 encoded) or bytes. */
export type Key = Uint8Array;
/** Values keep their type: a string written is a string read, bytes written are bytes read. */
export type Value = string | Uint8Array;

export type Op =
  | { t: 'put'; key: Key; value: Value }
  | { t: 'del'; key: Key }
  /** Compare-and-set: if the current value equals `expected` (null = absent), set `value` (null = delete). */
  | { t: 'cas'; key: Key; expected: Value | null; value: Value | null };

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

/** put/del: ok true (del: `existed`). cas: ok says whether it matched; `current` is the value found when it did not. */
export interface OpResult {
  ok: boolean;
  existed?: boolean;
  current?: Value | null;
  /** Set when the op was rejected before evaluation (the whole command then applies nothing): INVALID_KEY, INVALID_VALUE, VALUE_TOO_LARGE, INVALID_COMMAND. */
  error?: string;
}

export interface CommandResult {
  client: number;
  seq: number;
  /** One per op, or, when the batch was rejected by a failed cas, the results with ok=false for the failing op(s). */
  results: OpResult[];
  /** True when this (client, seq) had already been applied: `results` are the remembered ones. */
  duplicate: boolean;
  /** SESSION_STALE: seq is below the session's floor (never re-applied, result forgotten); INVALID_COMMAND: the entry did not decode as Command[]. */
  error?: string;
}

/** An entry's data is a msgpackr-encoded Command[] (one coordinator batch per entry). */
export type EntryPayload = Command[];

export const LIMITS = {
  maxKeyBytes: 1024,
  defaultMaxValueBytes: 1024 * 1024,
} as const;
