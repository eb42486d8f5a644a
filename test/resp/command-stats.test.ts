// INFO commandstats, errorstats and latencystats, and LATENCY: the calls of each command, those refused before they ran and those
// that answered an error, counted as Redis 7 counts them (a subcommand by its full name, a command queued in MULTI
// as EXEC runs it, nothing for an unknown command), checked against the counts redis-server 7.0.15 gave for the
// same requests, and compared with a running redis-server when one is installed. LATENCY HISTOGRAM has Redis's shape
// (its counts and power-of-two bounds; the times are the cluster's); the latency monitor's subcommands answer as
// Redis's with the monitor off, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimpleConn, type RespValue } from '../../bench/resp-proto.js';
import { onPath } from '../../bench/resp-targets.js';
import { againstRedis, encode, plainReply, raw, serve, NO_REDIS } from './helpers.js';

const SCRIPT = [
  'CONFIG RESETSTAT', 'SET a 1', 'GET a', 'GET', 'INCR a', 'SET s x', 'INCR s', 'NOSUCH x', 'CLIENT BOGUS', 'CLIENT LIST x',
  'MULTI', 'SET b 2', 'INCR s', 'GET b', 'EXEC', 'MULTI', 'GET', 'SET c 1', 'EXEC', 'AUTH x', 'PING', 'ECHO', 'EXISTS a b',
  'DISCARD', 'MULTI', 'DISCARD', 'SETRANGE a -1 x', 'CLIENT', 'CONFIG GET maxclients', 'DEL a b c s',
  'WATCH w', 'MULTI', 'SET w 1', 'EXEC', 'TTL a', 'EXPIRE a abc', 'MULTI', 'SHUTDOWN', 'EXEC',
];

/** What redis-server 7.0.15 counted for SCRIPT (its INFO commandstats without the times, errorstats, total_error_replies). */
const REDIS_COUNTS = [
  'cmdstat_auth:calls=1,rejected_calls=0,failed_calls=1', 'cmdstat_client:calls=0,rejected_calls=1,failed_calls=0',
  'cmdstat_client|list:calls=1,rejected_calls=0,failed_calls=1', 'cmdstat_config|get:calls=1,rejected_calls=0,failed_calls=0',
  'cmdstat_config|resetstat:calls=1,rejected_calls=0,failed_calls=0', 'cmdstat_del:calls=1,rejected_calls=0,failed_calls=0',
  'cmdstat_discard:calls=2,rejected_calls=0,failed_calls=1', 'cmdstat_echo:calls=0,rejected_calls=1,failed_calls=0',
  'cmdstat_exec:calls=4,rejected_calls=0,failed_calls=2', 'cmdstat_exists:calls=1,rejected_calls=0,failed_calls=0',
  'cmdstat_expire:calls=1,rejected_calls=0,failed_calls=1', 'cmdstat_get:calls=2,rejected_calls=2,failed_calls=0',
  'cmdstat_incr:calls=3,rejected_calls=0,failed_calls=2', 'cmdstat_multi:calls=5,rejected_calls=0,failed_calls=0',
  'cmdstat_ping:calls=1,rejected_calls=0,failed_calls=0', 'cmdstat_set:calls=4,rejected_calls=0,failed_calls=0',
  'cmdstat_setrange:calls=1,rejected_calls=0,failed_calls=1', 'cmdstat_shutdown:calls=0,rejected_calls=1,failed_calls=0',
  'cmdstat_ttl:calls=1,rejected_calls=0,failed_calls=0', 'cmdstat_watch:calls=1,rejected_calls=0,failed_calls=0',
  'errorstat_ERR:count=14', 'errorstat_EXECABORT:count=2', 'total_error_replies:16',
];

