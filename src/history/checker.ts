// Linearizability checker for key/value histories (HISTORY-FORMAT.md).
//
// Linearizability is local (Herlihy & Wing, 1990, §3.5): a history is linearizable iff the
// subhistory of every object is, so the history is partitioned by key and each key is checked as a
// register on its own. Per key this is the search of Wing & Gong (1993) as improved by Lowe (2017)
// with memoization of (set of linearized operations, model state): the algorithm of porcupine and
// Knossos. Operations sit in a doubly linked list of call and return entries in time order; the
// search linearizes a call whose operation the model accepts, lifts it out of the list and starts
// over from the head; meeting a return entry means the operation it closes should have taken effect
// already, so the search backtracks. A (linearized set, state) pair seen before is never explored
// twice, which keeps typical histories near linear time. Three register-specific prunings on top,
// each argued where it is made: reads are linearized greedily, info operations nobody observed are
// dropped, and an observed info write must take effect before its first observer completes.
// The problem is NP-complete in general, so each key has a step budget (about 5 s and a few
// hundred MB at the default) and is reported as timed out, never as a verdict, when it runs out.

import { mulberry32u32 } from '../util/random.js';
import { toHistoryEvent } from './recorder.js';
import {
  HistoryError,
  HistoryErrorCode,
  type CasValue,
  type HistoryEvent,
  type HistoryFunction,
  type HistoryValue,
} from './types.js';

export interface CheckOptions {
  /** Search iterations allowed per key before giving up on it (reported as timed out). Default 10,000,000. */
  maxStepsPerKey?: number;
  /** Wall-clock budget for the whole check; keys not finished by then are reported as timed out. */
  timeoutMs?: number;
  /** Operations listed in one failure. Default 10. */
  maxFailureOps?: number;
}

/** An invoke paired with its completion. */
export interface HistoryOperation {
  process: number;
  f: HistoryFunction;
  key: string;
  /** The invoke's value: the string written, `[expected, new]` of a cas, `null` otherwise. */
  value: HistoryValue;
  /** What an ok read saw (`null` = absent); `undefined` for other operations. */
  result?: string | null;
  /** `info` also stands for an invoke that never completed. */
  status: 'ok' | 'fail' | 'info';
  invokeTime: number;
  /** `null` for info: the operation may take effect at any time after its invoke, or never. */
  completeTime: number | null;
}

export interface CheckFailure {
  key: string;
  reason: string;
  /** The operation the search got stuck on first, then those concurrent with it, then the last ones linearized. */
  ops?: HistoryOperation[];
}

export interface CheckResult {
  /** True only if every key was shown linearizable (false on any failure or time out). */
  ok: boolean;
  /** Distinct keys in the history. */
  keys: number;
  /** Operations searched: all paired operations less failed ones, indeterminate reads and unobserved info ops. */
  operations: number;
  failures: CheckFailure[];
  timedOut?: boolean;
  /** Keys whose search ran out of budget; their linearizability is unknown. */
  timedOutKeys?: string[];
}

const DEFAULT_MAX_STEPS_PER_KEY = 10_000_000;
const DEFAULT_MAX_FAILURE_OPS = 10;
/** How often (in search iterations) the wall clock is read. */
const CLOCK_CHECK_MASK = 0xfff;

/** Event `i` of a history given as objects, checked as a parsed line is (parseHistory): else PARSE, naming it. */
function checkedEvent(raw: unknown, i: number): HistoryEvent {
  try {
    return toHistoryEvent(raw);
  } catch (err) {
    throw err instanceof HistoryError ? new HistoryError(err.code, `event ${i}: ${err.message}`) : err;
  }
}

