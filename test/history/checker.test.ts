import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizable, pairOperations } from '../../src/history/checker.js';
import { HistoryError, type CasValue, type HistoryEvent, type HistoryFunction, type HistoryValue } from '../../src/history/types.js';
import { mulberry32 as rng } from '../../src/util/random.js';

// ---- building histories by hand -------------------------------------------------------------

interface OpSpec {
  p: number;
  f: HistoryFunction;
  /** Invoke value: write value, cas pair; ignored for read/delete. */
  v?: HistoryValue;
  /** Read result. */
  r?: string | null;
  at: number;
  /** Completion time; `null` = never completed (run ended). */
  end: number | null;
  type?: 'ok' | 'fail' | 'info';
  key?: string;
}

function history(...specs: OpSpec[]): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const s of specs) {
    const key = s.key ?? 'x';
    const value = s.f === 'write' || s.f === 'cas' ? (s.v ?? null) : null;
    events.push({ process: s.p, type: 'invoke', f: s.f, key, value, time: s.at });
    if (s.end === null) continue;
    const type = s.type ?? 'ok';
    const done = s.f === 'read' ? (type === 'ok' ? (s.r ?? null) : null) : value;
    events.push({ process: s.p, type, f: s.f, key, value: done, time: s.end });
  }
  return events.sort((a, b) => a.time - b.time);
}

const w = (p: number, v: string, at: number, end: number | null, type?: 'ok' | 'fail' | 'info'): OpSpec =>
  type === undefined ? { p, f: 'write', v, at, end } : { p, f: 'write', v, at, end, type };
const r = (p: number, seen: string | null, at: number, end: number): OpSpec => ({ p, f: 'read', r: seen, at, end });
const cas = (p: number, v: CasValue, at: number, end: number | null, type?: 'ok' | 'fail' | 'info'): OpSpec =>
  type === undefined ? { p, f: 'cas', v, at, end } : { p, f: 'cas', v, at, end, type };
const del = (p: number, at: number, end: number): OpSpec => ({ p, f: 'delete', at, end });

function assertLinearizable(events: HistoryEvent[]): void {
  const res = checkLinearizable(events);
  assert.equal(res.ok, true, JSON.stringify(res.failures, null, 1));
  assert.deepEqual(res.failures, []);
  assert.equal(res.timedOut, undefined);
}

function assertNotLinearizable(events: HistoryEvent[]): void {
  const res = checkLinearizable(events);
  assert.equal(res.ok, false);
  assert.equal(res.timedOut, undefined);
  assert.equal(res.failures.length, 1);
  const failure = res.failures[0];
  assert.ok(failure !== undefined && failure.key === 'x');
  assert.match(failure.reason, /not linearizable/);
  assert.ok(failure.ops !== undefined && failure.ops.length > 0);
}

// ---- linearizable histories are accepted -----------------------------------------------------

test('accepts a sequential write then read, and a read of the initial absent value', () => {
  assertLinearizable(history(r(1, null, 0, 5), w(1, 'a', 10, 20), r(2, 'a', 30, 40)));
});

test('accepts concurrent writes seen in either order', () => {
  const writes = [w(1, 'a', 0, 10), w(2, 'b', 1, 9)];
  assertLinearizable(history(...writes, r(3, 'a', 20, 30)));
  assertLinearizable(history(...writes, r(3, 'b', 20, 30)));
});

test('accepts a read concurrent with a write returning the old or the new value', () => {
  const base = [w(1, 'a', 0, 10), w(1, 'b', 20, 40)];
  assertLinearizable(history(...base, r(2, 'a', 25, 30)));
  assertLinearizable(history(...base, r(2, 'b', 25, 30)));
  // Two reads inside one write: old then new is fine.
  assertLinearizable(history(...base, r(2, 'a', 21, 25), r(3, 'b', 26, 30)));
});

