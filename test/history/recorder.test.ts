import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLinearizable } from '../../src/history/checker.js';
import { HistoryRecorder, parseHistory, readHistory } from '../../src/history/recorder.js';
import { HistoryError } from '../../src/history/types.js';

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'threadraft-history-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A fake clock in nanoseconds so times are exact. */
function ticks(): () => number {
  let t = 1000;
  return () => (t += 10);
}

test('recorder round-trip: events read back with the format fields, in order', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'history.jsonl');
    const rec = new HistoryRecorder(path, { now: ticks() });
    rec.invoke(3, 'write', 'k17', 'v-3-42').ok();
    const read = rec.invoke(5, 'read', 'k17');
    read.ok('v-3-42');
    rec.invoke(1, 'cas', 'k17', ['v-3-42', 'v-1-1']).fail();
    rec.invoke(2, 'delete', 'k17').info();
    rec.invoke(4, 'write', 'k2', 'v-4-1'); // never completed: the run ended
    rec.close();

    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 9);
    assert.deepEqual(JSON.parse(lines[0] ?? ''), { process: 3, type: 'invoke', f: 'write', key: 'k17', value: 'v-3-42', time: 1010 });
    assert.deepEqual(JSON.parse(lines[3] ?? ''), { process: 5, type: 'ok', f: 'read', key: 'k17', value: 'v-3-42', time: 1040 });

    const events = await readHistory(path);
    assert.deepEqual(
      events.map((e) => [e.process, e.type, e.f, e.value]),
      [
        [3, 'invoke', 'write', 'v-3-42'],
        [3, 'ok', 'write', 'v-3-42'],
        [5, 'invoke', 'read', null],
        [5, 'ok', 'read', 'v-3-42'],
        [1, 'invoke', 'cas', ['v-3-42', 'v-1-1']],
        [1, 'fail', 'cas', ['v-3-42', 'v-1-1']],
        [2, 'invoke', 'delete', null],
        [2, 'info', 'delete', null],
        [4, 'invoke', 'write', 'v-4-1'],
      ],
    );
    assert.ok(events.every((e, i) => i === 0 || e.time > (events[i - 1]?.time ?? 0)));
    assert.equal(checkLinearizable(events).ok, true);
  });
});

test('recorder uses the monotonic clock in nanoseconds by default', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'h.jsonl');
    const before = Number(process.hrtime.bigint());
    const rec = new HistoryRecorder(path);
    rec.invoke(1, 'write', 'k', 'v').ok();
    rec.close();
    const after = Number(process.hrtime.bigint());
    const [invoke, ok] = await readHistory(path);
    assert.ok(invoke !== undefined && ok !== undefined);
    assert.ok(Number.isInteger(invoke.time) && invoke.time >= before && ok.time >= invoke.time && ok.time <= after);
  });
});

test('recorder keeps at most maxBufferedEvents in memory, writing full chunks', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'h.jsonl');
    const rec = new HistoryRecorder(path, { maxBufferedEvents: 4, now: ticks() });
    for (let i = 0; i < 5; i++) {
      rec.invoke(1, 'write', 'k', `v-${i}`).ok();
      assert.ok(rec.bufferedEvents < 4);
    }
    // 10 events: two chunks of 4 on disk, 2 still buffered.
    assert.equal(rec.bufferedEvents, 2);
    assert.equal((await readFile(path, 'utf8')).split('\n').filter(Boolean).length, 8);
    assert.equal(rec.eventCount, 10);
    rec.close();
    assert.equal((await readHistory(path)).length, 10);
  });
});

