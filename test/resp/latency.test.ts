// The latency monitor (src/resp/latency-monitor.ts: LATENCY LATEST, HISTORY, GRAPH, DOCTOR, RESET and CONFIG SET
// latency-monitor-threshold) and DEBUG SLEEP, the slow command that tries it: the replies checked against what
// redis-server 7.0.15 answered to the same commands, and compared with a running redis-server (started with
// --enable-debug-command yes) when one is installed. The times are not Redis's to the millisecond: the numbers in
// those replies are compared masked, and checked apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyReader, RespError, SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { isFast } from '../../src/resp/dispatch.js';
import { LatencyMonitor, sparkline } from '../../src/resp/latency-monitor.js';
import { fixed2, fixedExact } from '../../src/util/printf.js';
import { againstRedis, encode, endsWith, plainReply, raw, serve, words, NO_REDIS } from './helpers.js';

/** A reply as text: errors as `-message`, arrays as JSON, with every run of digits `N` when `masked`. */
function shown(v: RespValue, masked: boolean): string {
  const text = JSON.stringify(plainReply(v));
  return masked ? text.replace(/\d+/g, 'N') : text;
}

const DISABLED = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \\\"CONFIG SET latency-monitor-threshold <milliseconds>.\\\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\\n";
const NO_SPIKES = 'Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\\n';
const SPIKES = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\\n\\nN. command: N latency spikes (average Nms, mean deviation Nms, period N.N sec). Worst all time event Nms.\\n\\nI have a few advices for you:\\n\\n";
const INSPECT = '- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\\n';
const LARGE = '- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\\n';

/** One connection's commands, and what redis-server 7.0.15 answered to each (masked: every run of digits `N`). */
const SCRIPT: Array<[line: string, redis: string]> = [
  ['LATENCY DOCTOR', `"${DISABLED}"`],
  ['CONFIG SET latency-monitor-threshold -1', `"-ERR CONFIG SET failed (possibly related to argument 'latency-monitor-threshold') - argument must be between N and N inclusive"`],
  ['CONFIG SET latency-monitor-threshold 1.5', `"-ERR CONFIG SET failed (possibly related to argument 'latency-monitor-threshold') - argument couldn't be parsed into an integer"`],
  // 40 ms: DEBUG SLEEP 0.05 is above it, and a PING or DEBUG SLEEP 0 stays below it on a loaded machine.
  ['CONFIG SET latency-monitor-threshold 40', '"OK"'],
  ['CONFIG GET latency-monitor-threshold', '["latency-monitor-threshold","N"]'],
  ['LATENCY DOCTOR', `"${NO_SPIKES}"`],
  ['DEBUG SLEEP 0', '"OK"'], // below the threshold: no sample
  ['LATENCY LATEST', '[]'],
  ['DEBUG SLEEP 0.05', '"OK"'],
  ['PING', '"PONG"'], // fast, and below the threshold
  ['LATENCY LATEST', '[["command",N,N,N]]'],
  ['LATENCY HISTORY command', '[[N,N]]'],
  ['LATENCY HISTORY Command', '[]'], // matched exactly
  ['LATENCY HISTORY fast-command', '[]'],
  ['LATENCY GRAPH command', '"command - high N ms, low N ms (all time high N ms)\\n--------------------------------------------------------------------------------\\n \\n \\n \\n_\\n \\nN\\ns\\n"'],
  ['LATENCY GRAPH Command', `"-ERR No samples available for event 'Command'"`],
  ['LATENCY DOCTOR', `"${SPIKES}${INSPECT}${LARGE}"`],
  // A threshold below slowlog-log-slower-than's (10 ms): the advice to lower that one.
  // A threshold of slowlog-log-slower-than's 10 ms: no advice on the slow log's threshold.
  ['CONFIG SET latency-monitor-threshold 10', '"OK"'],
  ['LATENCY DOCTOR', `"${SPIKES}${INSPECT}${LARGE}"`],
  ['CONFIG SET latency-monitor-threshold 5', '"OK"'],
  ['LATENCY DOCTOR', `"${SPIKES}- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than N'.\\n${INSPECT}${LARGE}"`],
  ['CONFIG SET slowlog-log-slower-than -1', '"OK"'],
  ['LATENCY DOCTOR', `"${SPIKES}- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than N'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\\n${INSPECT}${LARGE}"`],
  ['CONFIG SET slowlog-log-slower-than 10000', '"OK"'],
  // A threshold no command reaches, even on a machine busy with another test file: what follows cannot be spoiled by
  // a sample. At 5 ms, two were: an empty monitor's, and a MULTI's (a fast command) before the EXEC below. Between the
  // thresholds of 10 and 5 ms only commands that are not fast run, whose samples the masked DOCTOR replies do not see.
  ['CONFIG SET latency-monitor-threshold 1000', '"OK"'],
  ['LATENCY LATEST', '[["command",N,N,N]]'],
  // Inside MULTI: answered at EXEC.
  ['MULTI', '"OK"'],
  ['LATENCY RESET nosuch', '"QUEUED"'],
  ['LATENCY LATEST', '"QUEUED"'],
  ['EXEC', '[N,[["command",N,N,N]]]'],
  ['LATENCY RESET nosuch COMMAND', 'N'],
  ['LATENCY LATEST', '[]'],
  ['LATENCY GRAPH command', `"-ERR No samples available for event 'command'"`],
  ['LATENCY DOCTOR', `"${NO_SPIKES}"`],
  ['CONFIG SET latency-monitor-threshold 0', '"OK"'],
  ['LATENCY DOCTOR', `"${DISABLED}"`],
  ['DEBUG SLEEP', `"-ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP."`],
  ['DEBUG NOSUCH', `"-ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try DEBUG HELP."`],
  ['DEBUG DIGEST x', `"-ERR unknown subcommand or wrong number of arguments for 'DIGEST'. Try DEBUG HELP."`],
  ['LATENCY RESET', 'N'],
];