test('accepts an info write that took effect long after its invoke', () => {
  assertLinearizable(history(w(1, 'a', 0, 10), w(2, 'b', 5, 15, 'info'), r(3, 'a', 20, 30), r(3, 'b', 40, 50), r(4, 'b', 60, 70)));
});

test('accepts an info write that never took effect', () => {
  assertLinearizable(history(w(1, 'a', 0, 10), w(2, 'b', 5, 15, 'info'), r(3, 'a', 20, 30), r(3, 'a', 40, 50)));
});

test('accepts an invoke without completion (run ended) as info', () => {
  assertLinearizable(history(w(1, 'a', 0, 10), w(2, 'b', 5, null), r(3, 'b', 20, 30)));
  assertLinearizable(history(w(1, 'a', 0, 10), w(2, 'b', 5, null), r(3, 'a', 20, 30)));
});

test('accepts an info write read only after later writes, overwriting them', () => {
  // b is invoked early, times out, and lands after c: reads see a, c, then b.
  assertLinearizable(
    history(w(1, 'a', 0, 10), w(2, 'b', 12, 14, 'info'), r(3, 'a', 20, 30), w(3, 'c', 31, 35), r(3, 'c', 36, 40), r(4, 'b', 50, 60)),
  );
});

test('accepts cas that succeeded against the current value, ignoring failed cas', () => {
  assertLinearizable(history(w(1, 'a', 0, 10), cas(2, ['a', 'b'], 20, 30), cas(3, ['a', 'z'], 35, 40, 'fail'), r(1, 'b', 50, 60)));
  // cas on absent (null expected) creates the key.
  assertLinearizable(history(cas(1, [null, 'a'], 0, 10), r(2, 'a', 20, 30)));
});

test('accepts concurrent cas ops in the only order that works', () => {
  // b->c listed first but must follow a->b.
  assertLinearizable(history(w(1, 'a', 0, 5), cas(2, ['b', 'c'], 10, 30), cas(3, ['a', 'b'], 11, 29), r(1, 'c', 40, 50)));
});

test('accepts an info cas that applied and one that did not', () => {
  assertLinearizable(history(w(1, 'a', 0, 10), cas(2, ['a', 'b'], 20, 30, 'info'), r(3, 'b', 40, 50)));
  assertLinearizable(history(w(1, 'a', 0, 10), cas(2, ['a', 'b'], 20, 30, 'info'), r(3, 'a', 40, 50)));
});

test('accepts delete making the key absent', () => {
  assertLinearizable(history(w(1, 'a', 0, 10), del(2, 20, 30), r(3, null, 40, 50), w(1, 'b', 60, 70), r(2, 'b', 80, 90)));
});

test('ignores failed writes and indeterminate reads', () => {
  const events = history(w(1, 'a', 0, 10), w(2, 'b', 20, 30, 'fail'), r(3, 'a', 40, 50));
  events.push({ process: 4, type: 'invoke', f: 'read', key: 'x', value: null, time: 60 });
  events.push({ process: 4, type: 'info', f: 'read', key: 'x', value: null, time: 70 });
  const res = checkLinearizable(events);
  assert.equal(res.ok, true);
  assert.equal(res.operations, 2);
});

// ---- non-linearizable histories are rejected -------------------------------------------------

test('rejects a stale read: an old value after a read already saw the newer write', () => {
  // b's write is still running, but r(2) saw b, so a later read cannot see a again.
  assertNotLinearizable(history(w(1, 'a', 0, 10), w(1, 'b', 20, 100), r(2, 'b', 30, 40), r(3, 'a', 50, 60)));
});

test('rejects a stale read after a newer write completed', () => {
  assertNotLinearizable(history(w(1, 'a', 0, 10), w(2, 'b', 20, 30), r(3, 'a', 40, 50)));
});

test('rejects a lost write: an acknowledged write not seen by a later, non-concurrent read', () => {
  assertNotLinearizable(history(w(1, 'a', 0, 10), r(2, 'a', 12, 18), w(1, 'b', 20, 30), r(2, 'a', 40, 50), r(3, 'a', 60, 70)));
});

