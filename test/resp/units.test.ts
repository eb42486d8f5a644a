// Small pieces of the RESP layer on their own: Redis's integer syntax, keywords, the bounded SCAN cursor table,
// the unknown-command text, the cluster error mapping, option checks, the command table's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterError, ErrorCode } from '../../src/index.js';
import { keyword, parseInt64, parseInteger } from '../../src/resp/args.js';
import { CursorTable } from '../../src/resp/context.js';
import { clusterError, unknownCommand } from '../../src/resp/errors.js';
import { openFilesLimit } from '../../src/resp/descriptors.js';
import { COMMANDS, resolveRespOptions } from '../../src/resp/index.js';
import { bytesToHuman } from '../../src/resp/commands/server.js';
import * as hdr from 'hdr-histogram-js';
import { CommandStats, nsSlot, nsSlotRange } from '../../src/resp/command-stats.js';
import { mulberry32 as rng } from '../../src/util/random.js';
import { ErrorReply } from '../../src/resp/reply.js';

test("parseInteger reads Redis's string2ll syntax within the safe integers", () => {
  const p = (s: string): number | null => parseInteger(Buffer.from(s));
  assert.equal(p('0'), 0);
  assert.equal(p('-12'), -12);
  assert.equal(p('9007199254740991'), 9007199254740991);
  for (const bad of ['', '-', '+1', '01', '-0', ' 1', '1 ', '1.5', '1e3', '9007199254740992', '99999999999999999999']) assert.equal(p(bad), null, bad);
});

test('parseInt64 reads the same syntax within 64 bits', () => {
  const p = (s: string): bigint | null => parseInt64(Buffer.from(s));
  assert.equal(p('0'), 0n);
  assert.equal(p('9223372036854775807'), 2n ** 63n - 1n);
  assert.equal(p('-9223372036854775808'), -(2n ** 63n));
  for (const bad of ['', '-', '+1', '01', '-0', ' 1', '1.5', '9223372036854775808', '-9223372036854775809', '123456789012345678901']) assert.equal(p(bad), null, bad);
});

test("bytesToHuman prints INFO's *_human fields as Redis 7.0.15 does (these pairs read from its INFO memory)", () => {
  const redis: Array<[number, string]> = [
    [0, '0B'], [1000, '1000B'], [1024, '1.00K'], [1152, '1.12K'], [1153, '1.13K'], [1179, '1.15K'], [1408, '1.38K'],
    [3_000_000, '2.86M'], [1_073_741_824, '1.00G'], [1_610_612_736, '1.50G'], [5_000_000_000_000, '4.55T'],
  ];
  for (const [n, text] of redis) assert.equal(bytesToHuman(n), text, String(n));
});

test("nsSlot and nsSlotRange lay values out as HdrHistogram (1 ns to 1 s, 2 significant digits): hdr-histogram-js's equivalent ranges", () => {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e9, numberOfSignificantValueDigits: 2, useWebAssembly: false }) as hdr.JsHistogram;
  const values = Array.from({ length: 20_000 }, (_, i) => i + 1);
  const random = rng(51);
  for (let i = 0; i < 20_000; i++) values.push(1 + Math.floor(random() ** 3 * 1e9));
  values.push(2 ** 29 - 1, 2 ** 29, 1e9, 2 ** 30 - 1);
  for (const v of values) assert.deepEqual(nsSlotRange(nsSlot(v)), [h.lowestEquivalentValue(v), h.highestEquivalentValue(v)], String(v));
});

test("CommandStats: latencies in Redis's HdrHistogram (1 ns to 1 s, 2 significant digits), its percentiles and LATENCY HISTOGRAM's levels", () => {
  const s = new CommandStats();
  // 500 ns is in [500, 501]; 3000 in [2992, 3007]; 3100 in [3088, 3103]; 10000 in [9984, 10047]; 1.5 ms in [1499136, 1507327].
  for (const ms of [0.0005, 0.003, 0.0031, 1.5]) s.called('get', ms, 'v');
  s.called('get', 0.01, new ErrorReply('WRONGTYPE no'));
  s.rejected('get', new ErrorReply('ERR wrong number of arguments'));
  s.rejected(undefined, new ErrorReply('ERR unknown command'));
  // Levels 1024·2^k ns, each counted up to its slot's highest value: 1031 (1 µs), 4127 (4), 16511 (16), 2113535 (2113).
  assert.deepEqual(s.histograms(undefined), [{ name: 'get', calls: 5, buckets: [[1, 1], [4, 3], [16, 4], [2113, 5]] }]);
  assert.deepEqual(s.histograms(['set']), []);
  // p50 is the 3rd of 5 values (2.5 rounded half up), p99 and p99.9 the 5th.
  assert.deepEqual(s.latencystats(), [['latency_percentiles_usec_get', 'p50=3.103,p99=1507.327,p99.9=1507.327']]);
  assert.deepEqual(s.commandstats(), [['cmdstat_get', 'calls=5,usec=1517,usec_per_call=303.32,rejected_calls=1,failed_calls=1']]);
  assert.deepEqual(s.errorstats(), [['errorstat_ERR', 'count=2'], ['errorstat_WRONGTYPE', 'count=1']]);
  assert.equal(s.errorReplies, 3);
  // hdr_value_at_percentile rounds the count half up, not up: p99 of 60 values is the 59th (59.4 + 0.5), p50 of 4 the 2nd.
  const r = new CommandStats();
  for (let i = 1; i <= 60; i++) r.called('ping', i / 1e6, 'PONG'); // 1..60 ns, a slot each
  assert.deepEqual(r.latencystats(), [['latency_percentiles_usec_ping', 'p50=0.030,p99=0.059,p99.9=0.060']]);
  // Times are clamped to [1 ns, 1 s]: 1 s is in [998244352, 1002438655]; a level past the last slot (2^30 ns) reports
  // that slot's highest value, 1073741823 ns, with every count.
  const u = new CommandStats();
  u.called('ping', 0, 'PONG');
  u.called('ping', Infinity, 'PONG');
  u.called('ping', 2 ** 60 / 1e6, 'PONG');
  assert.deepEqual(u.latencystats(), [['latency_percentiles_usec_ping', 'p50=1002438.655,p99=1002438.655,p99.9=1002438.655']]);
  assert.deepEqual(u.histograms(undefined), [{ name: 'ping', calls: 3, buckets: [[1, 1], [1073741, 3]] }]);
  s.reset();
  assert.deepEqual([s.commandstats(), s.errorstats(), s.errorReplies], [[], [], 0]);
});