/** SCRIPT's replies, and the CONFIG GET, LATEST, HISTORY and EXEC replies unmasked (the times checked apart). */
async function played(port: number): Promise<{ masked: string[]; config: RespValue; latest: RespValue; history: RespValue; beforeExec: RespValue; exec: RespValue; reset: RespValue }> {
  const c = await SimpleConn.open('127.0.0.1', port);
  try {
    const replies: RespValue[] = [];
    for (const [line] of SCRIPT) replies.push(await c.call(words(line)));
    const at = (line: string, nth = 0): RespValue => replies.filter((_, i) => SCRIPT[i]![0] === line)[nth]!;
    return {
      masked: replies.map((r) => shown(r, true)),
      config: at('CONFIG GET latency-monitor-threshold'),
      latest: at('LATENCY LATEST', 1),
      history: at('LATENCY HISTORY command'),
      beforeExec: at('LATENCY LATEST', 2),
      exec: at('EXEC'),
      reset: at('LATENCY RESET nosuch COMMAND'),
    };
  } finally {
    c.close();
  }
}

function check(got: Awaited<ReturnType<typeof played>>, slept: [low: number, high: number]): void {
  SCRIPT.forEach(([line, redis], i) => assert.equal(got.masked[i], redis, line));
  assert.deepEqual(got.config, ['latency-monitor-threshold', '40']);
  const now = Date.now() / 1000;
  const [[event, time, ms, max]] = got.latest as [[string, number, number, number]];
  assert.equal(event, 'command');
  assert.ok(Math.abs(time - now) < 60, 'unix seconds');
  assert.ok(ms >= slept[0] && ms <= slept[1], `DEBUG SLEEP 0.05's sample: ${ms} ms`);
  assert.equal(max, ms);
  assert.deepEqual(got.history, [[time, ms]]);
  assert.deepEqual(got.exec, [0, got.beforeExec]);
  assert.equal(got.reset, 1);
}

test('the latency monitor samples commands at or past latency-monitor-threshold, as Redis 7.0 does; LATENCY reads it', async () => {
  const s = await serve();
  try {
    check(await played(s.port), [50, 5000]);
  } finally {
    await s.stop();
  }
});