test('rejects a read of a value never written', () => {
  assertNotLinearizable(history(w(1, 'a', 0, 10), r(2, 'ghost', 20, 30)));
  assertNotLinearizable(history(r(2, 'ghost', 20, 30)));
});

test('rejects a read of a value whose write failed', () => {
  assertNotLinearizable(history(w(1, 'a', 0, 10), w(2, 'b', 20, 30, 'fail'), r(3, 'b', 40, 50)));
});

test('rejects a cas that succeeded against a value that was not current', () => {
  assertNotLinearizable(history(w(1, 'a', 0, 10), w(2, 'b', 20, 30), cas(3, ['a', 'c'], 40, 50)));
});

test('rejects a read before the write it saw was invoked', () => {
  assertNotLinearizable(history(r(1, 'a', 0, 10), w(2, 'a', 20, 30)));
});

test('rejects going back to an older value after an info write was seen', () => {
  // b (info) was seen by 30, so it took effect after a; a cannot come back.
  assertNotLinearizable(history(w(1, 'a', 0, 10), w(2, 'b', 12, 14, 'info'), r(3, 'b', 20, 30), r(3, 'a', 40, 50)));
});

test('names a read of a never-written value as such', () => {
  const res = checkLinearizable(history(w(1, 'a', 0, 10), w(2, 'b', 5, 15, 'fail'), r(2, 'b', 20, 30)));
  assert.match(res.failures[0]?.reason ?? '', /observed a value no operation wrote/);
  assert.equal(res.failures[0]?.ops?.[0]?.result, 'b');
});

test('reports only the failing key of a multi-key history, with the stuck operation first', () => {
  const good = history({ ...w(1, 'a', 0, 10), key: 'good' }, { ...r(2, 'a', 20, 30), key: 'good' });
  const bad = history({ ...w(1, 'a', 40, 50), key: 'bad' }, { ...w(2, 'b', 60, 70), key: 'bad' }, { ...r(3, 'a', 80, 90), key: 'bad' });
  const res = checkLinearizable([...good, ...bad].sort((x, y) => x.time - y.time));
  assert.equal(res.ok, false);
  assert.equal(res.keys, 2);
  assert.equal(res.operations, 5);
  assert.equal(res.failures.length, 1);
  const failure = res.failures[0];
  assert.equal(failure?.key, 'bad');
  // The read's completion is the point no order can pass.
  assert.equal(failure?.ops?.[0]?.f, 'read');
  assert.equal(failure?.ops?.[0]?.result, 'a');
});

test('values nobody observed are one state: 14 concurrent writes then a read of the first fit a budget of 200,000 steps', () => {
  // v1..v13 are never read: the order in which they overwrite one another does not matter, and the search does
  // not try them one by one (it needed 300,000 to 1,000,000 steps for this when it did; 30,000 to 100,000 now).
  const writes = Array.from({ length: 14 }, (_, i) => w(i, `v${i}`, i, 100 + i));
  const res = checkLinearizable(history(...writes, r(50, 'v0', 200, 210)), { maxStepsPerKey: 200_000 });
  assert.equal(res.timedOut, undefined, 'the search fits the budget');
  assert.equal(res.ok, true);
  // Still refuted when what was read cannot be: v0 then v1, each written once, after all writes completed.
  const refuted = checkLinearizable(history(...writes.slice(0, 6), r(50, 'v0', 200, 210), r(50, 'v1', 220, 230)));
  assert.equal(refuted.ok, false);
  assert.match(refuted.failures[0]!.reason, /not linearizable/);
});

test('reports timedOut instead of searching past the per-key budget', () => {
  const res = checkLinearizable(history(w(1, 'a', 0, 10), r(2, 'a', 20, 30), w(1, 'b', 40, 50), r(2, 'b', 60, 70)), { maxStepsPerKey: 2 });
  assert.equal(res.ok, false);
  assert.equal(res.timedOut, true);
  assert.deepEqual(res.timedOutKeys, ['x']);
  assert.deepEqual(res.failures, []);
});