test('keyword compares ASCII case-insensitively', () => {
  assert.ok(keyword(Buffer.from('ex'), 'EX'));
  assert.ok(keyword(Buffer.from('KeepTtl'), 'KEEPTTL'));
  assert.ok(!keyword(Buffer.from('exx'), 'EX'));
  assert.ok(!keyword(undefined, 'EX'));
});

test('the SCAN cursor table is bounded: the oldest cursor is forgotten first; a cursor can be read again', () => {
  const t = new CursorTable(3);
  const ids = ['a', 'b', 'c', 'd'].map((c) => t.add(c, Buffer.alloc(0)));
  assert.equal(t.size, 3);
  assert.equal(t.get(ids[0]!), undefined);
  assert.equal(t.get(ids[3]!)?.cursor, 'd');
  assert.equal(t.get(ids[3]!)?.cursor, 'd');
  assert.ok(ids.every((id) => id > 0), 'never 0: 0 ends a scan');
});

test("the unknown-command reply quotes the arguments as Redis does, bounded to 128 characters", () => {
  assert.equal(unknownCommand([Buffer.from('foo')]).text, "ERR unknown command 'foo', with args beginning with: ");
  assert.equal(unknownCommand([Buffer.from('foo'), Buffer.from('a'), Buffer.from('b c')]).text, "ERR unknown command 'foo', with args beginning with: 'a' 'b c' ");
  const long = unknownCommand([Buffer.from('x'), ...Array.from({ length: 100 }, () => Buffer.from('abcdefgh'))]).text;
  assert.ok(long.length < 300);
});

test('cluster errors map to a Redis prefix and the stable code', () => {
  const e = (code: ErrorCode): string => clusterError(new ClusterError(code, 'msg')).text;
  assert.equal(e(ErrorCode.BUSY), 'TRYAGAIN BUSY msg');
  assert.equal(e(ErrorCode.NO_QUORUM), 'CLUSTERDOWN NO_QUORUM msg');
  assert.equal(e(ErrorCode.CLUSTER_STOPPED), 'CLUSTERDOWN CLUSTER_STOPPED msg');
  assert.equal(e(ErrorCode.TIMEOUT), 'ERR TIMEOUT msg');
  assert.equal(e(ErrorCode.NOT_INTEGER), 'ERR value is not an integer or out of range');
  assert.equal(clusterError(new Error('boom')).text, 'ERR INTERNAL boom');
});

test('server options: defaults, and refusals', () => {
  const o = resolveRespOptions();
  assert.equal(o.port, 6379);
  assert.equal(o.host, '127.0.0.1');
  assert.equal(o.maxBulkBytes, 64 * 1024 * 1024);
  assert.throws(() => resolveRespOptions({ port: 70000 }), /port must be an integer/);
  assert.throws(() => resolveRespOptions({ requirepass: '' }), /requirepass must be a non-empty string/);
  assert.equal(o.shutdown, undefined);
  assert.throws(() => resolveRespOptions({ shutdown: 'exit' as unknown as () => void }), /shutdown must be a function/);
});

test('the command table: lower-case names, Redis arities, every command of issue 14', () => {
  const want = [
    'ping', 'echo', 'hello', 'auth', 'client', 'select', 'command', 'info', 'dbsize', 'flushdb', 'flushall', 'quit', 'reset',
    'get', 'set', 'setnx', 'setex', 'psetex', 'getset', 'getdel', 'getex', 'mget', 'mset', 'msetnx', 'incr', 'decr', 'incrby',
    'decrby', 'append', 'strlen', 'del', 'unlink', 'exists', 'expire', 'pexpire', 'expireat', 'pexpireat', 'ttl', 'pttl',
    'persist', 'type', 'keys', 'scan', 'multi', 'exec', 'discard', 'watch', 'unwatch', 'readonly', 'readwrite',
  ];
  for (const name of want) assert.ok(COMMANDS.has(name), name);
  for (const [name, c] of COMMANDS) {
    assert.equal(name, name.toLowerCase());
    assert.ok(c.arity !== 0 && Math.abs(c.arity) >= 1);
  }
  assert.equal(COMMANDS.get('get')!.arity, 2);
  assert.equal(COMMANDS.get('set')!.arity, -3);
});

test('openFilesLimit reads the soft limit of /proc/<pid>/limits; unlimited or missing is undefined', () => {
  const limits = (soft: string, hard: string): string =>
    `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             95651                95651                processes \nMax open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     \nMax locked memory         8388608              8388608              bytes     \n`;
  assert.equal(openFilesLimit(limits('1024', '4096')), 1024);
  assert.equal(openFilesLimit(limits('unlimited', 'unlimited')), undefined);
  assert.equal(openFilesLimit('Limit Soft Limit\n'), undefined);
  assert.equal(typeof openFilesLimit(), 'number', 'this Linux machine has /proc/self/limits');
});