/** In one pipeline: a threshold set holds from the next command, and LATENCY LATEST sees the DEBUG SLEEP before it. */
async function pipelined(port: number): Promise<RespValue> {
  const r = await raw(port);
  try {
    const lines = ['LATENCY RESET', 'CONFIG SET latency-monitor-threshold 10', 'DEBUG SLEEP 0.02', 'LATENCY LATEST', 'CONFIG SET latency-monitor-threshold 0', 'PING END'];
    r.socket.write(Buffer.concat(lines.map((l) => encode(...words(l)))));
    const got = new ReplyReader().push(await r.until(endsWith('$3\r\nEND\r\n')));
    return got[3]!;
  } finally {
    r.end();
  }
}

test('in a pipeline, CONFIG SET latency-monitor-threshold holds from the next command and LATENCY LATEST reads what ran before it', async () => {
  const s = await serve();
  try {
    assert.equal(shown(await pipelined(s.port), true), '[["command",N,N,N]]');
  } finally {
    await s.stop();
  }
});

test("a transaction's commands are sampled with its time, each under its own event (INCR: fast-command)", async () => {
  const s = await serve();
  const r = await raw(s.port);
  try {
    // Pipelined behind a DEBUG SLEEP, EXEC's reply (and so its time, from its dispatch) waits for the sleep's.
    const lines = ['CONFIG SET latency-monitor-threshold 40', 'DEBUG SLEEP 0.05', 'MULTI', 'INCR q', 'EXEC', 'LATENCY LATEST', 'PING END'];
    r.socket.write(Buffer.concat(lines.map((l) => encode(...words(l)))));
    const latest = new ReplyReader().push(await r.until(endsWith('$3\r\nEND\r\n')))[5] as Array<[string, number, number, number]>;
    assert.deepEqual(latest.map((e) => e[0]).sort(), ['command', 'fast-command']);
    const [, , ms] = latest.find((e) => e[0] === 'fast-command')!;
    assert.ok(ms >= 40, `INCR's sample: ${ms} ms`);
  } finally {
    r.end();
    await s.stop();
  }
});

test("the write path's stages and the read rounds are events of their own: links delayed 30 ms make write-replication and read-indexRound spikes", async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    assert.equal(await c.call(['SET', 'warm', '1']), 'OK');
    await c.call(['CONFIG', 'SET', 'latency-monitor-threshold', '25']);
    await s.cluster.setLinkFaults({ delayMs: 30 });
    assert.equal(await c.call(['SET', 'k', 'v']), 'OK');
    await s.cluster.setLinkFaults({ delayMs: 0 });
    const latest = (await c.call(['LATENCY', 'LATEST'])) as Array<[string, number, number, number]>;
    const events = new Map(latest.map(([event, , ms]) => [event, ms]));
    assert.ok(events.get('write-replication')! >= 30, JSON.stringify(latest));
    assert.ok(events.get('command')! >= events.get('write-replication')!, 'the SET waited for its replication');
    assert.ok(!events.has('write-leaderFsync'), 'memory storage: no sync to wait for');
    const doctor = String(await c.call(['LATENCY', 'DOCTOR']));
    assert.match(doctor, /\. write-replication: 1 latency spikes \(average \d+ms, mean deviation 0ms, period 1\.00 sec\)\. Worst all time event \d+ms\.\n/);
    assert.match(doctor, /\n- It is strongly advised to use local disks for persistence/);
    // A linearizable read's round to the leader and its quorum, over the same delayed links.
    await s.cluster.setLinkFaults({ delayMs: 30 });
    assert.equal(await c.call(['GET', 'k']), 'v');
    await s.cluster.setLinkFaults({ delayMs: 0 });
    const round = ((await c.call(['LATENCY', 'LATEST'])) as Array<[string, number, number, number]>).find((e) => e[0] === 'read-indexRound');
    assert.ok(round !== undefined && round[2] >= 30, JSON.stringify(round));
    // Turned off: stages are no longer watched.
    await c.call(['CONFIG', 'SET', 'latency-monitor-threshold', '0']);
    await c.call(['LATENCY', 'RESET']);
    await s.cluster.setLinkFaults({ delayMs: 30 });
    assert.equal(await c.call(['SET', 'k', 'w']), 'OK');
    await s.cluster.setLinkFaults({ delayMs: 0 });
    assert.deepEqual(await c.call(['LATENCY', 'LATEST']), []);
    // A server that closes with its monitor on stops watching the cluster it leaves running.
    await c.call(['CONFIG', 'SET', 'latency-monitor-threshold', '1']);
    const watchers = (s.cluster.profile as unknown as { watchers: Set<unknown> }).watchers;
    const readWatchers = (s.cluster as unknown as { reads: { roundWatchers: Set<unknown> } }).reads.roundWatchers;
    assert.deepEqual([watchers.size, readWatchers.size], [1, 1]);
    await s.server.close();
    assert.deepEqual([watchers.size, readWatchers.size], [0, 0]);
  } finally {
    c.close();
    await s.stop();
  }
});