/** Pairs invokes with their completions, per process, in event order. Throws HistoryError on an event not of the format. */
export function pairOperations(events: readonly HistoryEvent[]): HistoryOperation[] {
  const ops: HistoryOperation[] = [];
  const pending = new Map<number, HistoryOperation>();
  if (!Array.isArray(events)) throw new HistoryError(HistoryErrorCode.PARSE, `a history is an array of events, got ${events === null ? 'null' : typeof events}`);
  for (let i = 0; i < events.length; i++) {
    const e = checkedEvent(events[i], i);
    const open = pending.get(e.process);
    if (e.type === 'invoke') {
      if (open !== undefined) {
        throw new HistoryError(HistoryErrorCode.UNMATCHED, `event ${i}: process ${e.process} invoked again with an operation outstanding`);
      }
      const op: HistoryOperation = { process: e.process, f: e.f, key: e.key, value: e.value, status: 'info', invokeTime: e.time, completeTime: null };
      pending.set(e.process, op);
      ops.push(op);
      continue;
    }
    if (open === undefined || open.f !== e.f || open.key !== e.key) {
      throw new HistoryError(HistoryErrorCode.UNMATCHED, `event ${i}: ${e.type} ${e.f} ${e.key} of process ${e.process} matches no outstanding invoke`);
    }
    if (e.time < open.invokeTime) {
      throw new HistoryError(HistoryErrorCode.UNMATCHED, `event ${i}: completion at ${e.time} precedes its invoke at ${open.invokeTime}`);
    }
    pending.delete(e.process);
    open.status = e.type;
    if (e.type !== 'info') open.completeTime = e.time;
    if (e.type === 'ok' && e.f === 'read') open.result = e.value as string | null;
  }
  return ops;
}

export function checkLinearizable(events: readonly HistoryEvent[], opts: CheckOptions = {}): CheckResult {
  const maxSteps = opts.maxStepsPerKey ?? DEFAULT_MAX_STEPS_PER_KEY;
  const maxFailureOps = opts.maxFailureOps ?? DEFAULT_MAX_FAILURE_OPS;
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  const byKey = new Map<string, HistoryOperation[]>();
  for (const op of pairOperations(events)) {
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }
  const failures: CheckFailure[] = [];
  const timedOutKeys: string[] = [];
  let operations = 0;
  for (const [key, all] of byKey) {
    const ops = searchableOperations(all);
    operations += ops.length;
    if (Date.now() > deadline) {
      timedOutKeys.push(key);
      continue;
    }
    const ghost = unwrittenObservation(ops);
    if (ghost !== undefined) {
      failures.push({ key, reason: `not linearizable: ${describeOp(ghost)} observed a value no operation wrote`, ops: [ghost] });
      continue;
    }
    const outcome = new RegisterSearch(ops, returnBounds(ops), maxSteps, deadline).run();
    if (outcome.kind === 'timedOut') timedOutKeys.push(key);
    else if (outcome.kind === 'illegal') failures.push(describeFailure(key, ops, outcome, maxFailureOps));
  }
  const result: CheckResult = { ok: failures.length === 0 && timedOutKeys.length === 0, keys: byKey.size, operations, failures };
  if (timedOutKeys.length > 0) {
    result.timedOut = true;
    result.timedOutKeys = timedOutKeys;
  }
  return result;
}

/**
 * The operations of one key that constrain the search. Failed operations did not take effect.
 * An indeterminate read changes nothing and returned nothing, so any history is linearizable with
 * or without it. An info operation whose resulting value nobody observed (no ok read returned it,
 * no cas expected it) is dropped too: given a linearization with it, removing it (and moving to the
 * end any info cas that it had kept from applying) leaves a valid one, and conversely it can always
 * be placed at the end. With unique write values this keeps only info writes that some read saw.
 */
function searchableOperations(all: readonly HistoryOperation[]): HistoryOperation[] {
  const observed = observedValues(all);
  return all.filter((op) => {
    if (op.status === 'fail') return false;
    if (op.status === 'ok') return true;
    if (op.f === 'read') return false;
    return observed.has(resultingValue(op));
  });
}