test('recorder refuses misuse: two outstanding ops per process, double completion, use after close', async () => {
  await withTempDir(async (dir) => {
    const rec = new HistoryRecorder(join(dir, 'h.jsonl'));
    const op = rec.invoke(1, 'write', 'k', 'v');
    assert.throws(() => rec.invoke(1, 'read', 'k'), (e: unknown) => e instanceof HistoryError && e.code === 'MISUSE');
    op.ok();
    assert.throws(() => op.info(), HistoryError);
    assert.throws(() => rec.invoke(2, 'write', 'k', null as unknown as string), HistoryError);
    // What parseHistory would refuse is not written: a process that is no integer, an unknown f, a key not a string.
    const misuse = (says: RegExp) => (e: unknown) => e instanceof HistoryError && e.code === 'MISUSE' && says.test(e.message);
    assert.throws(() => rec.invoke(1.5, 'read', 'k'), misuse(/process must be an integer/));
    assert.throws(() => rec.invoke(2, 'get' as 'read', 'k'), misuse(/f must be one of write, read, delete, cas, got "get"/));
    assert.throws(() => rec.invoke(2, 'read', 7 as unknown as string), misuse(/key must be a string, got number/));
    rec.flush();
    assert.equal(parseHistory(readFileSync(rec.path, 'utf8')).length, 2, 'only the first operation was recorded');
    rec.close();
    rec.close();
    assert.throws(() => rec.invoke(2, 'read', 'k'), HistoryError);
    assert.throws(() => new HistoryRecorder(join(dir, 'x.jsonl'), { maxBufferedEvents: 0 }), RangeError);
  });
});

test('parseHistory skips blank lines and names the line of a bad event', async () => {
  const good = '{"process":1,"type":"invoke","f":"read","key":"a","value":null,"time":1}\n\n{"process":1,"type":"ok","f":"read","key":"a","value":null,"time":2}\n';
  assert.equal(parseHistory(good).length, 2);
  const cases = [
    '{"process":1,"type":"invoke","f":"read","key":"a","value":null,"time":1}\nnot json',
    '{"process":1,"type":"begin","f":"read","key":"a","value":null,"time":1}',
    '{"process":1,"type":"invoke","f":"incr","key":"a","value":null,"time":1}',
    '{"process":"1","type":"invoke","f":"read","key":"a","value":null,"time":1}',
    '{"process":1,"type":"invoke","f":"write","key":"a","value":7,"time":1}',
    '{"process":1,"type":"invoke","f":"cas","key":"a","value":["x"],"time":1}',
    '{"process":1,"type":"invoke","f":"read","key":"a","value":null}',
  ];
  for (const text of cases) {
    assert.throws(() => parseHistory(text), (e: unknown) => e instanceof HistoryError && e.code === 'PARSE' && e.line !== undefined, text);
  }
  await withTempDir(async (dir) => {
    const path = join(dir, 'bad.jsonl');
    await writeFile(path, cases[0] ?? '');
    await assert.rejects(readHistory(path), /line 2/);
  });
});

test('lease reads: recorded with "consistency": "lease", parsed back, and checked as reads (a stale one is rejected)', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'lease.jsonl');
    const rec = new HistoryRecorder(path, { now: ticks() });
    let op = rec.invoke(1, 'write', 'x', 'a');
    op.ok();
    op = rec.invoke(1, 'write', 'x', 'b');
    op.ok();
    op = rec.invoke(2, 'read', 'x', null, 'lease');
    op.ok('a'); // after b was acknowledged: stale
    assert.throws(() => rec.invoke(3, 'write', 'x', 'c', 'lease'), (e: unknown) => e instanceof HistoryError && e.code === 'MISUSE');
    assert.throws(() => rec.invoke(3, 'read', 'x', null, 'stale' as 'lease'), (e: unknown) => e instanceof HistoryError && e.code === 'MISUSE');
    rec.close();
    const events = await readHistory(path);
    assert.deepEqual(events.map((e) => e.consistency), [undefined, undefined, undefined, undefined, 'lease', 'lease']);
    const res = checkLinearizable(events);
    assert.equal(res.ok, false, 'a lease read that saw an overwritten value is a violation');
    assert.equal(res.operations, 3);
    const fine = events.map((e) => (e.type === 'ok' && e.f === 'read' ? { ...e, value: 'b' } : e));
    assert.equal(checkLinearizable(fine).ok, true);
  });
  assert.throws(() => parseHistory('{"process":1,"type":"invoke","f":"read","key":"x","value":null,"time":1,"consistency":"stale"}'), /line 1: consistency "stale"/);
  assert.throws(() => parseHistory('{"process":1,"type":"invoke","f":"write","key":"x","value":"v","time":1,"consistency":"lease"}'), /line 1/);
});
