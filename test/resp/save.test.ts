// SAVE, BGSAVE and LASTSAVE (src/resp/saves.ts): a snapshot point on every live node, INFO persistence's rdb_*
// fields, and the replies redis-server 7.0.15 gives (checked against them, and compared with a running redis-server
// when one is installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { Saves } from '../../src/resp/saves.js';
import { waitFor } from '../cluster/helpers.js';
import { againstRedis, encode, endsWith, infoFields, raw, sameAsRedis, serve, words, NO_REDIS, type Served, type Step } from './helpers.js';

/** Each command, in order on one connection, and what redis-server 7.0.15 answers (no save running). */
const ASKED: Array<[string, RespValue]> = [
  ['SAVE', 'OK'],
  ['SAVE x', new RespError("ERR wrong number of arguments for 'save' command")],
  ['BGSAVE x', new RespError('ERR syntax error')],
  ['BGSAVE SCHEDULE x', new RespError('ERR syntax error')],
  ['LASTSAVE x', new RespError("ERR wrong number of arguments for 'lastsave' command")],
  ['MULTI', 'OK'],
  ['SAVE', new RespError('ERR Command not allowed inside a transaction')],
  ['EXEC', new RespError('EXECABORT Transaction discarded because of previous errors.')],
  ['MULTI', 'OK'],
  ['BGSAVE', 'QUEUED'],
  ['EXEC', ['Background saving scheduled']],
  ['BGREWRITEAOF x', new RespError("ERR wrong number of arguments for 'bgrewriteaof' command")],
  ['MULTI', 'OK'],
  ['BGREWRITEAOF', 'QUEUED'],
  ['EXEC', ['Background append only file rewriting scheduled']],
];

/** INFO persistence's save and rewrite fields. */
async function persistence(c: SimpleConn): Promise<Map<string, string>> {
  return new Map([...(await infoFields(c, 'persistence'))].filter(([k]) => /^(rdb|aof)_/.test(k)));
}

/**
 * INFO persistence once no save or rewrite is running or about to (Redis starts a scheduled one within 100 ms), and
 * `saves` saves and `rewrites` rewrites were started: at most 5 s.
 */