/** The values operations observed: what an ok read returned, what a cas that did not fail expected. */
function observedValues(ops: readonly HistoryOperation[]): Set<string | null> {
  const observed = new Set<string | null>();
  for (const op of ops) {
    if (op.status === 'ok' && op.f === 'read') observed.add(op.result ?? null);
    if (op.status !== 'fail' && op.f === 'cas') observed.add((op.value as CasValue)[0]);
  }
  return observed;
}

/** The value an ok read returned or an ok cas required, if any (ok cas required the register to hold it). */
function observedValue(op: HistoryOperation): string | null | undefined {
  if (op.status !== 'ok') return undefined;
  if (op.f === 'read') return op.result ?? null;
  if (op.f === 'cas') return (op.value as CasValue)[0];
  return undefined;
}

/** An operation that observed a value (other than absent) that nothing in the history wrote. */
function unwrittenObservation(ops: readonly HistoryOperation[]): HistoryOperation | undefined {
  const written = new Set<string | null>([null]);
  for (const op of ops) if (op.f !== 'read') written.add(resultingValue(op));
  return ops.find((op) => {
    const seen = observedValue(op);
    return seen !== undefined && !written.has(seen);
  });
}

/**
 * Latest time each operation can take effect: its completion, or +∞ for info. An info operation
 * whose value no other operation produces must take effect before the first completion of an
 * operation that observed that value (only it could have put the value there), so that completion
 * bounds it. Without this every observed info write stays a candidate to the end of the history.
 */
function returnBounds(ops: readonly HistoryOperation[]): Float64Array {
  const producers = new Map<string, number>();
  for (const op of ops) {
    const v = op.f === 'read' ? null : resultingValue(op);
    if (v !== null) producers.set(v, (producers.get(v) ?? 0) + 1);
  }
  const firstObserved = new Map<string, number>();
  for (const op of ops) {
    const seen = observedValue(op);
    if (seen === undefined || seen === null || op.completeTime === null) continue;
    firstObserved.set(seen, Math.min(firstObserved.get(seen) ?? Infinity, op.completeTime));
  }
  return Float64Array.from(ops, (op) => {
    if (op.completeTime !== null) return op.completeTime;
    const v = op.f === 'read' ? null : resultingValue(op);
    if (v === null || producers.get(v) !== 1) return Infinity;
    return Math.max(op.invokeTime, firstObserved.get(v) ?? Infinity);
  });
}

function resultingValue(op: HistoryOperation): string | null {
  if (op.f === 'write') return op.value as string;
  if (op.f === 'cas') return (op.value as CasValue)[1];
  return null;
}

// Operation kinds as the register model steps them.
const K_WRITE = 0; // also delete (writes "absent") and info writes
const K_READ = 1;
const K_CAS = 2; // ok cas: took effect, so the register held `expected`
const K_CAS_INFO = 3; // info cas: applied if the register held `expected`; "never" = placed last

interface DeadEnd {
  kind: 'illegal';
  /** Operations linearized when the search got stuck. */
  depth: number;
  /** The register then; `unobserved`: a value no operation observed. */
  state: string | null | { unobserved: true };
  stuck: number;
  concurrent: number[];
  linearized: number[];
}

type SearchOutcome = { kind: 'linearizable' } | { kind: 'timedOut' } | DeadEnd;


const FULL_WORD = 0xffffffff;
/** The state id of every value no operation observes (RegisterSearch). */
const UNOBSERVED = 1;
const TWO_POW_32 = 4294967296;

/**
 * The search over one key's operations. Values are interned: state 0 is "absent", state UNOBSERVED every value
 * no operation observes (no ok read returned it, no cas expected it; "absent" too when nothing observes it). Those
 * values behave alike from here on: a write replaces any of them, and a read or cas never matches one (an info
 * cas leaves it in place). So configurations that differ only in which of them the register holds are one, and
 * the memo sees them as one: the orders of concurrent writes that nobody read collapse instead of being searched
 * one by one (a 26,000-operation one-key history of 20 clients took 50 to 75 million steps without this, 25 to 30 million with it).
 */