test('LATENCY and DEBUG SLEEP answer as redis-server 7.0 does', { skip: !onPath('redis-server') && NO_REDIS }, async () => {
  await againstRedis(async (redis, served) => {
    const theirs = await played(redis.port);
    // SCRIPT is what this Redis answers. Its sample is the sleep and the time to be scheduled again: 54 ms was seen
    // on a busy machine (two test files at once).
    check(theirs, [50, 5000]);
    const ours = await played(served.port);
    assert.deepEqual(ours.masked, theirs.masked);
    assert.equal(shown(await pipelined(redis.port), true), shown(await pipelined(served.port), true));
    const help = async (port: number): Promise<RespValue> => {
      const c = await SimpleConn.open('127.0.0.1', port);
      try {
        return await c.call(['LATENCY', 'HELP']);
      } finally {
        c.close();
      }
    };
    assert.deepEqual(await help(served.port), await help(redis.port), 'LATENCY HELP');
  }, ['--enable-debug-command', 'yes']);
});

test('DEBUG SLEEP takes 0 to 3600 seconds, decimals allowed, and holds its reply that long', async () => {
  const s = await serve();
  const c = await SimpleConn.open('127.0.0.1', s.port);
  try {
    for (const bad of ['abc', '-1', '+1', '3600.5', '4e3', 'inf', '0x10', '1 ', '']) {
      assert.deepEqual(await c.call(['DEBUG', 'SLEEP', bad]), new RespError('ERR DEBUG SLEEP takes 0 to 3600 seconds'), bad);
    }
    const t0 = performance.now();
    assert.equal(await c.call(['DEBUG', 'SLEEP', '.1']), 'OK');
    assert.ok(performance.now() - t0 >= 99);
  } finally {
    c.close();
    await s.stop();
  }
});

test('a sample per second, the highest of it; 160 seconds kept; RESET names events in any case, HISTORY and GRAPH exactly', () => {
  const m = new LatencyMonitor();
  m.command(false, 500_000); // off: threshold 0
  assert.deepEqual(m.latest(), []);
  m.thresholdMs = 10;
  m.command(false, 9_999); // 9 ms: below
  m.command(true, 10_000); // fast: its own event
  assert.deepEqual(m.latest().map((e) => [e[0], e[2], e[3]]), [['fast-command', 10, 10]]);
  for (let t = 1; t <= 200; t++) {
    m.add('command', 20 + (t % 7), 1000 + t);
    m.add('command', 15, 1000 + t); // lower, the same second: kept as it was
  }
  m.add('command', 500, 1200); // higher, the same second: replaces it
  const h = m.history('command');
  assert.deepEqual(h.map(([t]) => t), Array.from({ length: 160 }, (_, i) => 1041 + i), 'the latest 160 seconds, oldest first');
  assert.deepEqual(h.slice(0, -1).map(([t, ms]) => ms - 20 - ((t - 1000) % 7)), new Array(159).fill(0));
  assert.deepEqual(h.at(-1), [1200, 500]);
  assert.deepEqual(m.latest().find((e) => e[0] === 'command'), ['command', 1200, 500, 500]);
  assert.deepEqual(m.history('COMMAND'), []);
  assert.equal(m.graph('COMMAND'), undefined);
  assert.equal(m.reset(['COMMAND', 'nosuch']), 1);
  assert.deepEqual(m.history('command'), []);
  assert.equal(m.reset(), 1);
  assert.deepEqual(m.latest(), []);
});