async function idle(c: SimpleConn, saves: number, rewrites = 0): Promise<Map<string, string>> {
  for (let i = 0; ; i++) {
    const p = await persistence(c);
    const quiet = ['rdb_bgsave_in_progress', 'aof_rewrite_in_progress', 'aof_rewrite_scheduled'].every((k) => p.get(k) === '0');
    if ((quiet && Number(p.get('rdb_saves')) >= saves && Number(p.get('aof_rewrites')) >= rewrites) || i === 250) return p;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The index every node has applied, once all have applied the same (at most 5 s): a snapshot point is taken at what
 * a node has applied, and a follower learns of a commit a heartbeat later (on a busy machine, later still).
 */
async function appliedEverywhere(cluster: Served['cluster']): Promise<number> {
  return waitFor('every node to apply the same index', async () => {
    const applied = (await cluster.status()).map((n) => n.applied ?? 0);
    return applied.every((a) => a === applied[0]) ? applied[0] : undefined;
  }, 5_000);
}

test('SAVE takes a snapshot point on every node; LASTSAVE and INFO persistence tell when; the errors are Redis\'s', async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    const started = Math.floor(Date.now() / 1000);
    const before = await persistence(c);
    assert.deepEqual([...before], [['rdb_bgsave_in_progress', '0'], ['rdb_last_save_time', before.get('rdb_last_save_time')], ['rdb_last_bgsave_status', 'ok'],
      ['rdb_last_bgsave_time_sec', '-1'], ['rdb_current_bgsave_time_sec', '-1'], ['rdb_saves', '0'], ['aof_enabled', '0'], ['aof_rewrite_in_progress', '0'],
      ['aof_rewrite_scheduled', '0'], ['aof_last_rewrite_time_sec', '-1'], ['aof_current_rewrite_time_sec', '-1'], ['aof_last_bgrewrite_status', 'ok'],
      ['aof_rewrites', '0'], ['aof_rewrites_consecutive_failures', '0']]);
    assert.ok(Math.abs(Number(before.get('rdb_last_save_time')) - started) <= 5, 'the server start counts as saved, as on Redis');
    for (let i = 0; i < 20; i++) await c.call(['SET', `k${i}`, 'v']);
    const applied = await appliedEverywhere(s.cluster);
    for (const [l, want] of ASKED) assert.deepEqual(await c.call(words(l)), want, l);
    // SAVE compacted every node up to what it had applied.
    for (const n of await s.cluster.status()) assert.ok((n.snapshotIndex ?? 0) >= applied, `node ${n.id}: snapshot ${n.snapshotIndex}, applied ${applied}`);
    const last = Number(await c.call(['LASTSAVE']));
    assert.ok(last >= started && last <= Date.now() / 1000 + 1);
    const after = await idle(c, 2, 1); // the BGSAVE and BGREWRITEAOF of the transactions done
    assert.equal(after.get('rdb_saves'), '2', 'SAVE and the BGSAVE EXEC started');
    assert.equal(after.get('rdb_last_bgsave_status'), 'ok');
    assert.equal(after.get('rdb_last_bgsave_time_sec'), '0');
    assert.deepEqual([after.get('aof_rewrites'), after.get('aof_last_bgrewrite_status'), after.get('aof_last_rewrite_time_sec')], ['1', 'ok', '0']);
    // A rewrite alone: the log compacted on every node up to what it had applied, LASTSAVE not moved.
    for (let i = 0; i < 20; i++) await c.call(['SET', `r${i}`, 'v']);
    const appliedNow = await appliedEverywhere(s.cluster);
    assert.equal(await c.call(['BGREWRITEAOF']), 'Background append only file rewriting started');
    assert.equal((await idle(c, 2, 2)).get('aof_rewrites'), '2');
    for (const n of await s.cluster.status()) assert.ok((n.snapshotIndex ?? 0) >= appliedNow, `node ${n.id}: snapshot ${n.snapshotIndex}, applied ${appliedNow}`);
    assert.equal(Number(await c.call(['LASTSAVE'])), last);
  } finally {
    c.close();
    await s.stop();
  }
});

test('BGSAVE runs on its own: SAVE and another BGSAVE are refused meanwhile', async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    await c.call(['SET', 'a', '1']);
    await appliedEverywhere(s.cluster);
    // Node 3's thread is held: its snapshot point waits for it.
    const stall = s.cluster.stallNodeForTest(3, 1000);
    assert.equal(await c.call(['BGSAVE']), 'Background saving started');
    // (INFO would wait for node 3 too: it reads every node's status.)
    assert.deepEqual(await c.call(['BGSAVE', 'SCHEDULE']), new RespError('ERR Background save already in progress'));
    assert.deepEqual(await c.call(['SAVE']), new RespError('ERR Background save already in progress'));
    await stall;
    const info = await idle(c, 1);
    assert.deepEqual([info.get('rdb_bgsave_in_progress'), info.get('rdb_last_bgsave_status'), info.get('rdb_saves')], ['0', 'ok', '1']);
    for (const n of await s.cluster.status()) assert.ok((n.snapshotIndex ?? 0) > 0, `node ${n.id} took its snapshot point`);
    assert.equal(await c.call(['BGSAVE', 'SCHEDULE']), 'Background saving started', 'none running: SCHEDULE starts one');
  } finally {
    c.close();
    await s.stop();
  }
});