class RegisterSearch {
  private readonly n: number;
  private readonly kind: Int8Array;
  private readonly argA: Int32Array;
  private readonly argB: Int32Array;
  private readonly values: Array<string | null> = [null, null];
  /** The state the register starts in: absent, or UNOBSERVED when nothing observes absence. */
  private readonly initial: number;
  // Doubly linked list of entries: call of op i is 2i, its return 2i + 1, the head sentinel 2n; -1 ends it.
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly head: number;
  // Linearized set as a bitset; `lo` is the first word not all ones, `hi` the last word not all zeros,
  // so words[lo..hi] (with lo) identify the set canonically and compactly for the cache.
  private readonly words: Uint32Array;
  private lo = 0;
  private hi = -1;
  // Zobrist hash of the linearized set, 32 + 21 bits, updated by XOR as ops are (un)linearized.
  private readonly opZ1: Uint32Array;
  private readonly opZ2: Uint32Array;
  private readonly valueZ1: Uint32Array;
  private readonly valueZ2: Uint32Array;
  private h1 = 0;
  private h2 = 0;
  // Memo of visited (linearized set, state): a hash map to chains of entries whose bitset words live
  // in one growing arena, so millions of entries cost a few numbers each rather than an object each.
  private readonly cache = new Map<number, number>();
  private readonly entryLo: number[] = [];
  private readonly entryState: number[] = [];
  private readonly entryOffset: number[] = [];
  private readonly entrySize: number[] = [];
  private readonly entryNext: number[] = [];
  private arena = new Uint32Array(1024);
  private arenaUsed = 0;

  constructor(
    private readonly ops: readonly HistoryOperation[],
    /** Latest time each op can take effect (see returnBounds). */
    private readonly returnTimes: Float64Array,
    private readonly maxSteps: number,
    private readonly deadline: number,
  ) {
    const n = ops.length;
    this.n = n;
    this.kind = new Int8Array(n);
    this.argA = new Int32Array(n);
    this.argB = new Int32Array(n);
    const observed = observedValues(ops);
    const ids = new Map<string | null, number>([[null, 0]]);
    const intern = (v: string | null): number => {
      if (!observed.has(v)) return UNOBSERVED;
      let id = ids.get(v);
      if (id === undefined) {
        id = this.values.length;
        ids.set(v, id);
        this.values.push(v);
      }
      return id;
    };
    this.initial = intern(null);
    ops.forEach((op, i) => this.encode(op, i, intern));
    this.head = 2 * n;
    this.next = new Int32Array(2 * n + 1);
    this.prev = new Int32Array(2 * n + 1);
    this.linkEntries();
    this.words = new Uint32Array(Math.ceil(n / 32));
    const rand = mulberry32u32(0x5eed ^ n); // Zobrist hash keys: same history, same search
    this.opZ1 = Uint32Array.from({ length: n }, rand);
    this.opZ2 = Uint32Array.from({ length: n }, rand);
    this.valueZ1 = Uint32Array.from({ length: this.values.length }, rand);
    this.valueZ2 = Uint32Array.from({ length: this.values.length }, rand);
  }

  private encode(op: HistoryOperation, i: number, intern: (v: string | null) => number): void {
    switch (op.f) {
      case 'write':
        this.kind[i] = K_WRITE;
        this.argA[i] = intern(op.value as string);
        break;
      case 'delete':
        this.kind[i] = K_WRITE;
        this.argA[i] = 0;
        break;
      case 'read':
        this.kind[i] = K_READ;
        this.argA[i] = intern(op.result ?? null);
        break;
      case 'cas': {
        const [expected, replacement] = op.value as CasValue;
        this.kind[i] = op.status === 'ok' ? K_CAS : K_CAS_INFO;
        this.argA[i] = intern(expected);
        this.argB[i] = intern(replacement);
        break;
      }
    }
  }