test('a search that would take exponential time stops at the budget and reports timedOut', () => {
  // 20 concurrent writes, then reads a, b, a: impossible (a is written once), but refuting it means
  // trying every subset of the writes. The budget turns that into a quick "unknown".
  const writes = Array.from({ length: 20 }, (_, i) => w(i, `v${i}`, i, 100 + i));
  const events = history(...writes, r(50, 'v0', 200, 210), r(50, 'v1', 220, 230), r(50, 'v0', 240, 250));
  const started = performance.now();
  const res = checkLinearizable(events, { maxStepsPerKey: 200_000 });
  console.log(`checker: budget of 200,000 steps used up in ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(res.ok, false);
  assert.equal(res.timedOut, true);
  assert.deepEqual(res.failures, []);
  // A wall-clock budget works the same way.
  const timed = checkLinearizable(events, { timeoutMs: 50 });
  assert.equal(timed.timedOut, true);
  // With few enough writes the same shape is refuted outright.
  const small = history(...writes.slice(0, 6), r(50, 'v0', 200, 210), r(50, 'v1', 220, 230), r(50, 'v0', 240, 250));
  assert.equal(checkLinearizable(small).ok, false);
  assert.equal(checkLinearizable(small).timedOut, undefined);
});

test('rejects histories whose events do not pair up', () => {
  const completionOnly: HistoryEvent[] = [{ process: 1, type: 'ok', f: 'write', key: 'x', value: 'a', time: 1 }];
  assert.throws(() => checkLinearizable(completionOnly), (e: unknown) => e instanceof HistoryError && e.code === 'UNMATCHED');
  const twoOutstanding = history(w(1, 'a', 0, null), w(1, 'b', 5, 10));
  assert.throws(() => pairOperations(twoOutstanding), HistoryError);
  const wrongKey: HistoryEvent[] = [
    { process: 1, type: 'invoke', f: 'write', key: 'x', value: 'a', time: 1 },
    { process: 1, type: 'ok', f: 'write', key: 'y', value: 'a', time: 2 },
  ];
  assert.throws(() => pairOperations(wrongKey), HistoryError);
});

test('rejects what is not a history (PARSE, naming the event) instead of a TypeError or a vacuous ok', () => {
  const parse = (says: RegExp) => (e: unknown) => e instanceof HistoryError && e.code === 'PARSE' && says.test(e.message);
  for (const notArray of [undefined, null, 5, 'events']) {
    assert.throws(() => checkLinearizable(notArray as never), parse(/a history is an array of events/), String(notArray));
  }
  const ok = history(w(1, 'a', 0, 10));
  assert.throws(() => checkLinearizable([...ok, null] as never), parse(/^event 2: event is not an object/));
  assert.throws(() => checkLinearizable([{}] as never), parse(/^event 0: process must be an integer/));
  assert.throws(() => checkLinearizable([{ ...ok[0]!, value: 5 }] as never), parse(/^event 0: invalid value for write invoke/));
  assert.equal(checkLinearizable(ok).ok, true);
});

// ---- randomized: the search agrees with brute force on small histories ------------------------


interface SmallOp {
  f: HistoryFunction;
  value: HistoryValue;
  result: string | null;
  status: 'ok' | 'fail' | 'info';
  start: number;
  end: number;
}

/** Exhaustive definition: some order of all ok ops and any subset of info ops respects real time and the register. */
function bruteForce(ops: SmallOp[]): boolean {
  const live = ops.filter((o) => o.status !== 'fail' && !(o.status === 'info' && o.f === 'read'));
  const endOf = (o: SmallOp): number => (o.status === 'info' ? Infinity : o.end);
  const go = (remaining: SmallOp[], state: string | null): boolean => {
    if (remaining.every((o) => o.status === 'info')) return true;
    for (const c of remaining) {
      if (remaining.some((d) => d !== c && endOf(d) < c.start)) continue;
      let after: string | null | undefined;
      if (c.f === 'write') after = c.value as string;
      else if (c.f === 'delete') after = null;
      else if (c.f === 'read') after = c.result === state ? state : undefined;
      else {
        const [expected, replacement] = c.value as CasValue;
        if (expected === state) after = replacement;
        else after = c.status === 'info' ? state : undefined;
      }
      if (after === undefined) continue;
      if (go(remaining.filter((d) => d !== c), after)) return true;
    }
    return false;
  };
  return go(live, null);
}

function randomSmallHistory(rand: () => number): { ops: SmallOp[]; events: HistoryEvent[] } {
  const values = ['a', 'b', 'c'];
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const ops: SmallOp[] = [];
  const events: HistoryEvent[] = [];
  const processes = 3;
  for (let p = 0; p < processes; p++) {
    let t = Math.floor(rand() * 4);
    const count = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < count; k++) {
      const f = pick<HistoryFunction>(['write', 'write', 'read', 'read', 'delete', 'cas']);
      const status = pick<'ok' | 'fail' | 'info'>(['ok', 'ok', 'ok', 'ok', 'fail', 'info']);
      const start = t;
      const end = start + 1 + Math.floor(rand() * 8);
      t = end + 1 + Math.floor(rand() * 3);
      const maybeNull = (): string | null => (rand() < 0.2 ? null : pick(values));
      const value: HistoryValue = f === 'write' ? pick(values) : f === 'cas' ? [maybeNull(), pick(values)] : null;
      const result = f === 'read' ? maybeNull() : null;
      ops.push({ f, value, result, status, start, end });
      events.push({ process: p, type: 'invoke', f, key: 'x', value, time: start });
      const info = status === 'info';
      if (info && rand() < 0.3) {
        t = Infinity; // never completed: the run ended
        break;
      }
      events.push({ process: p, type: status, f, key: 'x', value: f === 'read' ? (status === 'ok' ? result : null) : value, time: end });
    }
  }
  return { ops, events: events.sort((a, b) => a.time - b.time) };
}

test('agrees with a brute-force search on 3000 random small histories', () => {
  const baseSeed = 20240501;
  let linearizable = 0;
  for (let i = 0; i < 3000; i++) {
    const seed = baseSeed + i;
    const { ops, events } = randomSmallHistory(rng(seed));
    const expected = bruteForce(ops);
    const got = checkLinearizable(events);
    assert.equal(got.ok, expected, `seed ${seed}: checker ${got.ok}, brute force ${expected}\n${events.map((e) => JSON.stringify(e)).join('\n')}`);
    if (expected) linearizable++;
  }
  // Both outcomes must be well represented or the comparison proves little.
  assert.ok(linearizable > 300 && linearizable < 2700, `linearizable ${linearizable}/3000`);
});

// ---- a large simulated history ---------------------------------------------------------------

interface SimOptions {
  processes: number;
  keys: number;
  operations: number;
  /** Chance that an operation's outcome is reported as info. */
  infoRate: number;
  seed: number;
}

interface SimOp {
  process: number;
  key: string;
  f: HistoryFunction;
  start: number;
  end: number;
  /** Linearization point in [start, end]. */
  at: number;
  info: boolean;
  /** For info operations: whether it takes effect at all. */
  lands: boolean;
  value: HistoryValue;
  result: string | null;
  status: 'ok' | 'fail' | 'info';
}

/**
 * Simulates a linearizable register per key: every operation takes effect atomically at a random
 * point inside its [invoke, completion] interval, and processes overlap at random.
 */
function simulateHistory(o: SimOptions): HistoryEvent[] {
  const rand = rng(o.seed);
  const ops: SimOp[] = [];
  const perProcess = Math.ceil(o.operations / o.processes);
  for (let p = 0; p < o.processes; p++) {
    let t = Math.floor(rand() * 1000);
    for (let k = 0; k < perProcess && ops.length < o.operations; k++) {
      const start = t + 1 + Math.floor(rand() * 500);
      const end = start + 1 + Math.floor(rand() * 5000);
      t = end;
      const roll = rand();
      const f: HistoryFunction = roll < 0.4 ? 'read' : roll < 0.75 ? 'write' : roll < 0.85 ? 'delete' : 'cas';
      const info = rand() < o.infoRate;
      const key = `k${Math.floor(rand() * o.keys)}`;
      const at = start + Math.floor(rand() * (end - start + 1));
      ops.push({ process: p, key, f, start, end, at, info, lands: rand() < 0.5, value: null, result: null, status: 'ok' });
    }
  }
  // Apply in linearization order to compute what each operation saw.
  const registers = new Map<string, string | null>();
  const written = new Map<string, string[]>();
  let seq = 0;
  for (const op of [...ops].sort((a, b) => a.at - b.at)) {
    const current = registers.get(op.key) ?? null;
    const takesEffect = !op.info || op.lands;
    if (op.info) op.status = 'info';
    if (op.f === 'read') {
      op.result = current;
    } else if (op.f === 'write' || op.f === 'delete') {
      const v = op.f === 'write' ? `v-${op.process}-${seq++}` : null;
      op.value = v;
      if (takesEffect) registers.set(op.key, v);
      if (v !== null) written.set(op.key, [...(written.get(op.key) ?? []).slice(-3), v]);
    } else {
      const history = written.get(op.key) ?? [];
      const expected = rand() < 0.6 ? current : (history[Math.floor(rand() * history.length)] ?? null);
      const replacement = `v-${op.process}-${seq++}`;
      op.value = [expected, replacement];
      if (takesEffect && expected === current) registers.set(op.key, replacement);
      else if (!op.info) op.status = 'fail';
    }
  }
  const events: HistoryEvent[] = [];
  for (const op of ops) {
    events.push({ process: op.process, type: 'invoke', f: op.f, key: op.key, value: op.value, time: op.start });
    const completion = op.f === 'read' ? (op.status === 'ok' ? op.result : null) : op.value;
    events.push({ process: op.process, type: op.status, f: op.f, key: op.key, value: completion, time: op.end });
  }
  return events.sort((a, b) => a.time - b.time);
}

test('simulated linearizable histories pass, and fail once one read is corrupted', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const events = simulateHistory({ processes: 5, keys: 2, operations: 300, infoRate: 0.05, seed });
    const res = checkLinearizable(events);
    assert.equal(res.ok, true, `seed ${seed}: ${JSON.stringify(res.failures[0])}`);
    const read = events.find((e) => e.f === 'read' && e.type === 'ok');
    assert.ok(read !== undefined);
    read.value = 'never-written';
    assert.equal(checkLinearizable(events).ok, false, `seed ${seed}: corrupted read accepted`);
  }
});

test('checks a 100,000-operation history (10 processes, 50 keys, mixed ops) in one pass', () => {
  const events = simulateHistory({ processes: 10, keys: 50, operations: 100_000, infoRate: 0.002, seed: 42 });
  const started = performance.now();
  const res = checkLinearizable(events);
  const ms = performance.now() - started;
  console.log(`checker: ${res.operations} operations on ${res.keys} keys in ${ms.toFixed(0)} ms`);
  assert.equal(res.ok, true, JSON.stringify(res.failures[0]));
  assert.equal(res.keys, 50);
  assert.ok(res.operations > 90_000);
});

test('checks a contended single-key history (10 processes, 10,000 ops)', () => {
  const events = simulateHistory({ processes: 10, keys: 1, operations: 10_000, infoRate: 0.01, seed: 7 });
  const started = performance.now();
  const res = checkLinearizable(events);
  console.log(`checker: contended key, ${res.operations} operations in ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(res.ok, true, JSON.stringify(res.failures[0]));
});
