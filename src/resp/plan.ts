// What a data command compiles to, before anything is sent: the connection gathers the plans of every
// command read from a socket in one turn and sends them to the cluster together (./pipeline.ts).
//
// - WritePlan: batch() operations and how to turn their results into the reply. The write plans of a run of
//   commands go to the cluster as one batch() (one atomic log entry), bounded by maxBatchOps/maxBatchBytes;
//   a plan whose ops can reject the whole batch (a `check`: EXEC after WATCH) goes alone.
// - KeysPlan: a read of some keys' values; the key reads of a run of commands are one getMany() (one read
//   index). Inside MULTI the same plan becomes `get` ops of the transaction's batch.
// - ReadPlan / CallPlan: any other read (TTL, SCAN, DBSIZE, ...) or write call (FLUSHDB), run as a call of its
//   own in the run's order. Inside MULTI the commands that have a batch op compile to it instead (TTL a `ttl`,
//   DBSIZE a `size`, FLUSHDB a `clear`); the rest cannot be part of MULTI.
import type { OpResult, Value } from '../index.js';
import type { KeyEvent, KeyspaceNotifier } from './keyspace.js';
import type { Reply } from './reply.js';
import { FIELD_BYTES, type BitField } from '../storage/bitfield.js';
import type { BitOp, ExpireCond } from '../storage/command.js';

/** The batch() operations the RESP commands use (docs/api.md, batch). Keys and values are bytes. */
export type RespOp =
  | { type: 'put'; key: Buffer; value: Buffer; ttlMs?: number; atMs?: number; keepTtl?: boolean; condition?: 'absent' | 'present' }
  | { type: 'delete'; key: Buffer }
  | { type: 'get'; key: Buffer }
  | { type: 'ttl'; key: Buffer }
  | { type: 'check'; key: Buffer; revision: number }
  | { type: 'expire'; key: Buffer; ttlMs?: number; atMs?: number; condition?: ExpireCond }
  | { type: 'persist'; key: Buffer }
  | { type: 'incr'; key: Buffer; by: string }
  | { type: 'incrbyfloat'; key: Buffer; by: string }
  | { type: 'append'; key: Buffer; value: Buffer }
  | { type: 'setrange'; key: Buffer; offset: number; value: Buffer }
  | { type: 'setbit'; key: Buffer; offset: number; bit: 0 | 1 }
  | { type: 'bitop'; key: Buffer; operation: BitOp; keys: Buffer[] }
  | { type: 'bitfield'; key: Buffer; fields: BitField[] }
  | { type: 'pfadd'; key: Buffer; elements: Buffer[] }
  | { type: 'pfmerge'; key: Buffer; keys: Buffer[] }
  | { type: 'pftodense'; key: Buffer }
  | { type: 'rename'; key: Buffer; to: Buffer; condition?: 'absent' }
  | { type: 'copy'; key: Buffer; to: Buffer; replace?: boolean }
  | { type: 'msetnx'; entries: Array<[Buffer, Buffer]> }
  | { type: 'clear' }
  | { type: 'size' };

/** An op's result as the RESP layer reads it (`n`: append's, setrange's and bitop's new length, setbit's bit before). */
export type RespOpResult = OpResult & { n?: number };

export class WritePlan {
  /**
   * Its keyspace events (./keyspace.ts): those of what its ops did (the default), its own list (RESTORE's
   * "restore"), or none of its own (EXEC: each queued command publishes its events as EXEC answers it).
   */
  events: 'ops' | 'none' | ((results: RespOpResult[]) => KeyEvent[]) = 'ops';
  /** The connection whose command it is (set by the dispatcher): client-side caching's NOLOOP and own changes. */
  by: number | undefined;
  /**
   * For client-side caching (./tracking.ts): queued in MULTI, a read-only command's keys (EXEC remembers them as it
   * answers it); EXEC's, the keys it remembers when sent.
   */
  reads: Buffer[] | undefined;
  /**
   * Without ops, a reply that does nothing but read something of the server's now (TIME's clock): a script may run
   * it there and then (../commands/scripting.ts), where a plan without ops that acts (PUBLISH) is refused.
   */
  readsOnlyServer = false;

  constructor(
    public ops: RespOp[],
    readonly reply: (results: RespOpResult[]) => Reply,
    /** Ops that can reject the whole batch: sent as a batch of their own. */
    readonly alone = false,
    /** Called when the plan is sent (EXEC: its WATCH checks are known only then). */
    readonly prepare?: () => Reply | undefined,
  ) {}

  /** The reply to its ops' results, once they are applied; their keyspace events are published first, as Redis does while a command runs. */
  answer(results: RespOpResult[], keyspace: KeyspaceNotifier, nested = false): Reply {
    if (this.events === 'ops') keyspace.written(this.ops, results, this.by);
    else if (this.events !== 'none' && keyspace.listening) {
      keyspace.publish(this.events(results), this.by);
      keyspace.tracking?.sendPending();
    }
    const reply = this.reply(results);
    // A command's own changes told where it redirects go once it is answered (a queued one's: once EXEC is).
    if (!nested) keyspace.tracking?.deliverOwn();
    return reply;
  }
}