/** SCRIPT pipelined on one connection, then INFO: the counts it shows, in byte order, and its whole text. */
async function counts(port: number): Promise<{ counts: string[]; info: string }> {
  const r = await raw(port);
  try {
    const words = [...SCRIPT, 'INFO commandstats errorstats stats latencystats'].map((l) => l.split(' '));
    r.socket.write(Buffer.concat([...words.map((w) => encode(...w)), encode('PING', 'END-MARK')]));
    const info = (await r.until((b) => b.toString('latin1').endsWith('$8\r\nEND-MARK\r\n'))).toString('latin1');
    const lines = info.split('\r\n').filter((l) => /^(cmdstat_|errorstat_|total_error_replies:)/.test(l));
    return { counts: lines.map((l) => l.replace(/usec=\d+,usec_per_call=[\d.]+,/, '')).sort(), info };
  } finally {
    r.end();
  }
}

test('INFO commandstats and errorstats count calls, refusals and errors as Redis 7.0 does; latencystats; RESETSTAT', async () => {
  const s = await serve();
  try {
    const { counts: got, info } = await counts(s.port);
    assert.deepEqual(got, [...REDIS_COUNTS].sort());
    // Each line as Redis's: the time in µs too; a latency line per command called.
    assert.match(info, /^cmdstat_set:calls=4,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0\r$/m);
    assert.match(info, /^latency_percentiles_usec_set:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r$/m);
    assert.doesNotMatch(info, /latency_percentiles_usec_echo:/, 'a command only refused has no latency');
    const usec = Number(/^cmdstat_set:calls=4,usec=(\d+)/m.exec(info)?.[1]);
    assert.ok(usec > 0, 'a SET takes the cluster a round: its time is counted');
    // INFO without a section leaves commandstats and latencystats out, as Redis; `all` has them.
    const r = await raw(s.port);
    try {
      r.socket.write(Buffer.concat([encode('INFO'), encode('PING', 'A'), encode('INFO', 'all'), encode('PING', 'B'), encode('CONFIG', 'RESETSTAT'), encode('INFO', 'commandstats', 'errorstats'), encode('PING', 'C')]));
      const text = (await r.until((b) => b.toString('latin1').endsWith('$1\r\nC\r\n'))).toString('latin1');
      const [byDefault, all, reset] = text.split(/\$1\r\n[AB]\r\n/);
      assert.match(byDefault!, /# Errorstats\r\nerrorstat_ERR:count=14\r\n/);
      assert.doesNotMatch(byDefault!, /# Commandstats|# Latencystats/);
      assert.match(all!, /# Commandstats\r\n(cmdstat_[^\r]+\r\n)+\r\n# Errorstats\r\n(errorstat_[^\r]+\r\n)+\r\n# Latencystats\r\n(latency_percentiles_usec_[^\r]+\r\n)+/);
      // RESETSTAT forgets them; it is counted itself, as Redis counts it once it ran.
      assert.match(reset!, /# Commandstats\r\ncmdstat_config\|resetstat:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0\r\n\r\n# Errorstats\r\n\r\n/);
    } finally {
      r.end();
    }
  } finally {
    await s.stop();
  }
});

/** LATENCY HISTOGRAM after SCRIPT (RESP2: maps as flat arrays), and the monitor's subcommands' bytes. */
async function latencyReplies(port: number): Promise<{ histogram: string; monitor: string; sleep: string }> {
  const r = await raw(port);
  try {
    const words = [...SCRIPT, 'LATENCY HISTOGRAM set CLIENT nosuch'].map((l) => l.split(' '));
    r.socket.write(Buffer.concat([...words.map((w) => encode(...w)), encode('PING', 'END-MARK')]));
    const text = (await r.until((b) => b.toString('latin1').endsWith('$8\r\nEND-MARK\r\n'))).toString('latin1');
    const histogram = text.slice(text.lastIndexOf('*4\r\n$3\r\nset\r\n'), -'$8\r\nEND-MARK\r\n'.length);
    const from = r.received().length;
    const monitor = ['LATENCY LATEST', 'LATENCY HISTORY command', 'LATENCY GRAPH command', 'LATENCY RESET', 'LATENCY RESET a b', 'LATENCY DOCTOR', 'LATENCY LATEST x', 'LATENCY BOGUS'];
    r.socket.write(Buffer.concat([...monitor.map((l) => encode(...l.split(' '))), encode('PING', 'END-MARK')]));
    await r.until((b) => b.length > from && b.toString('latin1').endsWith('$8\r\nEND-MARK\r\n'));
    const monitorText = r.received().subarray(from).toString('latin1');
    // A time past 33.5 ms (level 2^25 ns), so a bound at a level where the slot's width shows: 67 ms, not 67.1.
    const from2 = r.received().length;
    r.socket.write(Buffer.concat([encode('DEBUG', 'SLEEP', '0.04'), encode('LATENCY', 'HISTOGRAM', 'debug'), encode('PING', 'END-MARK')]));
    await r.until((b) => b.length > from2 && b.toString('latin1').endsWith('$8\r\nEND-MARK\r\n'));
    return { histogram, monitor: monitorText, sleep: r.received().subarray(from2).toString('latin1') };
  } finally {
    r.end();
  }
}

const DOCTOR_OFF = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
/** What redis-server 7.0.15 answered to the monitor's subcommands (its latency-monitor-threshold 0, the default). */
const MONITOR_REPLIES = `*0\r\n*0\r\n-ERR No samples available for event 'command'\r\n:0\r\n:0\r\n$${DOCTOR_OFF.length}\r\n${DOCTOR_OFF}\r\n` +
  "-ERR wrong number of arguments for 'latency|latest' command\r\n-ERR unknown subcommand 'BOGUS'. Try LATENCY HELP.\r\n$8\r\nEND-MARK\r\n";

/**
 * Redis's LATENCY HISTOGRAM bounds: level 1024·2^k ns read as the highest value of its HdrHistogram slot (2^(k+3) ns
 * wide), in whole µs (1, 2, 4, 8, 16, 33, 66, ...); past the last slot (2^30 ns), that slot's highest value.
 */
const REDIS_BOUNDS = [...Array.from({ length: 20 }, (_, k) => Math.floor((1032 * 2 ** k - 1) / 1000)), 1073741];

/** LATENCY HISTOGRAM's reply for SCRIPT: set's 4 calls, then client's subcommand called (CLIENT itself was only refused). */
function checkHistogram(histogram: string): void {
  const m = /^\*4\r\n\$3\r\nset\r\n\*4\r\n\$5\r\ncalls\r\n:4\r\n\$14\r\nhistogram_usec\r\n\*(\d+)\r\n((?::\d+\r\n)+)\$11\r\nclient\|list\r\n\*4\r\n\$5\r\ncalls\r\n:1\r\n\$14\r\nhistogram_usec\r\n\*2\r\n:\d+\r\n:1\r\n$/.exec(histogram);
  assert.ok(m, histogram);
  const pairs = m[2]!.split('\r\n').filter((x) => x !== '').map((x) => Number(x.slice(1)));
  assert.equal(pairs.length, Number(m[1]));
  const bounds = pairs.filter((_, i) => i % 2 === 0);
  const cumulative = pairs.filter((_, i) => i % 2 === 1);
  assert.ok(bounds.every((b) => REDIS_BOUNDS.includes(b)), `bounds ${bounds} are Redis's power-of-two ones`);
  assert.ok(cumulative.every((c, i) => i === 0 || c > cumulative[i - 1]!), 'cumulative counts grow');
  assert.equal(cumulative.at(-1), 4, 'the last bound counts every call');
}

/** DEBUG SLEEP 0.04's one call: at a single bound, Redis's, past 40 ms. */
function checkSleep(reply: string): void {
  const m = /^\+OK\r\n\*2\r\n\$5\r\ndebug\r\n\*4\r\n\$5\r\ncalls\r\n:1\r\n\$14\r\nhistogram_usec\r\n\*2\r\n:(\d+)\r\n:1\r\n\$8\r\nEND-MARK\r\n$/.exec(reply);
  assert.ok(m, reply);
  const bound = Number(m[1]);
  assert.ok(REDIS_BOUNDS.includes(bound) && bound >= 40_000, `bound ${bound} is one of Redis's, past 40 ms`);
}

test('LATENCY HISTOGRAM counts and bounds as Redis 7.0; the latency monitor answers as Redis\'s when off', async () => {
  const s = await serve();
  try {
    const { histogram, monitor, sleep } = await latencyReplies(s.port);
    checkHistogram(histogram);
    checkSleep(sleep);
    assert.equal(monitor, MONITOR_REPLIES);
  } finally {
    await s.stop();
  }
});

test('INFO commandstats and errorstats: the same counts from redis-server', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis) => {
  assert.deepEqual((await counts(redis.port)).counts, [...REDIS_COUNTS].sort());
  const { histogram, monitor, sleep } = await latencyReplies(redis.port);
  checkHistogram(histogram);
  checkSleep(sleep);
  assert.equal(monitor, MONITOR_REPLIES);
}, ['--enable-debug-command', 'yes']));

/** A reply as text: errors as `-message`, bulk strings as text, arrays as JSON. */
function text(v: RespValue): string {
  return Array.isArray(v) ? JSON.stringify(plainReply(v)) : String(plainReply(v));
}

const PERCENTILES = 'latency-tracking-info-percentiles';
const INVALID = `-ERR CONFIG SET failed (possibly related to argument '${PERCENTILES}') - Invalid ${PERCENTILES} parameters`;
const OUTSIDE = `-ERR CONFIG SET failed (possibly related to argument '${PERCENTILES}') - ${PERCENTILES} parameters should sit between [0.0,100.0]`;

/**
 * CONFIG SET latency-tracking and latency-tracking-info-percentiles, and what INFO latencystats and LATENCY
 * HISTOGRAM show then: each request, and what redis-server 7.0.15 answered (INFO's get line with its times `N`).
 */
const TRACKING: Array<[request: string[], redis: string]> = [
  [['CONFIG', 'GET', PERCENTILES], `["${PERCENTILES}","50 99 99.9"]`],
  // strtod's syntax (exponents, hexadecimal, a sign, a bare point); -0 is 0 to hdr_value_at_percentile, 1e-7 is not.
  [['CONFIG', 'SET', PERCENTILES, '50 90.5 99 0 100 99.99 -0 1e-7 0x10 +5. 99.9999999'], 'OK'],
  [['CONFIG', 'GET', PERCENTILES], `["${PERCENTILES}","50 90.5 99 0 100 99.99 -0 0 16 5 100"]`],
  [['SET', 'a', '1'], 'OK'],
  [['GET', 'a'], '1'],
  [['INFO', 'latencystats'], 'latency_percentiles_usec_get:p50=N,p90.5=N,p99=N,p0=N,p100=N,p99.99=N,p-0=N,p0=N,p16=N,p5=N,p100=N'],
  ...['abc', '  50', '50 ', 'nan', '1e-400', '1e400', '50 x'].map((v): [string[], string] => [['CONFIG', 'SET', PERCENTILES, v], INVALID]),
  ...['101', 'inf', '-1', '50 100.0000001'].map((v): [string[], string] => [['CONFIG', 'SET', PERCENTILES, v], OUTSIDE]),
  [['CONFIG', 'GET', PERCENTILES], `["${PERCENTILES}","50 90.5 99 0 100 99.99 -0 0 16 5 100"]`], // unchanged
  [['CONFIG', 'SET', PERCENTILES, ''], 'OK'],
  [['CONFIG', 'GET', PERCENTILES], `["${PERCENTILES}",""]`],
  [['INFO', 'latencystats'], 'latency_percentiles_usec_get:'],
  [['CONFIG', 'SET', 'latency-tracking', 'NO'], 'OK'],
  [['CONFIG', 'GET', 'latency-tracking'], '["latency-tracking","no"]'],
  [['SET', 'b', '2'], 'OK'], // not recorded: set has 1 call in its histogram, and none in INFO
  [['INFO', 'latencystats'], ''],
  [['LATENCY', 'HISTOGRAM', 'set'], '["set",["calls",1,"histogram_usec",["N","N"]]]'],
  [['CONFIG', 'SET', 'latency-tracking', 'maybe'], "-ERR CONFIG SET failed (possibly related to argument 'latency-tracking') - argument must be 'yes' or 'no'"],
  [['CONFIG', 'SET', 'latency-tracking', 'Yes', PERCENTILES, '50'], 'OK'],
  // One name per CONFIG GET: Redis answers several in the order of a dict, which varies from run to run.
  [['CONFIG', 'GET', 'latency-tracking'], '["latency-tracking","yes"]'],
  [['CONFIG', 'GET', PERCENTILES], `["${PERCENTILES}","50"]`],
];

/** TRACKING's replies (INFO's: the get line, its times masked), and the times of the first INFO's get line. */
async function tracking(port: number): Promise<{ replies: string[]; times: number[] }> {
  const c = await SimpleConn.open('127.0.0.1', port);
  try {
    await c.call(['CONFIG', 'RESETSTAT']);
    const replies: string[] = [];
    let times: number[] = [];
    for (const [request] of TRACKING) {
      const reply = text(await c.call(request));
      if (request[0] === 'INFO') {
        const line = reply.split('\r\n').find((l) => l.startsWith('latency_percentiles_usec_get:')) ?? '';
        if (times.length === 0) times = [...line.matchAll(/=(\d+\.\d+)/g)].map((m) => Number(m[1]));
        replies.push(line.replace(/=\d+\.\d+/g, '=N'));
      } else {
        replies.push(request[0] === 'LATENCY' ? reply.replace(/\[\d+,\d+\]/, '["N","N"]') : reply);
      }
    }
    return { replies, times };
  } finally {
    c.close();
  }
}

/**
 * The first INFO's times: one GET, so p0 and p-0 are its slot's lowest value, every other percentile its highest.
 * `distinct`: the two differ, as they do once the GET took 256 ns or more (a slot of more than 1 ns: the cluster's
 * round; Redis times a GET in whole µs, and might count 0).
 */
function checkTimes(times: number[], distinct: boolean): void {
  assert.equal(times.length, 11);
  const [p50, , , p0, , , minus0, tiny] = times as [number, number, number, number, number, number, number, number];
  assert.ok((distinct ? p0 < p50 : p0 <= p50) && p0 === minus0, `lowest ${p0}, ${minus0}; highest ${p50}`);
  assert.deepEqual(times.filter((_, i) => i !== 3 && i !== 6), Array(9).fill(p50));
  assert.equal(tiny, p50, '1e-7 is not 0');
}

test('CONFIG SET latency-tracking and latency-tracking-info-percentiles: INFO latencystats and LATENCY HISTOGRAM follow them, as Redis 7.0', async () => {
  const s = await serve();
  try {
    const { replies, times } = await tracking(s.port);
    TRACKING.forEach(([request, redis], i) => assert.equal(replies[i], redis, request.join(' ')));
    checkTimes(times, true);
  } finally {
    await s.stop();
  }
});

test('CONFIG SET latency-tracking and latency-tracking-info-percentiles: the same replies from redis-server', { skip: onPath('redis-server') ? false : NO_REDIS }, () => againstRedis(async (redis) => {
  const { replies, times } = await tracking(redis.port);
  TRACKING.forEach(([request, expected], i) => assert.equal(replies[i], expected, request.join(' ')));
  checkTimes(times, false);
}));