  /** Orders entries by time; at equal times calls come first, so touching operations count as concurrent. */
  private linkEntries(): void {
    const n = this.n;
    const time = (e: number): number => ((e & 1) === 0 ? (this.ops[e >> 1] as HistoryOperation).invokeTime : (this.returnTimes[e >> 1] as number));
    const order = Array.from({ length: 2 * n }, (_, e) => e);
    order.sort((a, b) => time(a) - time(b) || (a & 1) - (b & 1) || a - b);
    let last = this.head;
    this.prev[this.head] = -1;
    for (const e of order) {
      this.next[last] = e;
      this.prev[e] = last;
      last = e;
    }
    this.next[last] = -1;
  }

  /** The register after op `i` from `state`, or -1 if the op cannot happen in that state. */
  private step(state: number, i: number): number {
    const a = this.argA[i] as number;
    switch (this.kind[i]) {
      case K_WRITE:
        return a;
      case K_READ:
        return state === a ? state : -1;
      case K_CAS:
        return state === a ? (this.argB[i] as number) : -1;
      default:
        return state === a ? (this.argB[i] as number) : state;
    }
  }

  run(): SearchOutcome {
    const { next, head } = this;
    const callOp = new Int32Array(this.n);
    const callState = new Int32Array(this.n);
    let depth = 0;
    let state = this.initial;
    let entry = next[head] as number;
    let illegal: DeadEnd | undefined;
    for (let steps = 1; next[head] !== -1; steps++) {
      if (steps > this.maxSteps) return { kind: 'timedOut' };
      if ((steps & CLOCK_CHECK_MASK) === 0 && Date.now() > this.deadline) return { kind: 'timedOut' };
      if (entry < 0) throw new Error('linearizability search ran off the entry list'); // every call has a later return
      let levelFailed = false;
      if ((entry & 1) === 0) {
        const i = entry >> 1;
        const after = this.step(state, i);
        if (after >= 0 && this.remember(i, after)) {
          callOp[depth] = i;
          callState[depth] = state;
          depth++;
          state = after;
          this.lift(entry);
          entry = next[head] as number;
          continue;
        }
        // A read that fits the state is safe to linearize first (see `backtrack`); its configuration
        // was already explored and failed, so this whole level fails too.
        levelFailed = after >= 0 && this.kind[i] === K_READ;
        if (!levelFailed) {
          entry = next[entry] as number;
          continue;
        }
      } else if (illegal === undefined || depth > illegal.depth) {
        // A return entry: its operation had to be linearized by now. Keep the deepest dead end as the report.
        illegal = this.deadEnd(entry >> 1, depth, state, callOp);
      }
      // Backtrack. Popping a read means its level fails as well: a read that fits the current state
      // can be moved to the front of any linearization from that level (it changes no state and all
      // its real-time predecessors are linearized), so if none exists with it first, none exists.
      let popped: number;
      do {
        if (depth === 0) return illegal ?? this.deadEnd(entry >> 1, 0, state, callOp);
        depth--;
        popped = callOp[depth] as number;
        state = callState[depth] as number;
        this.setBit(popped, false);
        this.unlift(2 * popped);
      } while (this.kind[popped] === K_READ);
      entry = next[2 * popped] as number;
    }
    return { kind: 'linearizable' };
  }

  /** Marks op `i` linearized with resulting `state`; false (and unmarked) if that configuration was seen. */
  private remember(i: number, state: number): boolean {
    this.setBit(i, true);
    const key = ((this.h1 ^ (this.valueZ1[state] as number)) >>> 0) + ((this.h2 ^ (this.valueZ2[state] as number)) & 0x1fffff) * TWO_POW_32;
    const size = Math.max(0, this.hi - this.lo + 1);
    const head = this.cache.get(key);
    for (let c = head ?? -1; c !== -1; c = this.entryNext[c] as number) {
      if (this.entryState[c] === state && this.entryLo[c] === this.lo && this.entrySize[c] === size && this.sameWords(this.entryOffset[c] as number, size)) {
        this.setBit(i, false);
        return false;
      }
    }
    if (this.arenaUsed + size > this.arena.length) {
      const grown = new Uint32Array(Math.max(this.arena.length * 2, this.arenaUsed + size));
      grown.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = grown;
    }
    for (let w = 0; w < size; w++) this.arena[this.arenaUsed + w] = this.words[this.lo + w] as number;
    const id = this.entryLo.length;
    this.entryLo.push(this.lo);
    this.entryState.push(state);
    this.entryOffset.push(this.arenaUsed);
    this.entrySize.push(size);
    this.entryNext.push(head ?? -1);
    this.arenaUsed += size;
    this.cache.set(key, id);
    return true;
  }

