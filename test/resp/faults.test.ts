// The RESP server under faults: clients pipeline INCR, APPEND of a unique token and SETBIT of a unique bit while a
// seeded nemesis crashes and restarts the leader, cuts it off by a partition, or moves leadership away. Every
// write a client saw acknowledged must be applied exactly once: INCR replies are all different and the counter ends
// between the acknowledged and the acknowledged plus failed ones; each acknowledged token is in the log once (a
// failed one at most once, no other); each acknowledged bit is set and its SETBIT answered 0 (a write applied twice
// answers 1 the second time); scripts (a read-modify-write and an APPEND) apply once each; optimistic transactions
// (WATCH, GET, MULTI, SET or a script setting, EXEC) lose no update; the replicas agree. (Without the state machine's
// per-session results, which make a write sent again after a leader change apply once, this test fails: the counter
// passes the acknowledged ones.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Prng } from '../sim/prng.js';
import { serve } from './helpers.js';

const CLIENTS = 6;
/** Faults for this long; on a slow machine longer, until the nemesis has acted MIN_FAULTS times (within EXTRA_MS). */
const FAULTS_MS = 6_500;
/** Then the clients go on this long with no fault. */
const QUIET_MS = 1_500;
const EXTRA_MS = 20_000;
/** What the run must exercise: faults, and committed transactions (the loops go on, within EXTRA_MS, until it has). */
const MIN_FAULTS = 3;
const MIN_CAS_COMMITS = 21;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('writes through RESP pipelines apply exactly once while the leader crashes, is partitioned away and hands over', async (t) => {
  const s = await serve({ storage: 'lmdb', requestTimeoutMs: 5_000 });
  const clients: Redis[] = [];
  try {
    const rng = new Prng(35);
    const faultsEnd = Date.now() + FAULTS_MS;
    const hardEnd = faultsEnd + EXTRA_MS;
    let running = true; // the clients' loads, until QUIET_MS after the nemesis's last fault
    const incrs: number[] = [];
    let incrFailed = 0;
    const tokens = new Set<string>();
    const failedTokens = new Set<string>();
    const bits: number[] = [];
    const answers: string[] = [];

    const client = async (id: number): Promise<void> => {
      const r = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
      clients.push(r);
      await r.connect();
      for (let n = 1; running; n++) {
        const token = `<${id}.${n}>`;
        const bit = id * 1_000_000 + n;
        const res = await r.pipeline().incr('ctr').append('log', token).setbit('bits', bit, 1).exec();
        const [[incrErr, incr], [appendErr], [bitErr, was]] = res as Array<[Error | null, unknown]> as [[Error | null, number], [Error | null, number], [Error | null, number]];
        if (incrErr) incrFailed++;
        else incrs.push(incr);
        (appendErr ? failedTokens : tokens).add(token);
        if (!bitErr) {
          bits.push(bit);
          if (was !== 0) answers.push(`SETBIT of the fresh bit ${bit} answered ${was}`);
        }
        if (incrErr || appendErr || bitErr) await sleep(20);
      }
    };

    // Scripts: a read-modify-write of a counter (GET, then SET of one more: atomic only as a script is) and an APPEND
    // of a unique token, in one EVAL. Each acknowledged one must have applied once: its value unique, its token in
    // the log once.
    const SCRIPT = "local v = tonumber(redis.call('GET', KEYS[1]) or '0') + 1 redis.call('SET', KEYS[1], v) redis.call('APPEND', KEYS[2], ARGV[1]) return v";
    const scriptValues: number[] = [];
    let scriptFailed = 0;
    const scriptTokens = new Set<string>();
    const failedScriptTokens = new Set<string>();
    const scriptClient = async (id: number): Promise<void> => {
      const r = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
      clients.push(r);
      await r.connect();
      for (let n = 1; running; n++) {
        const token = `[${id}.${n}]`;
        try {
          scriptValues.push(Number(await r.eval(SCRIPT, 2, 'sctr', 'slog', token)));
          scriptTokens.add(token);
        } catch {
          scriptFailed++;
          failedScriptTokens.add(token);
          await sleep(20);
        }
      }
    };

    // Optimistic transactions on one key: WATCH, GET, MULTI, SET to the value read plus one, EXEC. A commit that
    // missed a concurrent one (a lost update) would give two acknowledged EXECs the same new value. On a slow
    // machine they go on after the other loads until MIN_CAS_COMMITS have committed (within EXTRA_MS), so that the
    // check below always has enough of them.
    const casValues: number[] = [];
    let casUnknown = 0;
    let casAborted = 0;
    // `scripted`: the SET inside MULTI is a script's (a transaction holding a script runs as one).
    const casClient = async (scripted = false): Promise<void> => {
      const r = new Redis({ port: s.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
      clients.push(r);
      await r.connect();
      while (running || (casValues.length < MIN_CAS_COMMITS && Date.now() < hardEnd)) {
        let read: number;
        try {
          await r.watch('cas');
          read = Number((await r.get('cas')) ?? '0');
        } catch {
          await r.unwatch().catch(() => undefined);
          await sleep(20);
          continue;
        }
        let replies: Array<[Error | null, unknown]> | null;
        try {
          const tx = r.multi();
          replies = await (scripted ? tx.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, 'cas', String(read + 1)) : tx.set('cas', String(read + 1))).exec();
        } catch {
          casUnknown++; // EXEC itself failed: its SET may have applied
          await sleep(20);
          continue;
        }
        if (replies === null) casAborted++;
        else if (replies[0]![0] === null) casValues.push(read + 1);
        else {
          casUnknown++;
          await sleep(20);
        }
      }
    };

    // The nemesis: a fault every 150-550 ms, then QUIET_MS without one; the clients stop then (or if it throws).
    let actions = 0;
    const fault = async (): Promise<void> => {
      await sleep(150 + rng.int(400));
      const leader = (await s.cluster.status()).find((n) => n.role === 'leader')?.id ?? 1;
      const others = [1, 2, 3].filter((i) => i !== leader);
      const a = rng.int(10);
      if (a < 4) {
        await s.cluster.crash(leader);
        await sleep(200 + rng.int(500));
        await s.cluster.restart(leader);
      } else if (a < 7) {
        await s.cluster.partition([leader], others);
        await sleep(200 + rng.int(1_000));
        await s.cluster.heal();
      } else {
        await s.cluster.transferLeadership(others[rng.int(2)]!).catch(() => undefined); // a transfer may time out
      }
      actions++;
    };
    const nemesis = async (): Promise<void> => {
      try {
        while (Date.now() < faultsEnd || (actions < MIN_FAULTS && Date.now() < hardEnd)) await fault();
      } finally {
        await sleep(QUIET_MS);
        running = false;
      }
    };

    await Promise.all([nemesis(), ...Array.from({ length: CLIENTS }, (_, i) => client(i + 1)), casClient(), casClient(), casClient(true), scriptClient(1), scriptClient(2)]);
    assert.ok(actions >= MIN_FAULTS, `the nemesis acted ${actions} times`);
    assert.ok(incrs.length > 100, `${incrs.length} INCRs acknowledged`);

    const check = clients[0]!;
    let ctr = NaN;
    let log = '';
    let bitmap: Buffer | null = null;
    let cas = NaN;
    let sctr = NaN;
    let slog = '';
    for (let i = 0; i < 50 && Number.isNaN(ctr); i++) {
      try {
        const [[, c], [, l], [, b], [, v], [, sc], [, sl]] = (await check.pipeline().get('ctr').get('log').getBuffer('bits').get('cas').get('sctr').get('slog').exec()) as Array<[Error | null, unknown]> as [[null, string], [null, string], [null, Buffer], [null, string | null], [null, string | null], [null, string | null]];
        [ctr, log, bitmap, cas, sctr, slog] = [Number(c), l, b, Number(v ?? '0'), Number(sc ?? '0'), sl ?? ''];
      } catch {
        await sleep(200);
      }
    }

    assert.deepEqual(answers, [], 'every acknowledged SETBIT of a fresh bit answered 0');
    assert.equal(new Set(incrs).size, incrs.length, 'no two INCRs got the same value');
    assert.ok(ctr >= incrs.length && ctr <= incrs.length + incrFailed, `counter ${ctr}: ${incrs.length} acknowledged, ${incrFailed} failed`);
    assert.ok(Math.max(...incrs) <= ctr);
    const seen = new Map<string, number>();
    for (const t of log.match(/<[0-9.]+>/g) ?? []) seen.set(t, (seen.get(t) ?? 0) + 1);
    for (const t of tokens) assert.equal(seen.get(t), 1, `acknowledged ${t} is in the log once`);
    for (const [t, count] of seen) {
      assert.equal(count, 1, `${t} once`);
      assert.ok(tokens.has(t) || failedTokens.has(t), `${t} was sent`);
    }
    assert.ok(scriptValues.length > 20, `${scriptValues.length} scripts acknowledged`);
    assert.equal(new Set(scriptValues).size, scriptValues.length, 'no two scripts got the same value: none lost an update');
    assert.ok(sctr >= scriptValues.length && sctr <= scriptValues.length + scriptFailed && Math.max(...scriptValues) <= sctr, `script counter ${sctr}: ${scriptValues.length} acknowledged, ${scriptFailed} failed`);
    const scriptSeen = new Map<string, number>();
    for (const t of slog.match(/\[[0-9.]+\]/g) ?? []) scriptSeen.set(t, (scriptSeen.get(t) ?? 0) + 1);
    for (const t of scriptTokens) assert.equal(scriptSeen.get(t), 1, `acknowledged script ${t} is in its log once`);
    for (const [t, count] of scriptSeen) assert.ok(count === 1 && (scriptTokens.has(t) || failedScriptTokens.has(t)), `${t}: ${count} times`);
    const isSet = (b: number): boolean => bitmap !== null && b >> 3 < bitmap.length && ((bitmap[b >> 3]! >> (7 - (b & 7))) & 1) === 1;
    assert.deepEqual(bits.filter((b) => !isSet(b)), [], 'every acknowledged bit is set');
    t.diagnostic(`${incrs.length} INCRs acknowledged, ${incrFailed} failed; ${scriptValues.length} scripts acknowledged, ${scriptFailed} failed; ${casValues.length} transactions committed, ${casAborted} aborted, ${casUnknown} unknown; ${actions} faults`);
    assert.ok(casValues.length >= MIN_CAS_COMMITS && casAborted > 0, `${casValues.length} optimistic transactions committed, ${casAborted} aborted by a concurrent one`);
    assert.equal(new Set(casValues).size, casValues.length, 'no two committed transactions wrote the same value: no update was lost');
    assert.ok(cas >= casValues.length && cas <= casValues.length + casUnknown && Math.max(...casValues) <= cas, `cas ${cas}: ${casValues.length} committed, ${casUnknown} unknown`);
    assert.equal((await s.cluster.checkReplicas()).consistent, true, 'the replicas agree');
  } finally {
    for (const r of clients) r.disconnect();
    await s.cluster.heal().catch(() => undefined);
    await s.stop();
  }
});