test('BGREWRITEAOF runs on its own: another is refused, BGSAVE refused or with SCHEDULE started after it, SAVE allowed', async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    await c.call(['SET', 'a', '1']);
    const stall = s.cluster.stallNodeForTest(3, 1000); // node 3's snapshot point waits for it
    assert.equal(await c.call(['BGREWRITEAOF']), 'Background append only file rewriting started');
    assert.deepEqual(await c.call(['BGREWRITEAOF']), new RespError('ERR Background append only file rewriting already in progress'));
    assert.deepEqual(await c.call(['BGSAVE']), new RespError("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."));
    assert.equal(await c.call(['BGSAVE', 'SCHEDULE']), 'Background saving scheduled');
    // SAVE is refused only while a BGSAVE runs, as on Redis: it goes (and ends once node 3 is back).
    assert.equal(await c.call(['SAVE']), 'OK');
    await stall;
    const info = await idle(c, 2, 1); // the rewrite, then the BGSAVE it held
    assert.deepEqual([info.get('aof_rewrites'), info.get('aof_last_bgrewrite_status'), info.get('rdb_saves'), info.get('rdb_last_bgsave_status')], ['1', 'ok', '2', 'ok']);
  } finally {
    c.close();
    await s.stop();
  }
});

test('MONITOR shows LASTSAVE but not SAVE or BGSAVE (admin commands), as Redis', async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  const m = await raw(s.port);
  try {
    m.socket.write(encode('MONITOR'));
    await m.until(endsWith('+OK\r\n'));
    for (const l of ['SAVE', 'LASTSAVE', 'BGSAVE', 'PING']) await c.call(words(l));
    const lines = (await m.until(endsWith('"PING"\r\n'))).toString('latin1').split('\r\n').slice(1, -1);
    assert.deepEqual(lines.map((l) => l.replace(/^\+[\d.]+ \[0 [\d.:]+\] /, '')), ['"LASTSAVE"', '"PING"']);
  } finally {
    m.end();
    c.close();
    await s.stop();
  }
});

/** Resolves once `saves` has no save running (at most 5 s). */
async function settled(saves: Saves): Promise<void> {
  for (let i = 0; saves.inProgress && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(saves.inProgress, false, 'the save ended');
}

test('a save that fails (a node down before it answered) is rdb_last_bgsave_status:err and leaves LASTSAVE; SAVE answers the error', async () => {
  let fail = true;
  const saves = new Saves(async () => {
    if (fail) throw new Error('node 3 went down before it answered');
  });
  const { lastSaveTime, rewrite } = saves.stats();
  assert.equal(saves.background(false), 'started');
  assert.equal(saves.stats().inProgress, true);
  assert.equal(saves.background(true), 'in-progress', 'one at a time');
  await settled(saves);
  assert.deepEqual(saves.stats(), { inProgress: false, lastSaveTime, lastStatus: 'err', lastBackgroundSeconds: 0, currentBackgroundSeconds: -1, saves: 1, rewrite });
  await assert.rejects(saves.save(), /went down/);
  assert.equal(saves.stats().saves, 2);
  fail = false;
  await saves.save();
  assert.equal(saves.stats().lastStatus, 'ok', 'a SAVE that succeeds is the last status, as on Redis');
  // A BGSAVE that succeeds moves LASTSAVE to when it was done (the clock moved 100 s on).
  const realNow = Date.now;
  Date.now = () => realNow() + 100_000;
  try {
    assert.equal(saves.background(false), 'started');
    await settled(saves);
    assert.ok(saves.lastSave >= lastSaveTime + 100, String(saves.lastSave - lastSaveTime));
  } finally {
    Date.now = realNow;
  }
});

test('BGSAVE and BGREWRITEAOF take turns as Redis\'s child processes do: refused, or scheduled after the other; failures counted', async () => {
  // Each snapshot waits until the test ends it.
  const ends: Array<(ok: boolean) => void> = [];
  const saves = new Saves(() => new Promise<void>((resolve, reject) => ends.push((ok) => (ok ? resolve() : reject(new Error('node down'))))));
  const end = async (ok: boolean): Promise<void> => {
    ends.shift()!(ok);
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); // its finally, and the next start
  };
  assert.equal(saves.rewrite(), 'started');
  assert.equal(saves.rewrite(), 'in-progress');
  assert.equal(saves.background(false), 'busy', 'BGSAVE without SCHEDULE while a rewrite runs');
  assert.equal(saves.background(true), 'scheduled');
  assert.deepEqual(saves.stats().rewrite, { inProgress: true, scheduled: false, lastSeconds: -1, currentSeconds: 0, lastStatus: 'ok', started: 1, consecutiveFailures: 0 });
  assert.equal(saves.stats().inProgress, false);
  await end(true); // the rewrite ends: the scheduled BGSAVE starts
  assert.equal(saves.stats().inProgress, true);
  assert.equal(saves.stats().saves, 1);
  assert.equal(saves.rewrite(), 'scheduled', 'a rewrite waits for the BGSAVE');
  assert.equal(saves.rewrite(), 'scheduled');
  assert.equal(saves.stats().rewrite.scheduled, true);
  assert.equal(saves.background(true), 'in-progress');
  await end(true); // the BGSAVE ends: the scheduled rewrite starts
  assert.deepEqual([saves.stats().inProgress, saves.stats().rewrite.inProgress, saves.stats().rewrite.scheduled, saves.stats().rewrite.started], [false, true, false, 2]);
  await end(false);
  assert.deepEqual([saves.stats().rewrite.lastStatus, saves.stats().rewrite.consecutiveFailures, saves.stats().lastStatus], ['err', 1, 'ok']);
  assert.equal(saves.rewrite(), 'started');
  await end(false);
  assert.equal(saves.stats().rewrite.consecutiveFailures, 2);
  assert.equal(saves.rewrite(), 'started');
  await end(true);
  assert.deepEqual([saves.stats().rewrite.lastStatus, saves.stats().rewrite.consecutiveFailures, saves.stats().rewrite.started, saves.stats().rewrite.inProgress], ['ok', 0, 4, false]);
  assert.equal(ends.length, 0, 'nothing else started');
});