  private sameWords(offset: number, size: number): boolean {
    for (let w = 0; w < size; w++) if (this.arena[offset + w] !== this.words[this.lo + w]) return false;
    return true;
  }

  private setBit(i: number, on: boolean): void {
    const w = i >> 5;
    const mask = 1 << (i & 31);
    const words = this.words;
    this.h1 ^= this.opZ1[i] as number;
    this.h2 ^= this.opZ2[i] as number;
    if (on) {
      words[w] = (words[w] as number) | mask;
      if (w > this.hi) this.hi = w;
      while (this.lo < words.length && words[this.lo] === FULL_WORD) this.lo++;
    } else {
      words[w] = (words[w] as number) & ~mask;
      if (w < this.lo) this.lo = w;
      while (this.hi >= 0 && words[this.hi] === 0) this.hi--;
    }
  }

  /** Unlinks call entry `e` and its return (dancing links: `unlift` restores them in reverse). */
  private lift(e: number): void {
    const { next, prev } = this;
    const r = e + 1;
    next[prev[e] as number] = next[e] as number;
    prev[next[e] as number] = prev[e] as number;
    next[prev[r] as number] = next[r] as number;
    if (next[r] !== -1) prev[next[r] as number] = prev[r] as number;
  }

  private unlift(e: number): void {
    const { next, prev } = this;
    const r = e + 1;
    next[prev[r] as number] = r;
    if (next[r] !== -1) prev[next[r] as number] = r;
    next[prev[e] as number] = e;
    prev[next[e] as number] = e;
  }

  private deadEnd(stuck: number, depth: number, state: number, callOp: Int32Array): DeadEnd {
    const concurrent: number[] = [];
    for (let e = this.next[this.head] as number; e !== -1 && e !== 2 * stuck + 1; e = this.next[e] as number) {
      if ((e & 1) === 0 && e !== 2 * stuck) concurrent.push(e >> 1);
    }
    const linearized = Array.from(callOp.subarray(Math.max(0, depth - 3), depth)).reverse();
    return { kind: 'illegal', depth, state: state === UNOBSERVED ? { unobserved: true } : (this.values[state] ?? null), stuck, concurrent, linearized };
  }
}

function describeOp(op: HistoryOperation): string {
  const shown = op.f === 'read' ? JSON.stringify(op.result ?? null) : JSON.stringify(op.value);
  return `${op.status} ${op.f} ${shown} by process ${op.process} [${op.invokeTime}, ${op.completeTime ?? '∞'}]`;
}

function describeFailure(
  key: string,
  ops: readonly HistoryOperation[],
  outcome: DeadEnd,
  maxOps: number,
): CheckFailure {
  const stuck = ops[outcome.stuck] as HistoryOperation;
  const reason =
    `not linearizable: ${describeOp(stuck)} cannot take effect before it completes ` +
    `(at best ${outcome.depth} of ${ops.length} operations linearize, leaving ${typeof outcome.state === 'object' && outcome.state !== null ? 'a value no operation observed' : `the value ${JSON.stringify(outcome.state)}`}; ` +
    `${outcome.concurrent.length} other operations were pending)`;
  const ids = [outcome.stuck, ...outcome.concurrent, ...outcome.linearized].slice(0, Math.max(0, maxOps));
  return { key, reason, ops: ids.map((i) => ops[i] as HistoryOperation) };
}
