// The state machine's apply rules, shared by the LMDB and the in-memory store so both behave the same:
// decode Command[] per Normal entry, apply each command's ops atomically (a failed cas → none apply),
// exactly-once per (client, seq) with a bounded LRU of client sessions (thesis §6.3).
import type { Entry } from '../raft/types.js';
import { EntryType } from '../raft/types.js';
import type { Command, CommandResult, Key, Op, OpResult, Value } from './command.js';
import { keyString, type Session, unpack, valuesEqual } from './codec.js';
import { keyProblem, valueProblem } from './validate.js';

export const SESSION_DEFAULTS = {
  /** Sessions beyond this are evicted, least recently used first (deterministically: same order on every replica). */
  maxSessions: 4096,
  /** Remembered results per session beyond this drop the oldest seq; the coordinator's SESSION_WINDOW keeps it from happening. */
  maxResultsPerSession: 1024,
} as const;

/**
 * The session window, one constant for both sides: the coordinator sends a write only if its
 * seq < floor + SESSION_WINDOW (floor: its lowest unresolved seq). Every seq a state machine applied
 * was sent with some floor f <= the session's floor F (the highest seen), so the results kept, all at
 * seqs >= F, span fewer than SESSION_WINDOW seqs and none is dropped by size; and every seq the
 * coordinator may still retry is >= its floor >= F, so its result is found and it applies once.
 */
export const SESSION_WINDOW = SESSION_DEFAULTS.maxResultsPerSession;

/** What the apply rules need from a store: the active key/value data. */
export interface KvAccess {
  get(key: Key): Value | undefined;
  put(key: Key, value: Value): void;
  del(key: Key): void;
}

/**
 * Client sessions in LRU order (a Map iterates in insertion order: touching re-inserts at the end).
 * `dirty` / `evicted` tell a persistent store which records to rewrite or delete in the same transaction.
 */
export class SessionTable {
  readonly map = new Map<number, Session>();
  counter = 0;
  readonly dirty = new Set<number>();
  readonly evicted = new Set<number>();

  constructor(
    readonly maxSessions: number = SESSION_DEFAULTS.maxSessions,
    readonly maxResults: number = SESSION_DEFAULTS.maxResultsPerSession,
  ) {}

  /** Load sessions (any order); restores the LRU order from `used`. */
  load(sessions: Iterable<[number, Session]>): void {
    this.map.clear();
    this.dirty.clear();
    this.evicted.clear();
    const all = [...sessions].sort((a, b) => a[1].used - b[1].used);
    for (const [client, s] of all) this.map.set(client, s);
    this.counter = all.length > 0 ? all[all.length - 1]![1].used : 0;
  }

  get(client: number): Session | undefined {
    return this.map.get(client);
  }

  private touch(client: number, s: Session): void {
    s.used = ++this.counter;
    this.map.delete(client);
    this.map.set(client, s);
    this.dirty.add(client);
    this.evicted.delete(client);
  }

  remember(client: number, seq: number, floor: number, results: OpResult[]): void {
    let s = this.map.get(client);
    if (!s) s = { floor: 0, results: new Map(), used: 0 };
    if (floor > s.floor) {
      s.floor = floor;
      for (const k of s.results.keys()) if (k < floor) s.results.delete(k);
    }
    s.results.set(seq, results);
    while (s.results.size > this.maxResults) {
      const oldest = Math.min(...s.results.keys());
      s.results.delete(oldest);
    }
    this.touch(client, s);
    while (this.map.size > this.maxSessions) {
      const first = this.map.keys().next().value as number;
      this.map.delete(first);
      this.dirty.delete(first);
      this.evicted.add(first);
    }
  }

  /** A duplicate also counts as use (deterministic on every replica). */
  touchDuplicate(client: number): void {
    const s = this.map.get(client);
    if (s) this.touch(client, s);
  }

  clearChanges(): void {
    this.dirty.clear();
    this.evicted.clear();
  }
}

function isCommand(c: unknown): c is Command {
  if (typeof c !== 'object' || c === null) return false;
  const x = c as Record<string, unknown>;
  return Number.isSafeInteger(x.client) && Number.isSafeInteger(x.seq) && Number.isSafeInteger(x.floor) && Array.isArray(x.ops);
}