export class KeysPlan {
  /**
   * How its keys are looked up, as Redis's lookupKeyRead flags say: 'read', INFO's keyspace hits and misses and a
   * "keymiss" event for a miss (every read command); 'quiet', counted but no event (OBJECT: LOOKUP_NONOTIFY); 'none'
   * (RESTORE's check for an existing key, MEMORY USAGE).
   */
  lookups: 'read' | 'quiet' | 'none' = 'read';
  /** How many of its keys, in order, the command looked up (PFCOUNT stops at a value it refuses); all when unset. */
  looks: ((values: Array<Value | undefined>) => number) | undefined;

  constructor(readonly keys: Buffer[], readonly reply: (values: Array<Value | undefined>) => Reply) {}

  /** The reply to the values read, its keys' lookups counted first. */
  answer(values: Array<Value | undefined>, keyspace: KeyspaceNotifier): Reply {
    if (this.lookups !== 'none') {
      const n = this.looks?.(values) ?? this.keys.length;
      for (let i = 0; i < n; i++) keyspace.looked(this.keys[i]!, values[i] !== undefined, this.lookups === 'read');
    }
    return this.reply(values);
  }
}

export class ReadPlan {
  /**
   * `run` resolves to the reply, or to a function that gives it when it is answered, in the connection's order
   * (what answering does then: TTL's lookup, ./keyspace.ts).
   */
  constructor(readonly run: () => Promise<Reply | (() => Reply)>) {}
}

export class CallPlan {
  /** As ReadPlan's: the reply, or a function that gives it when it is answered (FLUSHDB's client-side caching messages). */
  constructor(readonly run: () => Promise<Reply | (() => Reply)>) {}
}

export type Plan = WritePlan | KeysPlan | ReadPlan | CallPlan;

/**
 * EVAL, EVALSHA, EVAL_RO or EVALSHA_RO queued inside MULTI: its arguments checked, its script compiled and run by
 * EXEC, as Redis runs it (an error is its reply in EXEC's array). A transaction holding one runs as a script does
 * (./commands/scripting.ts).
 */
export class QueuedScript {
  constructor(readonly args: Buffer[]) {}
}

export function isPlan(r: unknown): r is Plan {
  return r instanceof WritePlan || r instanceof KeysPlan || r instanceof ReadPlan || r instanceof CallPlan;
}

/** Reads and writes: a plan of one class waits for the plans of the other class sent before it. */
export function planClass(p: Plan): 'read' | 'write' {
  return p instanceof KeysPlan || p instanceof ReadPlan ? 'read' : 'write';
}

/** A KeysPlan as `get` ops (inside MULTI): the values are the ops' `current`; the KeysPlan counts its lookups. */
export function keysAsWrite(p: KeysPlan, keyspace: KeyspaceNotifier): WritePlan {
  const plan = new WritePlan(
    p.keys.map((key) => ({ type: 'get', key })),
    (results) => p.answer(results.map((r) => (r.ok && r.current !== null && r.current !== undefined ? r.current : undefined)), keyspace),
  );
  plan.events = 'none';
  return plan;
}

/** The keys a write op writes ('all' for a clear; none for a read), for WATCH and a transaction's reads. */
export function writtenKeys(op: RespOp): Buffer[] | 'all' {
  switch (op.type) {
    case 'get':
    case 'ttl':
    case 'check':
    case 'size':
      return [];
    case 'clear':
      return 'all';
    case 'msetnx':
      return op.entries.map(([key]) => key);
    case 'rename':
    case 'copy':
      return [op.key, op.to];
    default:
      return [op.key];
  }
}

/** Operations toward the maxBatchOps bound, as the cluster counts them: an msetnx's entries each. */
export function opsCount(ops: RespOp[]): number {
  let n = 0;
  for (const op of ops) n += op.type === 'msetnx' ? op.entries.length : 1;
  return n;
}

/** The coordinator adds 16 bytes per batch to the ops' bytes: keep a margin under maxBatchBytes. */
export const BATCH_OVERHEAD_BYTES = 64;

/** Bytes of ops for the maxBatchBytes bound, as the coordinator counts them (key + 8 per op, values, 16 per batch). */
export function opsBytes(ops: RespOp[]): number {
  let bytes = 0;
  for (const op of ops) {
    bytes += ('key' in op ? op.key.length : 0) + ('to' in op ? op.to.length : 0) + 8;
    if (op.type === 'msetnx') for (const [k, v] of op.entries) bytes += k.length + v.length;
    if (op.type === 'put' || op.type === 'append' || op.type === 'setrange') bytes += op.value.length;
    else if (op.type === 'incrbyfloat') bytes += op.by.length;
    else if (op.type === 'bitop') for (const k of op.keys) bytes += k.length;
    else if (op.type === 'bitfield') bytes += op.fields.length * FIELD_BYTES;
    else if (op.type === 'pfadd') for (const e of op.elements) bytes += e.length + 8;
    else if (op.type === 'pfmerge') for (const k of op.keys) bytes += k.length;
  }
  return bytes;
}