test('SAVE, BGSAVE and LASTSAVE answer as redis-server 7.0 does', { skip: !onPath('redis-server') && NO_REDIS }, async () => {
  await againstRedis(async (redis, served) => {
    // Redis's own answers are ASKED's.
    const c = await SimpleConn.open('127.0.0.1', redis.port);
    try {
      for (const [l, want] of ASKED) assert.deepEqual(await c.call(words(l)), want, l);
      const fields = await idle(c, 2, 1); // its BGSAVE and BGREWRITEAOF done before the same again
      assert.deepEqual([fields.get('rdb_last_bgsave_status'), fields.get('rdb_saves'), fields.get('aof_enabled'), fields.get('aof_rewrites')], ['ok', '2', '0', '1']);
      // Every rdb_ and aof_ field given here is Redis's, in Redis's order (Redis has more: copy-on-write sizes, ...).
      const o = await SimpleConn.open('127.0.0.1', served.port);
      try {
        const ours = [...(await persistence(o)).keys()];
        assert.deepEqual(ours, [...fields.keys()].filter((k) => ours.includes(k)));
      } finally {
        o.close();
      }
    } finally {
      c.close();
    }
    // And the same bytes, with INFO commandstats counting alike (a BGSAVE started, a SAVE refused in MULTI).
    // A transaction is one step (the marker PING after a step would be queued in it).
    const steps: Step[] = [];
    let multi: string[][] | undefined;
    for (const [l] of ASKED) {
      if (l === 'MULTI') multi = [];
      if (multi === undefined) steps.push([0, [words(l)]]);
      else multi.push(words(l));
      if (l === 'EXEC') {
        steps.push([0, multi!]);
        multi = undefined;
      }
    }
    await sameAsRedis(redis, served, { name: 'saves', conns: 1, steps });
  });
});