/** Shape and limits of one op; returns an error code or undefined. */
function opProblem(op: unknown, maxValueBytes: number): string | undefined {
  if (typeof op !== 'object' || op === null) return 'INVALID_COMMAND';
  const o = op as Record<string, unknown>;
  if (keyProblem(o.key)) return 'INVALID_KEY';
  const check = (v: unknown): string | undefined => valueProblem(v, maxValueBytes)?.code;
  switch (o.t) {
    case 'put':
      return check(o.value);
    case 'del':
      return undefined;
    case 'cas':
      return (o.expected === null ? undefined : check(o.expected)) ?? (o.value === null ? undefined : check(o.value));
    default:
      return 'INVALID_COMMAND';
  }
}

/** Run a command's ops all or nothing: evaluate against an overlay, write the overlay only if every op succeeded. */
export function runOps(ops: Op[], kv: KvAccess, maxValueBytes: number): OpResult[] {
  for (const op of ops) {
    const error = opProblem(op, maxValueBytes);
    if (error) return ops.map(() => ({ ok: false, error }));
  }
  const overlay = new Map<string, { key: Key; value: Value | null }>();
  const read = (key: Key): Value | undefined => {
    const o = overlay.get(keyString(key));
    return o ? (o.value ?? undefined) : kv.get(key);
  };
  const results: OpResult[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.t === 'put') {
      overlay.set(keyString(op.key), { key: op.key, value: op.value });
      results.push({ ok: true });
    } else if (op.t === 'del') {
      const existed = read(op.key) !== undefined;
      overlay.set(keyString(op.key), { key: op.key, value: null });
      results.push({ ok: true, existed });
    } else if (op.t === 'cas') {
      const current = read(op.key);
      if (!valuesEqual(current, op.expected)) {
        // The command is rejected as a whole: nothing applies; the failing cas says what it found.
        return ops.map((_, j) => (j === i ? { ok: false, current: current ?? null } : { ok: false }));
      }
      overlay.set(keyString(op.key), { key: op.key, value: op.value });
      results.push({ ok: true });
    } else {
      return ops.map(() => ({ ok: false, error: 'INVALID_COMMAND' })); // not supported yet
    }
  }
  for (const { key, value } of overlay.values()) {
    if (value === null) kv.del(key);
    else kv.put(key, value);
  }
  return results;
}

export function applyCommand(cmd: Command, kv: KvAccess, sessions: SessionTable, maxValueBytes: number): CommandResult {
  const s = sessions.get(cmd.client);
  if (s) {
    const remembered = s.results.get(cmd.seq);
    if (remembered) {
      sessions.touchDuplicate(cmd.client);
      return { client: cmd.client, seq: cmd.seq, results: remembered, duplicate: true };
    }
    if (cmd.seq < s.floor) {
      // The client promised never to retry below its floor: the outcome is forgotten, never re-applied.
      sessions.touchDuplicate(cmd.client);
      return { client: cmd.client, seq: cmd.seq, results: [], duplicate: true, error: 'SESSION_STALE' };
    }
  }
  const results = runOps(cmd.ops, kv, maxValueBytes);
  sessions.remember(cmd.client, cmd.seq, cmd.floor, results);
  return { client: cmd.client, seq: cmd.seq, results, duplicate: false };
}

/** Apply one entry: [] for a Noop; one result per command for a Normal entry. Never throws on bad data (deterministic rejection). */
export function applyEntry(e: Entry, kv: KvAccess, sessions: SessionTable, maxValueBytes: number): CommandResult[] {
  if (e.type !== EntryType.Normal || e.data.byteLength === 0) return [];
  let cmds: unknown;
  try {
    cmds = unpack(e.data);
  } catch {
    cmds = undefined;
  }
  if (!Array.isArray(cmds) || !cmds.every(isCommand)) {
    return [{ client: 0, seq: 0, results: [], duplicate: false, error: 'INVALID_COMMAND' }];
  }
  return cmds.map((c) => applyCommand(c, kv, sessions, maxValueBytes));
}