test('stages and read rounds are watched only while the monitor is on, and by each monitor until it closes', () => {
  const stages = new Set<(stage: 'queue' | 'leaderFsync', ms: number) => void>();
  const reads = new Set<(ms: number) => void>();
  const watching = <W>(set: Set<W>) => (w: W) => {
    set.add(w);
    return () => set.delete(w);
  };
  const m = new LatencyMonitor({ stages: watching(stages), readRounds: watching(reads) });
  assert.deepEqual([stages.size, reads.size], [0, 0], 'off at start');
  m.thresholdMs = 5;
  m.thresholdMs = 7;
  assert.deepEqual([stages.size, reads.size], [1, 1], 'once however often the threshold changes');
  for (const w of stages) {
    w('leaderFsync', 6.9); // 6 whole ms: below
    w('leaderFsync', 7.2);
    w('queue', 9);
  }
  for (const w of reads) w(12.5);
  assert.deepEqual(m.latest().map((e) => [e[0], e[2]]), [['write-leaderFsync', 7], ['write-queue', 9], ['read-indexRound', 12]]);
  m.thresholdMs = 0;
  assert.deepEqual([stages.size, reads.size], [0, 0]);
  m.thresholdMs = 1;
  m.close();
  assert.deepEqual([stages.size, reads.size], [0, 0]);
});

test("LATENCY DOCTOR's figures and advice for fast-command (Redis's createLatencyReport)", () => {
  const m = new LatencyMonitor();
  m.thresholdMs = 1;
  for (const [ms, t] of [[3, 100], [5, 104], [10, 108]] as const) m.add('fast-command', ms, t);
  // Average 6 ms, mean deviation (3 + 1 + 4) / 3 = 2 ms, period (110 - 100) / 3 s.
  assert.equal(m.doctor(10_000, 110), "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n"
    + '1. fast-command: 3 latency spikes (average 6ms, mean deviation 2ms, period 3.33 sec). Worst all time event 10ms.\n\n'
    + 'I have a few advices for you:\n\n'
    + '- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n'
    + '  1) Lower the system load.\n'
    + '  2) Use a computer / VM just for Redis if you are running other software in the same system.\n'
    + '  3) Check if you have a "noisy neighbour" problem.\n'
    + "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n"
    + '  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n');
  // A read round's spike: Redis's advice on CPU time, none on disks (a write's sync: test above).
  const read = new LatencyMonitor();
  read.add('read-indexRound', 40, 100);
  const advice = read.doctor(10_000, 100).split('I have a few advices for you:\n\n')[1]!;
  assert.match(advice, /^- The system is slow to execute Redis code paths not containing system calls\./);
  assert.doesNotMatch(advice, /disk/);
  // A period of at least a second: one sample this second.
  const one = new LatencyMonitor();
  one.add('command', 7, 500);
  assert.match(one.doctor(10_000, 500), /1\. command: 1 latency spikes \(average 7ms, mean deviation 0ms, period 1\.00 sec\)/);
  // The labels: seconds, minutes, hours, days ago (60 s: 1m; 3600 s: 1h; a day: 1d).
  const g = new LatencyMonitor();
  const now = 86_400 * 3;
  for (const ago of [now - 1, 86_400, 7200, 3600, 3599, 120, 60, 59, 5]) g.add('e', 1, now - ago);
  assert.equal(g.graph('e', now)!.split('\n').slice(7).join('\n'), '212152155\nddhh9mm9s\n    m  s \n');
});

test('the fast flag chooses the event: GET, PING and INCR are fast, SET, DEBUG and EXEC are not (a subcommand has its command\'s flags)', () => {
  assert.deepEqual(['get', 'ping', 'incr', 'set', 'debug', 'exec', 'client|id', 'nosuch'].map(isFast), [true, true, true, false, false, false, false, false]);
});

test("C's %.2f: an exact half rounds to even", () => {
  assert.deepEqual([[1, 8], [3, 8], [5, 8], [10, 3], [4, 3], [0, 5], [12345, 100], [1, 200], [3, 200]].map(([p, q]) => fixed2(p!, q!)),
    ['0.12', '0.38', '0.62', '3.33', '1.33', '0.00', '123.45', '0.00', '0.02']);
});

test("C's %.*f of any double: exact, an exact half to even, -0 signed (Python's %-formatting agrees)", () => {
  const cases: Array<[number, number, string]> = [
    [0.0078125, 6, '0.007812'], [0.5, 0, '0'], [1.5, 0, '2'], [2.5, 0, '2'], [-2.5, 0, '-2'], [99.9, 6, '99.900000'],
    [1e-7, 6, '0.000000'], [100, 6, '100.000000'], [50.000001, 6, '50.000001'], [33.3333333333, 6, '33.333333'],
    [5e-324, 6, '0.000000'], [1e20, 6, '100000000000000000000.000000'], [-0, 6, '-0.000000'], [0.1, 20, '0.10000000000000000555'],
  ];
  for (const [x, digits, c] of cases) assert.equal(fixedExact(x, digits), c, `${x} ${digits}`);
});

/** 170 samples (three blocks of at most 80), and what Redis 7.0.15's sparklineRender (80 columns, 4 rows, filled) drew for them. */
const SPARK_VALUES = [10, 11, 12, 15, 20, 35, 80, 200, 1000];
const SPARK = Array.from({ length: 170 }, (_, i) => ({ value: SPARK_VALUES[(i * i * 31 + i * 7 + (i >> 3)) % 9]!, label: `${(i * 37) % 3001}s` }));
const SPARK_REDIS = [
  "                 #                             # #  #  #            #           ",
  "                 |                             | |  |  |            |           ",
  "                 |                             | |  |  |            |           ",
  "________#______#_|____________________###__#__#|_|__|__|___#___#____|___________",
  "                                                                                ",
  "03711122233444555667778889991111111111111111111111111112222222222222222222222222",
  "s7414825937048159260471582690011122233444555667778889990011122233444555667778889",
  " ss18529630741852963074185293714825936048159260371582693704825936047159260371482",
  "   sssssssssssssssssssssssss6307418529630741852963074185296307418529630741852963",
  "                            ssssssssssssssssssssssssssssssssssssssssssssssssssss",
  "",
  "         #                             # #  #  #            #                   ",
  "         |                             | |  |  |            |                   ",
  "         |                             | |  |  |            |                   ",
  "#______#_|____________________###__#__#|_|__|__|___#___#____|___________#______#",
  "                                                                                ",
  "22371112223344455566677888999111111111111111111111111111222222222222222222222222",
  "99300481592604715826937148259001112223344455566677888999001112223344455566677888",
  "69ss7418529630741852963074185360481592603715826937048259360471592603714826937048",
  "07  sssssssssssssssssssssssss296307418529630741852963074185296307418529630741852",
  "ss                           sssssssssssssssssssssssssssssssssssssssssssssssssss",
  "",
  " #        ",
  " |        ",
  " |        ",
  "_|________",
  "          ",
  "2222611122",
  "9999604715",
  "159ss30741",
  "963  sssss",
  "sss       ",
].join('\n') + '\n';

test("LATENCY GRAPH's sparkline is drawn as Redis's sparkline.c draws it", () => {
  assert.equal(sparkline(SPARK, 80, 4), SPARK_REDIS);
  // Every step of the scale, without labels (no blank row either).
  const steps = Array.from({ length: 26 }, (_, i) => ({ value: i % 13, label: '' }));
  assert.equal(sparkline(steps, 80, 4), '         _o##         _o##\n      _o#||||      _o#||||\n   _o#|||||||   _o#|||||||\n_o#||||||||||_o#||||||||||\n');
  // All samples alike: the lowest row.
  assert.equal(sparkline([{ value: 5, label: '0s' }, { value: 5, label: '1s' }, { value: 5, label: '12s' }], 80, 4), '   \n   \n   \n___\n   \n011\nss2\n  s\n');
});
